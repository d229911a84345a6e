"""Who the request is for, and what part of the district they may see.

This is the one place that turns a user into a scope. Every query that lists or loads
units, sites, guards, inspections or findings for a user goes through `Scope`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from server.vocab import BodyScope, Role


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    display_name: str
    role: str
    body_id: int | None
    body_name: str
    body_scope: str
    body_sector: str | None
    body_township_id: int | None
    session_id: int

    @property
    def role_label(self) -> str:
        return Role.label_of(self.role)

    @property
    def scope(self) -> "Scope":
        if self.role == Role.liaison and self.body_scope != BodyScope.district:
            return Scope(self.body_scope, self.body_sector, self.body_township_id)
        return Scope(BodyScope.district, None, None)


@dataclass(frozen=True)
class Scope:
    kind: str
    sector: str | None
    township_id: int | None

    @property
    def is_district(self) -> bool:
        return self.kind == BodyScope.district

    def where(self, sector_col: Any, township_col: Any) -> Any | None:
        """A Piccolo where-clause limiting rows to this scope, or None for the whole district.
        Pass the sector and township columns of the table (or of a joined unit)."""
        if self.kind == BodyScope.sector:
            return sector_col == self.sector
        if self.kind == BodyScope.township:
            return township_col == self.township_id
        return None

    def admits(self, sector: str | None, township_id: int | None) -> bool:
        if self.kind == BodyScope.sector:
            return sector == self.sector
        if self.kind == BodyScope.township:
            return township_id == self.township_id
        return True
