"""Permission classes attached to fields. They raise domain errors; schema/errors.py maps them."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry import Info
from strawberry.permission import BasePermission

from tradegraph.documents import Role
from tradegraph.errors import PermissionDenied


class IsAuthenticated(BasePermission):
    message = "authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_principal()
        return True


class _HasRole(BasePermission):
    roles: ClassVar[tuple[Role, ...]] = ()
    message = "forbidden"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.require_principal()
        if principal.role not in self.roles:
            allowed = " or ".join(role.value for role in self.roles)
            raise PermissionDenied(
                f"{info.field_name} requires role {allowed}; you are {principal.role.value}"
            )
        return True


class IsAdmin(_HasRole):
    roles = (Role.ADMIN,)


class IsAnalystOrAdmin(_HasRole):
    roles = (Role.ADMIN, Role.ANALYST)
