"""The matching engine's order book: every open order in memory, per symbol in time priority,
with the few fields that decide whether a quote can touch it.

The store stays the source of truth. The book only spares the engine a query per quote (the
embedded store answers `{symbol, status}` by scanning the whole orders collection): it names
the orders a quote may act on, the engine reads those by id and still matches with a
compare-and-set on the stored order. It is filled from the store once, on first use, and kept
current by every order change that goes through `Execution` (each compare-and-set reports the
order as it now is). Only a process that owns its store may keep one: with a MongoDB server
shared by several processes, an order placed elsewhere would be missing, so the engine reads
the store instead (see services.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from beanie import PydanticObjectId

from tradegraph.documents import Order, OrderStatus, OrderType, Side
from tradegraph.documents.orders import OPEN_STATUSES
from tradegraph.trading.matching import to_stored_precision


@dataclass(frozen=True, slots=True)
class RestingOrder:
    """What the book keeps of an open order: its priority and what says whether a quote can
    change it. None of these fields changes while an order is open except `triggered`, which
    only a compare-and-set changes (and so reports)."""

    id: PydanticObjectId
    symbol: str
    created_at: datetime
    side: Side
    type: OrderType
    limit_price: Decimal | None
    stop_price: Decimal | None
    triggered: bool
    expires_at: datetime | None
    version: int

    @classmethod
    def of(cls, order: Order) -> RestingOrder:
        assert order.id is not None
        return cls(
            order.id,
            order.symbol,
            to_stored_precision(order.created_at),  # as the store sorts it (milliseconds)
            order.side,
            order.type,
            order.limit_price,
            order.stop_price,
            order.triggered,
            order.expires_at,
            order.version,
        )

    @property
    def priority(self) -> tuple[datetime, PydanticObjectId]:
        """Time priority, as the engine's store query sorted: oldest first, then by id."""
        return self.created_at, self.id

    def may_act(self, bid: Decimal, ask: Decimal) -> bool:
        """False only when matching against this quote would certainly do nothing: a limit not
        crossed at the touch (deeper levels only move the price away from it), or a stop that
        has not triggered and is not reached. MARKET orders and trailing stops always act."""
        is_buy = self.side is Side.BUY
        if self.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not self.triggered:
            assert self.stop_price is not None
            # Reached: it triggers on this quote, and the engine decides the rest.
            return ask >= self.stop_price if is_buy else bid <= self.stop_price
        if self.type in (OrderType.LIMIT, OrderType.STOP_LIMIT):
            assert self.limit_price is not None
            return ask <= self.limit_price if is_buy else bid >= self.limit_price
        return True


class OrderBook:
    """Open orders by symbol. `note` every changed order; `candidates` per quote."""

    def __init__(self) -> None:
        self._by_symbol: dict[str, dict[PydanticObjectId, RestingOrder]] = {}
        # Replacements handed over to but not yet live: crash recovery may make one live
        # without a compare-and-set, so each quote reads them until they are seen live or gone.
        self._pending: dict[str, set[PydanticObjectId]] = {}
        self._loaded = False
        self._generation = 0  # a reload during a load's query makes that load's result void
        # Changes heard while the load's query runs: applied over what it read (newer).
        self._heard_while_loading: (
            dict[PydanticObjectId, tuple[str, RestingOrder | None]] | None
        ) = None

    async def _ensure_loaded(self) -> None:
        if self._loaded:
            return
        if self._heard_while_loading is not None:  # another caller is loading: read meanwhile
            return
        self._heard_while_loading = {}
        generation = self._generation
        try:
            statuses = [*OPEN_STATUSES, OrderStatus.PENDING_NEW.value]
            found = await Order.find({"status": {"$in": statuses}}).to_list()
            by_symbol: dict[str, dict[PydanticObjectId, RestingOrder]] = {}
            for order in found:
                if not order.status.is_open:
                    if order.replaces_id is not None and order.id is not None:
                        self._pending.setdefault(order.symbol, set()).add(order.id)
                    continue
                entry = RestingOrder.of(order)
                by_symbol.setdefault(entry.symbol, {})[entry.id] = entry
            for order_id, (symbol, heard) in self._heard_while_loading.items():
                orders = by_symbol.setdefault(symbol, {})
                if heard is None:
                    orders.pop(order_id, None)
                else:
                    orders[order_id] = heard
            if generation == self._generation:
                self._by_symbol = by_symbol
                self._loaded = True
        finally:
            self._heard_while_loading = None

    @property
    def loaded(self) -> bool:
        return self._loaded

    def reload(self) -> None:
        """Forgets everything; the next use reads the store again (after crash recovery, which
        may reopen orders without a compare-and-set)."""
        self._loaded = False
        self._by_symbol = {}
        self._pending = {}
        self._generation += 1

    def note(self, order: Order) -> None:
        """An order as a compare-and-set (or an insert) left it: kept when open, else dropped."""
        assert order.id is not None
        if order.status is OrderStatus.REPLACED and order.replaced_by_id is not None:
            self._pending.setdefault(order.symbol, set()).add(order.replaced_by_id)
        if order.status is not OrderStatus.PENDING_NEW:
            self._pending.get(order.symbol, set()).discard(order.id)
        entry = RestingOrder.of(order) if order.status.is_open else None
        if self._heard_while_loading is not None:
            self._heard_while_loading[order.id] = (order.symbol, entry)
        if not self._loaded:
            return
        orders = self._by_symbol.setdefault(order.symbol, {})
        known = orders.get(order.id)
        if known is not None and known.version > order.version:
            return  # an older state heard late
        if entry is None:
            orders.pop(order.id, None)
        else:
            orders[order.id] = entry

    def forget(self, symbol: str, order_ids: list[PydanticObjectId]) -> None:
        """Orders the store no longer holds (deleted): out of the book."""
        orders, pending = self._by_symbol.get(symbol, {}), self._pending.get(symbol, set())
        for order_id in order_ids:
            orders.pop(order_id, None)
            pending.discard(order_id)

    async def candidates(
        self, symbol: str, bid: Decimal, ask: Decimal
    ) -> list[PydanticObjectId] | None:
        """The open orders of `symbol` this quote may act on, in time priority, then pending
        replacements (read them: one may be live by now); None while the book is loading (the
        caller reads the store)."""
        await self._ensure_loaded()
        if not self._loaded:
            return None
        orders = self._by_symbol.get(symbol, {})
        acting = [entry for entry in orders.values() if entry.may_act(bid, ask)]
        acting.sort(key=lambda entry: entry.priority)
        return [entry.id for entry in acting] + sorted(self._pending.get(symbol, ()))

    async def expiring(self, now: datetime) -> list[PydanticObjectId] | None:
        """Open orders whose `expires_at` has passed; None while loading (read the store)."""
        await self._ensure_loaded()
        if not self._loaded:
            return None
        return [
            entry.id
            for orders in self._by_symbol.values()
            for entry in orders.values()
            if entry.expires_at is not None and entry.expires_at <= now
        ]

    def open_ids(self, symbol: str) -> list[PydanticObjectId]:
        """Every open order of `symbol` the book holds, in time priority (tests compare it with
        the store)."""
        orders = sorted(self._by_symbol.get(symbol, {}).values(), key=lambda e: e.priority)
        return [entry.id for entry in orders]
