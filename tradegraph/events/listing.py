"""Event listing orders and reads: pages (tradegraph/pagination.py), counts, one event."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tradegraph.documents import Event
from tradegraph.documents.lookup import by_id
from tradegraph.pagination import Page, Sort, count, fetch_page


class EventOrder(StrEnum):
    TIMESTAMP_DESC = "TIMESTAMP_DESC"
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    VALUE_DESC = "VALUE_DESC"
    VALUE_ASC = "VALUE_ASC"

    @property
    def sort(self) -> Sort:
        field = "timestamp" if self.name.startswith("TIMESTAMP") else "value"
        return Sort(self.value, field, -1 if self.name.endswith("DESC") else 1)


async def list_events(
    match: dict[str, Any], order: EventOrder, first: int, after: str | None
) -> Page[Event]:
    return await fetch_page(Event, match, order.sort, first, after)


async def count_events(match: dict[str, Any]) -> int:
    return await count(Event, match)


async def get_event(event_id: str) -> Event | None:
    return await by_id(Event, event_id)
