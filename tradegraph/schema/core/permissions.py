"""Permission classes attached to fields. They raise domain errors; schema/core/errors.py maps
them."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry import Info
from strawberry.permission import BasePermission

from tradegraph.documents import Role
from tradegraph.errors import PermissionDenied


class IsAuthenticated(BasePermission):
    message = "authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        info.context.require_principal(info.field_name)
        return True


class MarketDataReader(BasePermission):
    """A signed-in caller, or a widget key that covers the symbols asked for."""

    message = "authentication required"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        grant = info.context.widget_grant
        if grant is None:
            info.context.require_principal(info.field_name)
            return True
        asked = kwargs.get("symbols") or ([kwargs["symbol"]] if "symbol" in kwargs else [])
        refusal = grant.refusal(info.field_name, asked)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return True


class NoWidgetKey(BasePermission):
    """Open to anyone except a widget key's caller, which reads market data only."""

    message = "forbidden"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        grant = info.context.widget_grant
        refusal = grant.refusal(info.field_name) if grant is not None else None
        if refusal is not None:
            raise PermissionDenied(refusal)
        return True


class _HasRole(BasePermission):
    roles: ClassVar[tuple[Role, ...]] = ()
    message = "forbidden"

    def has_permission(self, source: Any, info: Info, **kwargs: Any) -> bool:
        principal = info.context.require_principal(info.field_name)
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
