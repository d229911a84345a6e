"""Jinja globals and filters: vocabularies, local time, masking. Wiring (floor 4): only app.py
imports it."""

from __future__ import annotations

from jinja2 import pass_context
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.base import csrf_token
from markupsafe import Markup, escape

from server import clock, vocab
from server.campaign.checklist import FOCUS_AREAS
from server.ledger.cells import stat_cells
from server.ledger.columns import BY_NUMBER as STAT_COLUMNS
from server.registry.ids import mask_id_number


def label(value: str | None, choice: str) -> str:
    return getattr(vocab, choice).label_of(value)


@pass_context
def csrf(context: object) -> Markup:
    """The form's hidden CSRF field, `{{ csrf() }}` in any template. A global rather than a
    macro: importing a macro `with context` (which it would need for the token) builds the
    macros module again on every render of every page."""
    return Markup('<input type="hidden" name="_csrf_token" value="%s">' % escape(csrf_token(context)))


def make_template_engine(engine: JinjaTemplateEngine) -> None:
    env = engine.engine
    env.globals.update(csrf=csrf, vocab=vocab, FOCUS_AREAS=FOCUS_AREAS, STAT_COLUMNS=STAT_COLUMNS,
                       stat_cells=stat_cells)
    env.filters.update(local_dt=clock.local_dt, label=label, mask_id=mask_id_number)
    env.tests["startswith"] = lambda value, prefix: str(value).startswith(prefix)
    env.trim_blocks = True
    env.lstrip_blocks = True
    # Macro libraries as globals, made once: `macros` (_macros.html) and `guard_file`
    # (registry/_guard_file.html), for the card page and the scans — the busiest pages — where
    # `{% from … import … %}` cost every render a pass over all globals (Jinja's
    # Template._get_default_module) and an include a copy of the context: together a fifth of
    # the card page's template time.
    env.globals.update(macros=env.get_template("_macros.html").module,
                       guard_file=env.get_template("registry/_guard_file.html").module)
