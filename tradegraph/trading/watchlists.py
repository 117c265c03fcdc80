"""Watchlists: per user (another user's is NOT_FOUND, whatever the caller's role); symbols kept
in the order given, each once, every one a known instrument."""

from __future__ import annotations

from datetime import UTC, datetime

from tradegraph.auth.principal import Principal
from tradegraph.documents import Watchlist
from tradegraph.documents.lookup import by_id
from tradegraph.errors import InvalidInput, NotFound
from tradegraph.markets.instruments import Instruments, normalise_symbol
from tradegraph.markets.quotes import MarketData, Quote
from tradegraph.trading.owner_caps import give_back_slot, slot_for

MAX_WATCHLISTS = 50
MAX_SYMBOLS = 200
MAX_NAME = 100


def clean_name(name: str) -> str:
    name = name.strip()
    if not 0 < len(name) <= MAX_NAME:
        raise InvalidInput(f"name must be 1 to {MAX_NAME} characters", field="name")
    return name


class Watchlists:
    def __init__(self, instruments: Instruments, market: MarketData) -> None:
        self.instruments = instruments
        self.market = market

    async def all_of(self, principal: Principal) -> list[Watchlist]:
        """The caller's watchlists, oldest first."""
        query = Watchlist.find(Watchlist.owner_id == principal.user_id)
        return await query.sort("created_at", "_id").to_list()

    async def get(self, principal: Principal, watchlist_id: str) -> Watchlist:
        found = await by_id(Watchlist, watchlist_id)
        if found is None or found.owner_id != principal.user_id:
            raise NotFound(f"watchlist {watchlist_id} not found", watchlist_id=watchlist_id)
        return found

    async def create(self, principal: Principal, name: str, symbols: list[str]) -> Watchlist:
        name = clean_name(name)
        known = await self._symbols(symbols)
        owner = principal.user_id
        stored = Watchlist.find(Watchlist.owner_id == owner).count
        async with slot_for("watchlists", owner, MAX_WATCHLISTS, stored):
            now = datetime.now(UTC)
            watchlist = Watchlist(
                owner_id=owner, name=name, symbols=known, created_at=now, updated_at=now
            )
            await watchlist.insert()
        return watchlist

    async def update(
        self,
        principal: Principal,
        watchlist_id: str,
        name: str | None = None,
        symbols: list[str] | None = None,
    ) -> Watchlist:
        """Renames and/or sets the symbols (the whole list, in the new order)."""
        watchlist = await self.get(principal, watchlist_id)
        changes: dict[str, object] = {"updated_at": datetime.now(UTC)}
        if name is not None:
            changes["name"] = clean_name(name)
        if symbols is not None:
            changes["symbols"] = await self._symbols(symbols)
        await watchlist.set(changes)
        return watchlist

    async def delete(self, principal: Principal, watchlist_id: str) -> bool:
        watchlist = await self.get(principal, watchlist_id)
        deleted = await Watchlist.find(Watchlist.id == watchlist.id).delete()
        if deleted is not None and deleted.deleted_count == 1:  # a concurrent delete: once
            await give_back_slot("watchlists", watchlist.owner_id)
        return True

    async def quotes(self, watchlist: Watchlist) -> list[Quote]:
        """The last quote of each symbol, in the watchlist's order (symbols never quoted are
        left out)."""
        latest = await self.market.latest_many(watchlist.symbols)
        return [latest[s] for s in watchlist.symbols if s in latest]

    async def _symbols(self, symbols: list[str]) -> list[str]:
        if len(symbols) > MAX_SYMBOLS:
            raise InvalidInput(f"at most {MAX_SYMBOLS} symbols per watchlist", field="symbols")
        names = list(dict.fromkeys(normalise_symbol(s) for s in symbols))
        for name in names:
            await self.instruments.require(name)  # unknown: NOT_FOUND naming the symbol
        return names
