"""Orders: their types, classes, time in force, statuses, and the order document with its fills.

A fill is journaled on its order first (`unsettled`) and then applied to the portfolio and the
position; see documents/portfolios.py and trading/settlement.py.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from beanie import DecimalAnnotation, Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP = "STOP"
    STOP_LIMIT = "STOP_LIMIT"
    TRAILING_STOP = "TRAILING_STOP"


class OrderClass(StrEnum):
    SIMPLE = "SIMPLE"
    BRACKET = "BRACKET"  # an entry whose fill activates a take-profit and a stop-loss as OCO
    OCO = "OCO"  # two exits: the first to fill (or partly fill) cancels the other
    OTO = "OTO"  # an entry whose fill activates one exit


class TimeInForce(StrEnum):
    DAY = "DAY"
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"


class OrderStatus(StrEnum):
    PENDING_NEW = "PENDING_NEW"  # internal: stored, reservation not yet confirmed; never shown
    NEW = "NEW"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    CANCELED = "CANCELED"
    REJECTED = "REJECTED"
    EXPIRED = "EXPIRED"
    REPLACED = "REPLACED"  # replaceOrder moved its reservation and the rest to a new order
    HELD = "HELD"  # a leg waiting for its entry to fill; reserves nothing yet

    @property
    def is_open(self) -> bool:
        return self in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


OPEN_STATUSES = [OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value]


class Fill(BaseModel):
    id: str
    quantity: DecimalAnnotation
    price: DecimalAnnotation
    fee: DecimalAnnotation
    timestamp: datetime


class Order(Document):
    portfolio_id: PydanticObjectId
    owner_id: str
    client_order_id: str
    symbol: str
    side: Side
    type: OrderType
    quantity: DecimalAnnotation
    limit_price: DecimalAnnotation | None = None
    stop_price: DecimalAnnotation | None = None
    time_in_force: TimeInForce
    status: OrderStatus
    reject_reason: str | None = None  # why it was rejected, cancelled by the engine or expired
    triggered: bool = False  # STOP / STOP_LIMIT / TRAILING_STOP: the stop price was reached
    trail_price: DecimalAnnotation | None = None  # TRAILING_STOP: the trail as an amount
    trail_percent: DecimalAnnotation | None = None  # TRAILING_STOP: the trail as a percentage
    high_water_mark: DecimalAnnotation | None = None  # best bid (SELL) / ask (BUY) since placed
    order_class: OrderClass = OrderClass.SIMPLE
    parent_id: PydanticObjectId | None = None  # a leg: its entry (or, in an OCO, the first leg)
    oco_group: str | None = None  # legs sharing one reservation; the first to fill ends the rest
    replaces_id: PydanticObjectId | None = None
    replaced_by_id: PydanticObjectId | None = None
    # A replacement: what it reserved beyond what moved to it; an OCO leg that handed its
    # reservation over: how much it handed over.
    reserve_delta: DecimalAnnotation | None = None
    moved_to: PydanticObjectId | None = None  # an OCO leg that handed its reservation on
    move_pending: bool = False  # that hand-over is journaled here, not yet applied there
    received: list[str] = Field(default_factory=list)  # reservations handed over to this order
    events_pending: bool = False  # changed; its order events not yet recorded (recovery)
    filled_quantity: DecimalAnnotation
    filled_notional: DecimalAnnotation
    reserved: DecimalAnnotation  # BUY: cash still reserved; SELL: quantity still reserved
    fills: list[Fill] = Field(default_factory=list)
    unsettled: list[str] = Field(default_factory=list)  # fill ids journaled, not yet settled
    release_pending: bool = False  # finished; the rest of the reservation not yet returned
    expires_at: datetime | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 0

    @property
    def average_fill_price(self) -> Decimal | None:
        """Quantity-weighted mean price of the fills; None before the first."""
        return self.filled_notional / self.filled_quantity if self.filled_quantity else None

    class Settings:
        name = "orders"
        use_revision = False
        indexes = [
            IndexModel(
                [("portfolio_id", ASCENDING), ("client_order_id", ASCENDING)],
                unique=True,
                name="portfolio_client_order_unique",
            ),
            IndexModel(
                [("portfolio_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="portfolio_created",
            ),
            IndexModel(
                [("symbol", ASCENDING), ("status", ASCENDING), ("created_at", ASCENDING)],
                name="resting_by_symbol",
            ),
            IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="expiry"),
            IndexModel([("unsettled", ASCENDING)], sparse=True, name="unsettled"),
            IndexModel([("release_pending", ASCENDING)], name="release_pending"),  # recovery
            IndexModel([("parent_id", ASCENDING)], sparse=True, name="legs"),
            IndexModel([("oco_group", ASCENDING)], sparse=True, name="oco_group"),
            IndexModel([("events_pending", ASCENDING)], name="events_pending"),  # recovery
        ]
