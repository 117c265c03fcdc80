"""Order listings: filters, newest-first pages (tradegraph/pagination.py), counts, exports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId

from tradegraph.documents import Order, OrderStatus, Side
from tradegraph.pagination import Page, Sort, count, fetch_page


@dataclass(frozen=True)
class OrderQuery:
    statuses: tuple[OrderStatus, ...] = ()
    symbol: str | None = None
    side: Side | None = None
    from_: datetime | None = None
    to: datetime | None = None

    def to_mongo(self, portfolio_id: PydanticObjectId | None) -> dict[str, Any]:
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


NEWEST_FIRST = Sort("CREATED_AT_DESC", "created_at", -1)


async def list_orders(
    portfolio_id: PydanticObjectId | None, query: OrderQuery, first: int, after: str | None
) -> Page[Order]:
    """A page of a portfolio's orders, newest first."""
    return await fetch_page(Order, query.to_mongo(portfolio_id), NEWEST_FIRST, first, after)


async def count_orders(portfolio_id: PydanticObjectId | None, query: OrderQuery) -> int:
    return await count(Order, query.to_mongo(portfolio_id))


async def all_orders(portfolio_id: PydanticObjectId | None) -> list[Order]:
    """Every order of the portfolio, newest first (for exports)."""
    match = OrderQuery().to_mongo(portfolio_id)
    return await Order.find(match).sort(NEWEST_FIRST.mongo()).to_list()
