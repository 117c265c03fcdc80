"""Resolvers for watchlists: yours only (another user's is NOT_FOUND)."""

from __future__ import annotations

from strawberry import ID

from tradegraph.schema.core.context import Info
from tradegraph.schema.watchlists import Watchlist


async def watchlists(info: Info) -> list[Watchlist]:
    """Your watchlists, oldest first."""
    found = await info.context.services.watchlists.all_of(info.context.require_principal())
    return [Watchlist.from_document(w) for w in found]


async def watchlist(info: Info, id: ID) -> Watchlist:
    """One of your watchlists; NOT_FOUND for an unknown id or another user's."""
    found = await info.context.services.watchlists.get(info.context.require_principal(), str(id))
    return Watchlist.from_document(found)


async def create_watchlist(info: Info, name: str, symbols: list[str]) -> Watchlist:
    """A new watchlist (name 1 to 100 characters, at most 200 symbols, 50 watchlists). Symbols
    keep their order, each once; an unknown symbol is NOT_FOUND and nothing is stored."""
    created = await info.context.services.watchlists.create(
        info.context.require_principal(), name, symbols
    )
    return Watchlist.from_document(created)


async def update_watchlist(
    info: Info, id: ID, name: str | None = None, symbols: list[str] | None = None
) -> Watchlist:
    """Renames it and/or replaces its symbols (the whole list, in the new order). Same rules
    as createWatchlist; a refused update changes nothing."""
    updated = await info.context.services.watchlists.update(
        info.context.require_principal(), str(id), name, symbols
    )
    return Watchlist.from_document(updated)


async def delete_watchlist(info: Info, id: ID) -> bool:
    """Deletes one of your watchlists; NOT_FOUND for an unknown id or another user's."""
    return await info.context.services.watchlists.delete(info.context.require_principal(), str(id))
