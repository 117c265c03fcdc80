"""GraphQL types, inputs and enums for orders."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import Enum

import strawberry

from tradegraph import documents
from tradegraph.schema.connection import Connection
from tradegraph.trading.order_listing import OrderQuery
from tradegraph.trading.orders import OrderRequest

strawberry.enum(documents.Side, name="Side")
Side = documents.Side

strawberry.enum(
    documents.OrderType,
    name="OrderType",
    description="MARKET fills at once at the ask (BUY) or bid (SELL); LIMIT when a quote "
    "crosses limitPrice; STOP becomes MARKET once the ask (BUY) rises to / the bid (SELL) "
    "falls to stopPrice; STOP_LIMIT becomes LIMIT then.",
)
OrderType = documents.OrderType

strawberry.enum(
    documents.TimeInForce,
    name="TimeInForce",
    description="DAY: expires at the instrument's session close; GTC: until cancelled; "
    "IOC: fill what is possible at once, cancel the rest; FOK: fill all at once or nothing.",
)
TimeInForce = documents.TimeInForce


@strawberry.enum(description="NEW → PARTIALLY_FILLED → FILLED | CANCELED | REJECTED | EXPIRED.")
class OrderStatus(Enum):
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"


@strawberry.type(description="One execution of an order.")
class Fill:
    quantity: Decimal
    price: Decimal
    fee: Decimal
    timestamp: datetime


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
    average_fill_price: Decimal | None = strawberry.field(
        description="Quantity-weighted mean fill price; null before the first fill."
    )
    limit_price: Decimal | None
    stop_price: Decimal | None
    time_in_force: TimeInForce
    reject_reason: str | None = strawberry.field(
        description="Why the order was rejected, or cancelled or expired by the engine."
    )
    fills: list[Fill]
    expires_at: datetime | None = strawberry.field(description="DAY orders: the session close.")
    created_at: datetime
    updated_at: datetime

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
            average_fill_price=order.average_fill_price,
            limit_price=order.limit_price,
            stop_price=order.stop_price,
            time_in_force=order.time_in_force,
            reject_reason=order.reject_reason,
            fills=[
                Fill(quantity=f.quantity, price=f.price, fee=f.fee, timestamp=f.timestamp)
                for f in order.fills
            ],
            expires_at=order.expires_at,
            created_at=order.created_at,
            updated_at=order.updated_at,
        )


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
    time_in_force: TimeInForce = documents.TimeInForce.DAY
    client_order_id: str | None = strawberry.field(
        default=None,
        description="Idempotency key, unique per portfolio (≤ 64 characters); reusing it for "
        "an order with other parameters is a CONFLICT.",
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
