"""The authenticated caller of a request."""

from __future__ import annotations

from dataclasses import dataclass

from tradegraph.documents import Role, User


@dataclass(frozen=True)
class Principal:
    user_id: str
    email: str
    role: Role

    @classmethod
    def of(cls, user: User) -> Principal:
        """The principal of a stored user: its current email and role."""
        return cls(user_id=str(user.id), email=user.email, role=user.role)

    @property
    def sees_all_events(self) -> bool:
        return self.role in (Role.ADMIN, Role.ANALYST)
