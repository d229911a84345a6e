"""The two errors a service raises for the user to read (floor 0).

Handlers never catch them one by one: server/web.py maps `FormError` to 422 (the form again,
each message beside its field) and `Conflict` to 409 (the page or fragment with the message).
"""

from __future__ import annotations


class FormError(Exception):
    """Invalid input: `errors` maps field name → message shown beside the field."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class Conflict(Exception):
    """The request cannot apply to the record in its current state (the message is shown to
    the user, e.g. "检查已提交，不能修改")."""
