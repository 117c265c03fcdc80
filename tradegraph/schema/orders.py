"""GraphQL types, inputs and enums for orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from tradegraph import decimals, documents, sequences
from tradegraph.schema.core.connection import Connection
from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import price_of, scales_of
from tradegraph.trading import exits, replace
from tradegraph.trading.order_listing import OrderQuery
from tradegraph.trading.order_rules import OrderRequest

strawberry.enum(documents.Side, name="Side")
Side = documents.Side

strawberry.enum(
    documents.OrderType,
    name="OrderType",
    description="MARKET fills at once at the ask (BUY) or bid (SELL); LIMIT when a quote "
    "crosses limitPrice; STOP becomes MARKET once the ask (BUY) rises to / the bid (SELL) "
    "falls to stopPrice; STOP_LIMIT becomes LIMIT then. TRAILING_STOP: a SELL follows the "
    "highest bid since placed (highWaterMark) and becomes MARKET when the bid falls to that "
    "mark minus the trail; a BUY follows the lowest ask and triggers at the mark plus the trail.",
)
OrderType = documents.OrderType

strawberry.enum(
    documents.OrderClass,
    name="OrderClass",
    description="SIMPLE: one order. BRACKET: an entry whose fill activates a take-profit LIMIT "
    "and a stop-loss STOP (or STOP_LIMIT) as an OCO pair. OCO: two exits (take-profit and "
    "stop-loss); the first to fill, even partly, cancels the other. OTO: an entry whose fill "
    "activates one exit (takeProfit or stopLoss).",
)
OrderClass = documents.OrderClass

strawberry.enum(
    documents.TimeInForce,
    name="TimeInForce",
    description="DAY: expires at the instrument's session close; GTC: until cancelled; "
    "IOC: fill what is possible at once, cancel the rest; FOK: fill all at once or nothing.",
)
TimeInForce = documents.TimeInForce


@strawberry.enum(
    description="NEW → PARTIALLY_FILLED → FILLED | CANCELED | REJECTED | EXPIRED | REPLACED; "
    "legs start HELD until their entry fills (see the README's order lifecycle)."
)
class OrderStatus(Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    REPLACED = strawberry.enum_value(
        "REPLACED", description="replaceOrder moved its rest and reservation to `replacedBy`."
    )
    HELD = strawberry.enum_value(
        "HELD", description="A leg waiting for its entry to fill; it reserves nothing yet."
    )


@strawberry.type(description="One execution of an order.")
class Fill:
    quantity: Decimal
    price: Decimal = strawberry.field(description="At the instrument's tick decimals.")
    fee: Decimal = strawberry.field(description="At the currency's cash decimals.")
    timestamp: datetime

    @classmethod
    def from_value(cls, fill: documents.Fill, scales: decimals.Scales) -> Fill:
        return cls(
            quantity=fill.quantity,
            price=scales.price(fill.price),
            fee=scales.cash(fill.fee),
            timestamp=fill.timestamp,
        )


@strawberry.type(description="A paper-trading order.")
class Order:
    id: strawberry.ID
    portfolio_id: strawberry.ID
    client_order_id: str = strawberry.field(
        description="Yours, or generated; placing it again with the same parameters returns "
        "this order (other parameters: CONFLICT)."
    )
    symbol: str
    status: OrderStatus
    side: Side
    type: OrderType
    quantity: Decimal
    filled_quantity: Decimal
    time_in_force: TimeInForce
    reject_reason: str | None = strawberry.field(
        description="Why the order was rejected, or cancelled or expired by the engine."
    )
    expires_at: datetime | None = strawberry.field(description="DAY orders: the session close.")
    created_at: datetime
    updated_at: datetime
    trail_percent: Decimal | None = strawberry.field(
        description="TRAILING_STOP: trail as a percentage of highWaterMark."
    )
    order_class: OrderClass
    _document: strawberry.Private[documents.Order]

    async def _price(self, info: Info, value: Decimal | None) -> Decimal | None:
        """A price at the instrument's tick decimals (as stored if the symbol is unknown)."""
        return None if value is None else await price_of(info, self._document.symbol, value)

    @strawberry.field(
        description="Quantity-weighted mean fill price, at the instrument's tick decimals; "
        "null before the first fill."
    )
    async def average_fill_price(self, info: Info) -> Decimal | None:
        return await self._price(info, self._document.average_fill_price)

    @strawberry.field(description="At the instrument's tick decimals.")
    async def limit_price(self, info: Info) -> Decimal | None:
        return await self._price(info, self._document.limit_price)

    @strawberry.field(description="At the instrument's tick decimals.")
    async def stop_price(self, info: Info) -> Decimal | None:
        return await self._price(info, self._document.stop_price)

    @strawberry.field(description="TRAILING_STOP: trail amount, at the tick decimals.")
    async def trail_price(self, info: Info) -> Decimal | None:
        return await self._price(info, self._document.trail_price)

    @strawberry.field(
        description="TRAILING_STOP: the highest bid (SELL) / lowest ask (BUY) since placed."
    )
    async def high_water_mark(self, info: Info) -> Decimal | None:
        return await self._price(info, self._document.high_water_mark)

    @strawberry.field(description="Executions, oldest first.")
    async def fills(self, info: Info) -> list[Fill]:
        scales = await scales_of(info, self._document.symbol)
        return [Fill.from_value(f, scales) for f in self._document.fills]

    @strawberry.field(description="The order that replaced this one (status REPLACED).")
    async def replaced_by(self, info: Info) -> Order | None:
        return await _linked(info, self._document.replaced_by_id)

    @strawberry.field(description="The order this one replaced.")
    async def replaces(self, info: Info) -> Order | None:
        return await _linked(info, self._document.replaces_id)

    @strawberry.field(
        description="BRACKET / OTO: the exits; OCO: the other exit (on the first leg). "
        "Replaced legs are left out (follow replacedBy)."
    )
    async def legs(self, info: Info) -> list[Order]:
        found = await info.context.services.orders.legs(self._document)
        return [Order.from_document(leg) for leg in found]

    @strawberry.field(description="A leg: the order whose fill activated it (or its OCO peer).")
    async def parent(self, info: Info) -> Order | None:
        return await _linked(info, self._document.parent_id)

    @classmethod
    def from_document(cls, order: documents.Order) -> Order:
        return cls(
            id=strawberry.ID(str(order.id)),
            portfolio_id=strawberry.ID(str(order.portfolio_id)),
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            status=OrderStatus(order.status.value),
            side=order.side,
            type=order.type,
            quantity=order.quantity,
            filled_quantity=order.filled_quantity,
            time_in_force=order.time_in_force,
            reject_reason=order.reject_reason,
            expires_at=order.expires_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
            trail_percent=order.trail_percent,
            order_class=order.order_class,
            _document=order,
        )


