"""Routes of this capability (filled in by its issue)."""

route_handlers: list = []
