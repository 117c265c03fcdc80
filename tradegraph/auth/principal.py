"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass

from tradegraph.documents import Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    role: Role

    @property
    def sees_all_events(self) -> bool:
        return self.role in (Role.ADMIN, Role.ANALYST)