async def _linked(info: Info, order_id: object) -> Order | None:
    """An order linked from one the caller can read (same portfolio: readable too)."""
    if order_id is None:
        return None
    found = await info.context.services.orders.linked(str(order_id))
    return Order.from_document(found) if found else None


strawberry.enum(
    documents.OrderEventKind,
    name="OrderEventKind",
    description="What changed: NEW (accepted, or a leg activated), PARTIAL_FILL, FILL, "
    "CANCELED, EXPIRED, REJECTED, REPLACED.",
)
OrderEventKind = documents.OrderEventKind


@strawberry.type(description="One change of one order (as Alpaca's trade_updates).")
class OrderEvent:
    cursor: str = strawberry.field(
        description="Pass it as orderEvents(after:) to resume right after this event."
    )
    kind: OrderEventKind
    order: Order = strawberry.field(description="The order as it was after the change.")
    timestamp: datetime
    _fill: strawberry.Private[documents.Fill | None]

    @strawberry.field(description="PARTIAL_FILL / FILL: the execution.")
    async def fill(self, info: Info) -> Fill | None:
        if self._fill is None:
            return None
        return Fill.from_value(self._fill, await scales_of(info, self.order.symbol))

    @classmethod
    def from_record(cls, record: documents.OrderEventRecord) -> OrderEvent:
        order = documents.Order.model_validate(record.order)
        fill = documents.Fill.model_validate(record.fill) if record.fill else None
        return cls(
            cursor=sequences.cursor_text(record.seq),
            kind=record.kind,
            order=Order.from_document(order),
            timestamp=record.timestamp,
            _fill=fill,
        )


