"""trading/order_listing.py: the order filter as a MongoDB query (cursors: test_pagination.py)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from tests.support import unsaved
from tradegraph.documents import Order, OrderStatus, Side
from tradegraph.trading.order_listing import OrderQuery

PORTFOLIO = PydanticObjectId()


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def stored(order: Order) -> dict[str, Any]:
    return {"_id": order.id, "created_at": order.created_at}


ORDERS = [
    unsaved.order(id=ObjectId(), created_at=unsaved.T0 + timedelta(seconds=i % 3)) for i in range(8)
]
NEWEST_FIRST = sorted(ORDERS, key=lambda o: (o.created_at, o.id), reverse=True)


def test_the_filter_never_lists_orders_still_being_placed() -> None:
    assert OrderQuery().to_mongo(PORTFOLIO) == {
        "portfolio_id": PORTFOLIO,
        "status": {"$ne": "PENDING_NEW"},
    }
    asked = OrderQuery(statuses=(OrderStatus.NEW, OrderStatus.PENDING_NEW))
    assert asked.to_mongo(PORTFOLIO)["status"] == {"$in": ["NEW"]}


def test_the_filter_normalises_the_symbol_and_bounds_creation_time() -> None:
    query = OrderQuery(
        symbol=" aapl ",
        side=Side.SELL,
        from_=unsaved.T0,
        to=unsaved.T0 + timedelta(days=1),
    )
    assert query.to_mongo(PORTFOLIO) == {
        "portfolio_id": PORTFOLIO,
        "status": {"$ne": "PENDING_NEW"},
        "symbol": "AAPL",
        "side": "SELL",
        "created_at": {"$gte": unsaved.T0, "$lt": unsaved.T0 + timedelta(days=1)},
    }
