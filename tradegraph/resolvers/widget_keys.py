"""Resolvers for widget keys (ADMIN): create (the key is shown once), list, revoke."""

from __future__ import annotations

from strawberry import ID

from tradegraph.schema.core.context import Info
from tradegraph.schema.widget_keys import CreateWidgetKeyInput, WidgetKey


async def create_widget_key(info: Info, input: CreateWidgetKeyInput) -> WidgetKey:
    """A new widget key for pages on `origins` (ADMIN). `key` (wk_…) is in this answer only:
    copy it now. Origins that are not plain scheme://host[:port] are BAD_USER_INPUT; an unknown
    symbol is NOT_FOUND; nothing is stored then."""
    services = info.context.services
    admin = info.context.require_principal(info.field_name)
    stored, key = await services.widget_keys.create(
        input.name,
        input.origins,
        input.symbols,
        admin.user_id,
        services.instruments.require_symbols,
    )
    return WidgetKey.from_document(stored, key)


async def widget_keys(info: Info) -> list[WidgetKey]:
    """Every widget key, newest first, revoked ones included (ADMIN). Keys are not shown."""
    return [WidgetKey.from_document(k) for k in await info.context.services.widget_keys.all()]


async def revoke_widget_key(info: Info, id: ID) -> WidgetKey:
    """Revokes a widget key (ADMIN): within a second every socket using it closes (4403) in
    every process, and requests with it are refused. Unknown id: NOT_FOUND."""
    return WidgetKey.from_document(await info.context.services.widget_keys.revoke(str(id)))
