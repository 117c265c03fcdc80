"""trading/order_listing.py: order cursors round-trip, select exactly the older orders, and
refuse garbage (InvalidInput on "after"); the filter as a MongoDB query."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import mongomock.filtering
import pytest
from bson import ObjectId

from tests.unit import unsaved
from tradegraph.documents import Order, OrderStatus, Side
from tradegraph.errors import InvalidInput
from tradegraph.trading.order_listing import OrderQuery, _after, encode_cursor

PORTFOLIO = ObjectId()


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def stored(order: Order) -> dict[str, Any]:
    return {"_id": order.id, "created_at": order.created_at}


ORDERS = [
    unsaved.order(id=ObjectId(), created_at=unsaved.T0 + timedelta(seconds=i % 3)) for i in range(8)
]
NEWEST_FIRST = sorted(ORDERS, key=lambda o: (o.created_at, o.id), reverse=True)


def test_after_a_cursor_come_exactly_the_older_orders_even_at_the_same_instant() -> None:
    for position, order in enumerate(NEWEST_FIRST):
        after = _after(encode_cursor(order))
        older = [o for o in NEWEST_FIRST if mongomock.filtering.filter_applies(after, stored(o))]
        assert older == NEWEST_FIRST[position + 1 :]


ID = "65e1c3b0a1b2c3d4e5f60718"


@pytest.mark.parametrize(
    "cursor",
    [
        "",
        "%%%not base64%%%",
        b64("not json"),
        b64("[1, 2]"),
        b64("{}"),
        b64('{"t": "2024-03-01T12:00:00+00:00"}'),
        b64(f'{{"t": "yesterday", "i": "{ID}"}}'),
        b64(f'{{"t": 17, "i": "{ID}"}}'),
        b64('{"t": "2024-03-01T12:00:00+00:00", "i": "not-an-id"}'),
        base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
    ],
    ids=[
        "empty",
        "not-base64",
        "not-json",
        "json-list",
        "no-fields",
        "no-id",
        "time-not-a-date",
        "time-a-number",
        "id-not-an-objectid",
        "not-utf8",
    ],
)
def test_a_garbage_cursor_is_invalid_input_on_after(cursor: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        _after(cursor)
    assert refused.value.details == {"field": "after"}


def test_an_event_listing_cursor_is_not_an_order_cursor() -> None:
    event_cursor = b64(json.dumps({"o": "TIMESTAMP_DESC", "k": unsaved.T0.isoformat(), "i": ID}))
    with pytest.raises(InvalidInput) as refused:
        _after(event_cursor)
    assert refused.value.details == {"field": "after"}


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