@strawberry.input(description="BRACKET / OCO / OTO: the exit that takes the profit (a LIMIT).")
class TakeProfitInput:
    limit_price: Decimal


@strawberry.input(
    description="BRACKET / OCO / OTO: the exit that stops the loss (a STOP, or a STOP_LIMIT "
    "when limitPrice is given)."
)
class StopLossInput:
    stop_price: Decimal
    limit_price: Decimal | None = None


@strawberry.input(description="An order to place in one of your portfolios.")
class PlaceOrderInput:
    portfolio_id: strawberry.ID
    symbol: str
    side: Side
    type: OrderType
    quantity: Decimal = strawberry.field(description="> 0, a multiple of the lot size.")
    limit_price: Decimal | None = strawberry.field(
        default=None, description="LIMIT and STOP_LIMIT; a multiple of the tick size."
    )
    stop_price: Decimal | None = strawberry.field(
        default=None, description="STOP and STOP_LIMIT; a multiple of the tick size."
    )
    time_in_force: TimeInForce | None = strawberry.field(
        default=None,
        description="Default: DAY, or GTC for crypto, which trades around the clock (DAY on a "
        "crypto instrument: BAD_USER_INPUT).",
    )
    client_order_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key, unique per portfolio (≤ 64 characters); reusing it for "
        "an order with other parameters is a CONFLICT.",
    )
    trail_price: Decimal | None = strawberry.field(
        default=None, description="TRAILING_STOP: the trail as an amount (or trailPercent)."
    )
    trail_percent: Decimal | None = strawberry.field(
        default=None, description="TRAILING_STOP: the trail as a percentage (or trailPrice)."
    )
    order_class: OrderClass = documents.OrderClass.SIMPLE
    take_profit: TakeProfitInput | None = strawberry.field(
        default=None, description="BRACKET, OCO; OTO (one of takeProfit / stopLoss)."
    )
    stop_loss: StopLossInput | None = strawberry.field(
        default=None, description="BRACKET, OCO; OTO (one of takeProfit / stopLoss)."
    )

    def to_exits(self) -> exits.Exits:
        return exits.Exits(
            order_class=self.order_class,
            take_profit=self.take_profit.limit_price if self.take_profit else None,
            stop_loss=self.stop_loss.stop_price if self.stop_loss else None,
            stop_limit=self.stop_loss.limit_price if self.stop_loss else None,
        )

    def to_request(self) -> OrderRequest:
        return OrderRequest(
            portfolio_id=str(self.portfolio_id),
            symbol=self.symbol,
            side=self.side,
            type=self.type,
            quantity=self.quantity,
            time_in_force=self.time_in_force,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            client_order_id=self.client_order_id,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
        )


@strawberry.input(description="What to change in an open order; omitted fields stay as they are.")
class ReplaceOrderInput:
    quantity: Decimal | None = strawberry.field(
        default=None, description="The new total quantity; not below what has filled."
    )
    limit_price: Decimal | None = None
    stop_price: Decimal | None = None
    trail_price: Decimal | None = strawberry.field(
        default=None, description="Replaces the trail (trailPercent is then dropped)."
    )
    trail_percent: Decimal | None = strawberry.field(
        default=None, description="Replaces the trail (trailPrice is then dropped)."
    )
    time_in_force: TimeInForce | None = None

    def to_request(self) -> replace.ReplaceRequest:
        return replace.ReplaceRequest(
            quantity=self.quantity,
            limit_price=self.limit_price,
            stop_price=self.stop_price,
            trail_price=self.trail_price,
            trail_percent=self.trail_percent,
            time_in_force=self.time_in_force,
        )


@strawberry.input(description="All given conditions must hold; `from` inclusive, `to` exclusive.")
class OrderFilter:
    status: list[OrderStatus] | None = None
    symbol: str | None = None
    side: Side | None = None
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None

    def to_query(self) -> OrderQuery:
        statuses = tuple(documents.OrderStatus(s.value) for s in self.status or [])
        return OrderQuery(
            statuses=statuses, symbol=self.symbol, side=self.side, from_=self.from_, to=self.to
        )


@strawberry.type(description="A page of orders, newest first (Relay connection).")
class OrderConnection(Connection[Order]):
    pass
