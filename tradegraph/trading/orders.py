"""OrdersService: placing, cancelling and listing orders (the checks they pass first:
trading/order_rules.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Protocol

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from tradegraph.auth.principal import Principal
from tradegraph.decimals import ZERO, currency_places, fee_of, plain
from tradegraph.documents import (
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Portfolio,
    Side,
    TimeInForce,
)
from tradegraph.documents.lookup import by_id
from tradegraph.errors import (
    AlreadyExists,
    InsufficientFunds,
    InsufficientPosition,
    NotFound,
)
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData
from tradegraph.pagination import Page
from tradegraph.trading.engine import MatchingEngine
from tradegraph.trading.execution import Execution
from tradegraph.trading.matching import initial_mark, reservation_price
from tradegraph.trading.order_listing import OrderQuery, all_orders, count_orders, list_orders
from tradegraph.trading.order_rules import (
    OrderRequest,
    check_order,
    day_end,
    default_time_in_force,
    replayed,
    with_time_in_force,
)
from tradegraph.trading.portfolios import can_read, check_can_change, writable_portfolio
from tradegraph.trading.settlement import (
    apply_to_portfolio,
    portfolio_has_applied,
    reserve_position,
)


class OrderPlan(Protocol):
    """What an order class adds to placing its first order (see trading/order_classes.py)."""

    def check(self, request: OrderRequest, instrument: Instrument, portfolio: Portfolio) -> None:
        """BAD_USER_INPUT before anything is stored."""

    def shape(self, order: Order) -> None:
        """Sets the class fields of the order about to be stored."""

    def reservation(
        self, order: Order, instrument: Instrument, ask: Decimal | None, own: Decimal
    ) -> Decimal:
        """What the order reserves, given what it would reserve alone."""

    async def store_legs(self, order: Order) -> None:
        """Stores the legs once the order holds its reservation, before it can fill."""

    async def activated(self, order: Order) -> None:
        """The order is live (NEW); called before it is first matched."""


class OrdersService:
    def __init__(
        self,
        instruments: Instruments,
        market: MarketData,
        engine: MatchingEngine,
        execution: Execution,
        fee_bps: Decimal,
        slippage_bps: Decimal,
    ) -> None:
        self.instruments = instruments
        self.market = market
        self.engine = engine
        self.execution = execution
        self.fee_bps = fee_bps
        self.slippage_bps = slippage_bps

    async def place(
        self, principal: Principal, request: OrderRequest, plan: OrderPlan | None = None
    ) -> Order:
        """Checks, reserves, stores and matches an order. `plan` (order classes) shapes the
        order before it is stored and stores its legs once the reservation is in place."""
        portfolio = await writable_portfolio(principal, request.portfolio_id)
        instrument = await self.instruments.require(request.symbol)
        request = with_time_in_force(request, instrument)
        check_order(request, instrument, portfolio)
        if plan is not None:
            plan.check(request, instrument, portfolio)
        client_id = request.client_order_id or uuid.uuid4().hex
        order = self.new_order(request, instrument, portfolio, client_id)
        if plan is not None:
            plan.shape(order)
        existing = await self._existing(portfolio.id, client_id)
        if existing is not None:
            return replayed(existing, order)
        quote = await self.market.latest(instrument.symbol)
        ask = self.engine.walked_ask(quote, order.quantity) if quote else None
        reserve = self.reservation(order, instrument, ask)
        if plan is not None and reserve is not None:
            reserve = plan.reservation(order, instrument, ask, reserve)
        if reserve is None:
            order.status = OrderStatus.REJECTED
            order.reject_reason = f"no quote for {instrument.symbol} yet: a MARKET order needs one"
            inserted = await self._insert(order)
            if inserted is order:  # not a repeated clientOrderId
                await self.execution.publish(order)
            return inserted
        order.reserved = reserve
        if order.type is OrderType.TRAILING_STOP and quote is not None:
            order.high_water_mark = initial_mark(order, quote.bid, quote.ask)
        order = await self._insert(order)
        if order.status is not OrderStatus.PENDING_NEW:
            return order  # same clientOrderId placed concurrently: that one stands
        await self._reserve(order, instrument)
        if plan is not None:
            await plan.store_legs(order)  # before it can fill: its fill activates them
        activated = await self.execution.activate(order)
        assert activated is not None  # nobody else touches a PENDING_NEW order this young
        if plan is not None:
            await plan.activated(activated)
        return await self.engine.match_new(activated)

    def new_order(
        self, request: OrderRequest, instrument: Instrument, portfolio: Portfolio, client_id: str
    ) -> Order:
        """The order `request` describes, PENDING_NEW, reserving nothing yet."""
        now = datetime.now(UTC)
        return Order(
            portfolio_id=portfolio.id,
            owner_id=portfolio.owner_id,
            client_order_id=client_id,
            symbol=instrument.symbol,
            side=request.side,
            type=request.type,
            quantity=request.quantity,
            limit_price=request.limit_price,
            stop_price=request.stop_price,
            trail_price=request.trail_price,
            trail_percent=request.trail_percent,
            time_in_force=request.time_in_force or default_time_in_force(instrument),
            status=OrderStatus.PENDING_NEW,
            filled_quantity=ZERO,
            filled_notional=ZERO,
            reserved=ZERO,
            created_at=now,
            updated_at=now,
            expires_at=day_end(instrument, now)
            if request.time_in_force is TimeInForce.DAY
            else None,
        )

    def reservation(
        self,
        order: Order,
        instrument: Instrument,
        ask: Decimal | None,
        quantity: Decimal | None = None,
    ) -> Decimal | None:
        """What `quantity` (default: the order's) reserves. BUY: cash for the notional plus
        fees; SELL: the quantity. None: cannot price it."""
        quantity = order.quantity if quantity is None else quantity
        if order.side is Side.SELL:
            return quantity
        price = reservation_price(order, ask, self.slippage_bps, instrument.tick_size)
        if price is None:
            return None
        notional = quantity * price
        return notional + fee_of(notional, self.fee_bps, currency_places(instrument.currency))

    async def _reserve(self, order: Order, instrument: Instrument) -> None:
        step = f"reserve:{order.id}"
        if order.side is Side.BUY:
            done = await apply_to_portfolio(
                order.portfolio_id, step, ZERO, -order.reserved, require_available=order.reserved
            )
            done = done or await portfolio_has_applied(order.portfolio_id, step)
        else:
            done = await reserve_position(order.portfolio_id, order.symbol, step, order.reserved)
        if done:
            return
        await order.delete()  # a refused order leaves nothing behind
        if order.side is Side.BUY:
            portfolio = await Portfolio.get(order.portfolio_id)
            available = portfolio.available if portfolio else ZERO
            raise InsufficientFunds(
                f"this order needs {plain(order.reserved)} {instrument.currency} (notional plus "
                f"fees); {plain(available)} is available",
                required=plain(order.reserved),
                available=plain(available),
            )
        raise InsufficientPosition(
            f"cannot sell {plain(order.quantity)} {order.symbol}: not held, or already "
            "promised to open SELL orders",
            symbol=order.symbol,
        )

    async def _existing(
        self, portfolio_id: PydanticObjectId | None, client_id: str
    ) -> Order | None:
        return await Order.find_one(
            Order.portfolio_id == portfolio_id, Order.client_order_id == client_id
        )

    async def _insert(self, order: Order) -> Order:
        try:
            await order.insert()
        except DuplicateKeyError:
            existing = await self._existing(order.portfolio_id, order.client_order_id)
            if existing is None:
                raise
            return replayed(existing, order)
        return order

    async def cancel(self, principal: Principal, order_id: str) -> Order:
        order = await self.get(principal, order_id)
        check_can_change(principal, order.owner_id)
        async with self.market.lock(order.symbol):
            while order.status.is_open or order.status is OrderStatus.HELD:
                ended = await self.execution.end(
                    order, OrderStatus.CANCELED, "cancelled at the owner's request"
                )
                if ended is not None:
                    return ended
                order = await Order.get(order.id) or order
        raise AlreadyExists(
            f"order {order_id} is already {order.status.value}; only NEW, PARTIALLY_FILLED "
            "and HELD orders can be cancelled",
            status=order.status.value,
        )

    async def page(
        self, portfolio: Portfolio, query: OrderQuery, first: int, after: str | None
    ) -> Page[Order]:
        """A page of the portfolio's orders, newest first (visibility checked by the caller)."""
        return await list_orders(portfolio.id, query, first, after)

    async def count(self, portfolio: Portfolio, query: OrderQuery) -> int:
        return await count_orders(portfolio.id, query)

    async def all_of(self, portfolio: Portfolio) -> list[Order]:
        """Every order of the portfolio, newest first (for exports)."""
        return await all_orders(portfolio.id)

    async def linked(self, order_id: str) -> Order | None:
        """An order another one links to (replaces, replacedBy, parent): same portfolio, so
        the caller's right to read the first covers it."""
        found = await by_id(Order, order_id)
        return None if found is None or found.status is OrderStatus.PENDING_NEW else found

    async def legs(self, order: Order) -> list[Order]:
        """The legs of an entry (or of an OCO's first leg), oldest first, without the replaced
        ones (their replacements stand in for them)."""
        query = Order.find(
            {
                "parent_id": order.id,
                "status": {"$nin": [OrderStatus.PENDING_NEW.value, OrderStatus.REPLACED.value]},
            }
        )
        return await query.sort("created_at", "_id").to_list()

    async def get(self, principal: Principal, order_id: str) -> Order:
        order = await by_id(Order, order_id)
        if (
            order is None
            or order.status is OrderStatus.PENDING_NEW
            or not can_read(principal, order.owner_id)
        ):
            raise NotFound(f"order {order_id} not found", order_id=order_id)
        return order
