"""The paper-trading matching engine: resting orders against each new quote, new orders
against the last quote, DAY expiry, and periodic recovery of interrupted steps."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from decimal import Decimal

import structlog

from tradegraph.decimals import currency_places, round_to_step
from tradegraph.documents import Instrument, Order, OrderStatus, OrderType, Side, TimeInForce
from tradegraph.documents.orders import OPEN_STATUSES
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData, Quote
from tradegraph.trading.execution import Execution
from tradegraph.trading.matching import (
    QuoteDepth,
    acts_as_limit,
    affordable_quantity,
    execution_price,
    same_quote,
    stop_reached,
    trailing_state,
)
from tradegraph.trading.order_book import OrderBook
from tradegraph.trading.settlement import recover

log = structlog.get_logger(__name__)

RECOVERY_EVERY_SECONDS = 30.0
RESERVATION_SPENT = "the reserved cash does not cover more at the current price; rest cancelled"


class MatchingEngine:
    def __init__(
        self,
        market: MarketData,
        instruments: Instruments,
        execution: Execution,
        fee_bps: Decimal,
        slippage_bps: Decimal,
        book: OrderBook | None = None,
    ) -> None:
        """`book`: open orders kept in memory (a process that owns its store); None: each
        quote reads its symbol's open orders from the store."""
        self.market = market
        self.instruments = instruments
        self.execution = execution
        self.fee_bps = fee_bps
        self.slippage_bps = slippage_bps
        self._depth: dict[str, QuoteDepth] = {}
        # Order classes: before an OCO leg fills, its peers are cancelled and it takes the
        # pair's reservation (None: something moved, re-read and retry).
        self.claim_oco: Callable[[Order], Awaitable[Order | None]] | None = None
        self.recoveries: list[Callable[[], Awaitable[int]]] = []  # run with recover()
        self.book = book
        if book is not None:
            execution.on_changed(book.note)

    async def on_quote(self, quote: Quote) -> None:
        """Called with the symbol's lock held, for every quote newer than the last."""
        self._depth[quote.symbol] = QuoteDepth.of(quote)
        for order in await self._resting(quote):
            await self._match(order, quote)

    async def _resting(self, quote: Quote) -> list[Order]:
        """The symbol's open orders this quote may act on, oldest first: named by the book and
        read by id, or (no book, or while it loads) all of them from the store."""
        book = self.book
        ids = None if book is None else await book.candidates(quote.symbol, quote.bid, quote.ask)
        if book is None or ids is None:
            resting = Order.find({"symbol": quote.symbol, "status": {"$in": OPEN_STATUSES}})
            return await resting.sort("created_at", "_id").to_list()
        if not ids:
            return []
        found = {o.id: o for o in await Order.find({"_id": {"$in": ids}}).to_list()}
        stored = [found[i] for i in ids if i in found]
        if len(stored) < len(ids):
            book.forget(quote.symbol, [i for i in ids if i not in found])
        for order in stored:
            if order.status is not OrderStatus.PENDING_NEW:  # what the book missed, it learns
                book.note(order)
        live = [order for order in stored if order.status.is_open]
        live.sort(key=lambda order: (order.created_at, order.id))  # a replacement among them
        return live

    async def match_new(self, order: Order) -> Order:
        """Matches a just-activated order against the last quote; IOC/FOK never rest."""
        async with self.market.lock(order.symbol):
            if self.book is not None:
                self.book.note(order)  # an order made open without a compare-and-set here
            quote = await self.market.latest(order.symbol)
            if quote is not None:
                if not same_quote(self._depth.get(order.symbol), quote):
                    self._depth[order.symbol] = QuoteDepth.of(quote)
                await self._match(order, quote)
            current = await Order.get(order.id)
            assert current is not None
            if current.status.is_open and current.time_in_force in (
                TimeInForce.IOC,
                TimeInForce.FOK,
            ):
                ended = await self.execution.end(
                    current,
                    OrderStatus.CANCELED,
                    f"{current.time_in_force.value}: could not fill at once; rest cancelled",
                )
                current = ended or await Order.get(order.id) or current
            return current

    async def _match(self, order: Order, quote: Quote) -> None:
        for _ in range(3):  # the order may change under us (a cancel): re-read and retry
            if await self._try(order, quote):
                return
            fresh = await Order.get(order.id)
            if fresh is None or not fresh.status.is_open:
                return
            order = fresh

    async def _try(self, order: Order, quote: Quote) -> bool:
        """One matching attempt; False when the order's version moved on meanwhile."""
        if order.type in (OrderType.STOP, OrderType.STOP_LIMIT) and not order.triggered:
            if not stop_reached(order, quote.bid, quote.ask):
                return True
            triggered = await self.execution.mark_triggered(order)
            if triggered is None:
                return False
            order = triggered
        if order.type is OrderType.TRAILING_STOP and not order.triggered:
            mark, reached = trailing_state(order, quote.bid, quote.ask)
            if not reached:
                if mark == order.high_water_mark:
                    return True
                return await self.execution.move_mark(order, mark) is not None
            fired = await self.execution.mark_triggered(order, mark)
            if fired is None:
                return False
            order = fired
        instrument = await self.instruments.require(order.symbol)
        depth = self._depth[order.symbol]
        bid, ask = depth.touch(order.side, quote.bid, quote.ask)
        price = execution_price(order, bid, ask, self.slippage_bps, instrument.tick_size)
        if price is None:
            return True
        if order.oco_group and self.claim_oco is not None:
            # Only a leg that can trade now claims the pair (and cancels its peers).
            available, _ = self._quantity(order, price, instrument, by_reservation=False)
            if available <= 0:
                return True
            claimed = await self.claim_oco(order)
            if claimed is None or not claimed.status.is_open:
                return False
            order = claimed
        quantity, cap_reason = self._quantity(order, price, instrument)
        remaining = order.quantity - order.filled_quantity
        # Market-priced orders walk the book; limit orders wait at their price.
        walks_on = (
            not acts_as_limit(order)
            and quantity == depth.left(order.side)
            and depth.can_walk(order.side)
        )
        whole = walks_on and depth.available(order.side) >= remaining
        if order.time_in_force is TimeInForce.FOK and quantity < remaining and not whole:
            ended = await self.execution.end(
                order,
                OrderStatus.CANCELED,
                "FOK: the whole quantity was not available at once; nothing traded",
            )
            return ended is not None
        if quantity <= 0:
            if cap_reason is None:
                return True
            return await self.execution.end(order, OrderStatus.CANCELED, cap_reason) is not None
        end_reason = None
        if quantity < remaining:
            if order.time_in_force is TimeInForce.IOC and not (walks_on and cap_reason is None):
                end_reason = "IOC: the unfilled rest was cancelled"
            else:
                end_reason = cap_reason
        filled = await self.execution.fill(
            order, quantity, price, currency_places(instrument.currency), end_reason
        )
        if filled is None:
            return False
        depth.take(order.side, quantity)
        if walks_on and filled.status.is_open and end_reason is None and depth.walk(order.side):
            return await self._try(filled, quote)  # the next price level of the book
        return True

    def walked_ask(self, quote: Quote, quantity: Decimal) -> Decimal:
        """The ask a BUY of `quantity` would walk to on this quote (the touch when the quote
        offers no deeper levels): what a MARKET BUY reserves at."""
        depth = self._depth.get(quote.symbol)
        if depth is None or not same_quote(depth, quote):
            depth = QuoteDepth.of(quote)
        return depth.walked_ask(quote.ask, quantity)

    def _quantity(
        self, order: Order, price: Decimal, instrument: Instrument, by_reservation: bool = True
    ) -> tuple[Decimal, str | None]:
        """How much can fill now, and why an order must stop short of its reservation: a BUY
        when its cash ran out, a SELL never beyond the quantity it holds reserved."""
        quantity = order.quantity - order.filled_quantity
        left = self._depth[order.symbol].left(order.side)
        if left is not None:
            quantity = min(
                quantity, round_to_step(max(left, Decimal(0)), instrument.lot_size, up=False)
            )
        if not by_reservation:
            return quantity, None
        if order.side is Side.SELL and order.reserved < quantity:
            held = round_to_step(max(order.reserved, Decimal(0)), instrument.lot_size, up=False)
            return held, RESERVATION_SPENT
        if order.side is Side.BUY:
            affordable = affordable_quantity(
                order.reserved, price, self.fee_bps, instrument.lot_size
            )
            if affordable < quantity:
                return affordable, RESERVATION_SPENT
        return quantity, None

    async def expire_due(self, now: datetime | None = None) -> int:
        """Expires open DAY orders whose trading day has ended."""
        now = now or datetime.now(UTC)
        ids = None if self.book is None else await self.book.expiring(now)
        if ids is None:
            query = {"status": {"$in": OPEN_STATUSES}, "expires_at": {"$lte": now}}
            due = await Order.find(query).to_list()
        else:
            due = await Order.find({"_id": {"$in": ids}}).to_list() if ids else []
        expired = 0
        for order in due:
            async with self.market.lock(order.symbol):
                fresh = await Order.get(order.id)
                if fresh is not None and fresh.status.is_open:
                    ended = await self.execution.end(
                        fresh, OrderStatus.EXPIRED, "DAY order: the trading day ended"
                    )
                    expired += ended is not None
        return expired

    async def recover(self, now: datetime | None = None) -> int:
        """Completes interrupted steps (settlement, then `recoveries`); how many it touched."""
        touched = await recover(now)
        for recovery in self.recoveries:
            touched += await recovery()
        if touched and self.book is not None:  # it may have reopened orders the book missed
            self.book.reload()
        return touched

    async def run_housekeeping(self, every_seconds: float) -> None:
        """Forever: expire DAY orders every `every_seconds`, recover interrupted steps."""
        last_recovery = 0.0
        loop = asyncio.get_running_loop()
        while True:
            try:
                await self.expire_due()
            except Exception:
                log.exception("expiring DAY orders failed; will retry")
            if loop.time() - last_recovery >= RECOVERY_EVERY_SECONDS:
                last_recovery = loop.time()
                try:
                    await self.recover()
                except Exception:
                    log.exception("recovery failed; will retry")
            await asyncio.sleep(every_seconds)
