"""Order listings, newest first, with keyset cursors that stay stable as orders arrive."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from bson.errors import InvalidId

from tradegraph.documents import Order, OrderStatus, Side
from tradegraph.errors import InvalidInput

MAX_PAGE_SIZE = 500
ORDER_SORT = [("created_at", -1), ("_id", -1)]  # newest first; _id breaks ties


@dataclass(frozen=True)
class OrderQuery:
    statuses: tuple[OrderStatus, ...] = ()
    symbol: str | None = None
    side: Side | None = None
    from_: datetime | None = None
    to: datetime | None = None

    def to_mongo(self, portfolio_id: PydanticObjectId) -> dict[str, Any]:
        statuses = [s.value for s in self.statuses if s is not OrderStatus.PENDING_NEW]
        match: dict[str, Any] = {
            "portfolio_id": portfolio_id,
            "status": {"$in": statuses} if statuses else {"$ne": OrderStatus.PENDING_NEW.value},
        }
        if self.symbol:
            match["symbol"] = self.symbol.strip().upper()
        if self.side:
            match["side"] = self.side.value
        created: dict[str, datetime] = {}
        if self.from_:
            created["$gte"] = self.from_
        if self.to:
            created["$lt"] = self.to
        if created:
            match["created_at"] = created
        return match


def encode_cursor(order: Order) -> str:
    raw = json.dumps({"t": order.created_at.isoformat(), "i": str(order.id)})
    return base64.urlsafe_b64encode(raw.encode()).decode()


def _after(cursor: str) -> dict[str, Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        created, oid = datetime.fromisoformat(raw["t"]), ObjectId(raw["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidId) as error:
        raise InvalidInput(
            "cursor is not valid; use an endCursor from this query", field="after"
        ) from error
    return {"$or": [{"created_at": {"$lt": created}}, {"created_at": created, "_id": {"$lt": oid}}]}


async def list_orders(
    portfolio_id: PydanticObjectId, query: OrderQuery, first: int, after: str | None
) -> tuple[list[Order], bool]:
    """A page of orders and whether another follows."""
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}", field="first")
    match = query.to_mongo(portfolio_id)
    if after:
        match = {"$and": [match, _after(after)]}
    found = await Order.find(match).sort(ORDER_SORT).limit(first + 1).to_list()
    return found[:first], len(found) > first


async def count_orders(portfolio_id: PydanticObjectId, query: OrderQuery) -> int:
    return await Order.get_pymongo_collection().count_documents(query.to_mongo(portfolio_id))
