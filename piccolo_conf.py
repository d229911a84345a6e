"""Piccolo's configuration.

The app installs the engine it built from its own Settings as DB (server/db.py, `install`);
only when Piccolo asks first (its own command line) is DB built here, from the environment.
"""

from piccolo.conf.apps import AppRegistry

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])


def __getattr__(name: str):
    if name != "DB":
        raise AttributeError(name)
    from server.db import make_engine
    from server.settings import Settings

    db = globals()["DB"] = make_engine(Settings.from_env())
    return db
