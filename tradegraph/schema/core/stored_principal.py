"""Looks the caller up in the store before every operation executes (HTTP and WebSocket)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from tradegraph.schema.core.context import Context


class StoredPrincipal(SchemaExtension):
    """Replaces what the access token claims with what the store says now: a changed role
    applies within seconds and a deleted account is UNAUTHENTICATED, on every request and on
    every operation of a long-lived WebSocket (whose context is shared by its operations)."""

    async def on_execute(self) -> AsyncIterator[None]:
        context = self.execution_context.context
        if isinstance(context, Context):
            await context.resolve_principal()
        yield
