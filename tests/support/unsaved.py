"""Documents built in memory without Beanie's store (`model_construct` skips the collection
check a Document's __init__ makes): for rules that only read their fields."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

from tradegraph.documents import (
    AssetClass,
    Event,
    Fill,
    Instrument,
    Order,
    OrderStatus,
    OrderType,
    Portfolio,
    Position,
    Side,
    TimeInForce,
)

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
ZERO = Decimal(0)


def instrument(**fields: Any) -> Instrument:
    """AAPL-like: USD, tick 0.01, lot 1, UTC midnight close."""
    values: dict[str, Any] = {
        "symbol": "AAPL",
        "name": "Apple Inc.",
        "asset_class": AssetClass.STOCK,
        "exchange": "NASDAQ",
        "currency": "USD",
        "tick_size": Decimal("0.01"),
        "lot_size": Decimal(1),
        "timezone": "UTC",
        "session_close": "00:00",
    }
    return Instrument.model_construct(**(values | fields))


def portfolio(**fields: Any) -> Portfolio:
    values: dict[str, Any] = {
        "id": ObjectId(),
        "owner_id": "trader-1",
        "name": "main",
        "base_currency": "USD",
        "cash": ZERO,
        "available": ZERO,
        "applied": [],
        "created_at": T0,
    }
    return Portfolio.model_construct(**(values | fields))


def order(**fields: Any) -> Order:
    """A NEW GTC MARKET BUY of 10 AAPL with nothing filled or reserved."""
    values: dict[str, Any] = {
        "id": ObjectId(),
        "portfolio_id": ObjectId(),
        "owner_id": "trader-1",
        "client_order_id": "client-1",
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": OrderType.MARKET,
        "quantity": Decimal(10),
        "limit_price": None,
        "stop_price": None,
        "time_in_force": TimeInForce.GTC,
        "status": OrderStatus.NEW,
        "reject_reason": None,
        "triggered": False,
        "filled_quantity": ZERO,
        "filled_notional": ZERO,
        "reserved": ZERO,
        "fills": [],
        "unsettled": [],
        "release_pending": False,
        "expires_at": None,
        "created_at": T0,
        "updated_at": T0,
        "version": 0,
    }
    return Order.model_construct(**(values | fields))


def position(**fields: Any) -> Position:
    """A flat AAPL position."""
    values: dict[str, Any] = {
        "id": ObjectId(),
        "portfolio_id": ObjectId(),
        "symbol": "AAPL",
        "quantity": ZERO,
        "available": ZERO,
        "cost_basis": ZERO,
        "realized_pnl": ZERO,
        "applied": [],
        "version": 0,
        "updated_at": T0,
    }
    return Position.model_construct(**(values | fields))


def fill(quantity: str, price: str, fee: str = "0", number: int = 1) -> Fill:
    return Fill(
        id=f"order:{number}",
        quantity=Decimal(quantity),
        price=Decimal(price),
        fee=Decimal(fee),
        timestamp=T0,
    )


def event(**fields: Any) -> Event:
    values: dict[str, Any] = {
        "id": ObjectId(),
        "user_id": "user-1",
        "type": "purchase",
        "value": 10.0,
        "timestamp": T0,
        "metadata": {},
        "idempotency_key": "key-1",
        "received_at": T0,
    }
    return Event.model_construct(**(values | fields))
