"""Root fields documented by their resolver's docstring (it becomes the GraphiQL docs), behind
a permission (None: open to anyone but a widget key, which reads market data only)."""

from __future__ import annotations

from collections.abc import Callable
from inspect import getdoc
from typing import Any

import strawberry
from strawberry.permission import BasePermission

from tradegraph.schema.core.permissions import IsAuthenticated, NoWidgetKey

Permission = type[BasePermission] | None


def _permissions(permission: Permission) -> list[type[BasePermission]]:
    return [permission] if permission else [NoWidgetKey]


def query(resolver: Callable[..., Any], permission: Permission = IsAuthenticated) -> Any:
    return strawberry.field(
        resolver=resolver, description=getdoc(resolver), permission_classes=_permissions(permission)
    )


def mutation(resolver: Callable[..., Any], permission: Permission = IsAuthenticated) -> Any:
    return strawberry.mutation(
        resolver=resolver, description=getdoc(resolver), permission_classes=_permissions(permission)
    )


def subscription(resolver: Callable[..., Any], permission: Permission = IsAuthenticated) -> Any:
    return strawberry.subscription(
        resolver=resolver, description=getdoc(resolver), permission_classes=_permissions(permission)
    )
