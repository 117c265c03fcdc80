"""Placing, cancelling and listing orders; the checks an order passes before it may trade."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Protocol
from zoneinfo import ZoneInfo

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from tradegraph.auth.principal import Principal
from tradegraph.decimals import ZERO, currency_places, fee_of, is_multiple, plain
from tradegraph.documents import (
    AssetClass,
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
    InvalidInput,
    NotFound,
)
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData
from tradegraph.pagination import Page
from tradegraph.trading.engine import MatchingEngine
from tradegraph.trading.execution import Execution
from tradegraph.trading.matching import initial_mark, reservation_price
from tradegraph.trading.order_listing import OrderQuery, all_orders, count_orders, list_orders
from tradegraph.trading.portfolios import can_read, check_can_change, writable_portfolio
from tradegraph.trading.settlement import (
    apply_to_portfolio,
    portfolio_has_applied,
    reserve_position,
)
from tradegraph.trading.trailing import check_trail

MAX_CLIENT_ORDER_ID = 64


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


@dataclass(frozen=True)
class OrderRequest:
    portfolio_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal
    time_in_force: TimeInForce | None = None  # None: the venue's default (default_time_in_force)
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    client_order_id: str | None = None
    trail_price: Decimal | None = None
    trail_percent: Decimal | None = None


def default_time_in_force(instrument: Instrument) -> TimeInForce:
    """DAY on a venue with sessions; GTC for crypto, which trades around the clock (a DAY
    order there would expire at an arbitrary midnight, part-filled)."""
    return TimeInForce.GTC if instrument.asset_class is AssetClass.CRYPTO else TimeInForce.DAY


def with_time_in_force(request: OrderRequest, instrument: Instrument) -> OrderRequest:
    """The request with its time in force chosen: as given, else the venue's default."""
    if request.time_in_force is not None:
        return request
    return replace(request, time_in_force=default_time_in_force(instrument))


def check_order(request: OrderRequest, instrument: Instrument, portfolio: Portfolio) -> None:
    """Raises InvalidInput for the first rule the request breaks."""
    if request.time_in_force is TimeInForce.DAY and instrument.asset_class is AssetClass.CRYPTO:
        raise InvalidInput(
            f"{instrument.symbol} trades around the clock, so DAY does not apply: use GTC "
            "(the default), IOC or FOK",
            field="timeInForce",
        )
    if request.quantity <= 0:
        raise InvalidInput("quantity must be greater than 0", field="quantity")
    if not is_multiple(request.quantity, instrument.lot_size):
        raise InvalidInput(
            f"quantity must be a multiple of the lot size {plain(instrument.lot_size)} "
            f"of {instrument.symbol}",
            field="quantity",
        )
    needs_limit = request.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
    needs_stop = request.type in (OrderType.STOP, OrderType.STOP_LIMIT)
    for name, price, needed in (
        ("limitPrice", request.limit_price, needs_limit),
        ("stopPrice", request.stop_price, needs_stop),
    ):
        if needed and price is None:
            raise InvalidInput(f"{request.type.value} orders need {name}", field=name)
        if not needed and price is not None:
            raise InvalidInput(f"{name} does not apply to {request.type.value} orders", field=name)
        if price is not None and price <= 0:
            raise InvalidInput(f"{name} must be greater than 0", field=name)
        if price is not None and not is_multiple(price, instrument.tick_size):
            raise InvalidInput(
                f"{name} {plain(price)} is not a multiple of the tick size "
                f"{plain(instrument.tick_size)} of {instrument.symbol}",
                field=name,
            )
    check_trail(request, instrument)  # trailing.py
    triggered_later = needs_stop or request.type is OrderType.TRAILING_STOP
    if request.time_in_force in (TimeInForce.IOC, TimeInForce.FOK) and triggered_later:
        raise InvalidInput("IOC and FOK apply to MARKET and LIMIT orders only", field="timeInForce")
    if instrument.currency != portfolio.base_currency:
        raise InvalidInput(
            f"{instrument.symbol} trades in {instrument.currency}; this portfolio holds "
            f"{portfolio.base_currency}",
            field="symbol",
        )
    client_id = request.client_order_id
    if client_id is not None and not 0 < len(client_id) <= MAX_CLIENT_ORDER_ID:
        raise InvalidInput(
            f"clientOrderId must be 1 to {MAX_CLIENT_ORDER_ID} characters", field="clientOrderId"
        )


# What a clientOrderId stands for: the order's fields and their names in the API.
ORDER_PARAMETERS = {
    "symbol": "symbol",
    "side": "side",
    "type": "type",
    "quantity": "quantity",
    "limit_price": "limitPrice",
    "stop_price": "stopPrice",
    "time_in_force": "timeInForce",
    "trail_price": "trailPrice",
    "trail_percent": "trailPercent",
}


def differing_parameters(placed: Order, asked: Order) -> list[str]:
    """The API names of the parameters in which `asked` differs from `placed` (by value:
    quantity 5 and 5.00 are the same)."""
    return [
        name
        for attribute, name in ORDER_PARAMETERS.items()
        if getattr(placed, attribute) != getattr(asked, attribute)
    ]


def replayed(placed: Order, asked: Order) -> Order:
    """The order a repeated clientOrderId returns: the one placed first, provided `asked` has
    the same parameters; otherwise the key was reused for another order, a CONFLICT."""
    if differing := differing_parameters(placed, asked):
        raise AlreadyExists(
            f"clientOrderId {placed.client_order_id!r} was already used for a different order "
            f"in this portfolio (it differs in {', '.join(differing)}); use a new "
            "clientOrderId, or repeat the same parameters to get that order back",
            client_order_id=placed.client_order_id,
            fields=differing,
        )
    if placed.status is OrderStatus.PENDING_NEW:
        raise AlreadyExists(
            f"order {placed.client_order_id} is still being placed; ask again shortly",
            client_order_id=placed.client_order_id,
        )
    return placed


def day_end(instrument: Instrument, now: datetime) -> datetime:
    """The end of the instrument's trading day: its next session close, in its time zone.
    (Weekends and holidays are not modelled: a DAY order lives until the next close.)"""
    zone = ZoneInfo(instrument.timezone)
    local = now.astimezone(zone)
    close = datetime.combine(local.date(), instrument.close_time, tzinfo=zone)
    if close <= local:
        close = datetime.combine(
            local.date() + timedelta(days=1), instrument.close_time, tzinfo=zone
        )
    return close.astimezone(UTC)


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
