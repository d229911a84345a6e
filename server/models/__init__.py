"""Floor 1: every Piccolo table of the app, one module per capability.

Tables refer to each other freely here (foreign keys cross capabilities); nothing in this
package imports a capability. Services and routes import the tables they read or write from
here, e.g. ``from server.models.registry import Guard``.
"""
