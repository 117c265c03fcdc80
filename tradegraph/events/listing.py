"""Event listing with keyset cursors: pages stay stable while new events arrive."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId

from tradegraph.documents import Event
from tradegraph.documents.lookup import by_id
from tradegraph.errors import InvalidInput

MAX_PAGE_SIZE = 500


class EventOrder(StrEnum):
    TIMESTAMP_DESC = "TIMESTAMP_DESC"
    TIMESTAMP_ASC = "TIMESTAMP_ASC"
    VALUE_DESC = "VALUE_DESC"
    VALUE_ASC = "VALUE_ASC"

    @property
    def field(self) -> str:
        return "timestamp" if self.name.startswith("TIMESTAMP") else "value"

    @property
    def direction(self) -> int:
        return -1 if self.name.endswith("DESC") else 1


@dataclass(frozen=True)
class EventPage:
    events: list[Event]
    has_next_page: bool


def encode_cursor(order: EventOrder, event: Event) -> str:
    key = getattr(event, order.field)
    raw = {"o": order.value, "k": key.isoformat() if isinstance(key, datetime) else key}
    raw["i"] = str(event.id)
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


def _decode_cursor(order: EventOrder, cursor: str) -> tuple[Any, ObjectId]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        if raw["o"] != order.value:
            raise InvalidInput(
                f"cursor was made for orderBy {raw['o']}, not {order.value}", field="after"
            )
        key = datetime.fromisoformat(raw["k"]) if order.field == "timestamp" else float(raw["k"])
        return key, ObjectId(raw["i"])
    except InvalidInput:
        raise
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidId) as error:
        raise InvalidInput(
            "cursor is not valid; use an endCursor from this query", field="after"
        ) from error


def _after(order: EventOrder, cursor: str) -> dict[str, Any]:
    key, oid = _decode_cursor(order, cursor)
    beyond = "$lt" if order.direction < 0 else "$gt"
    return {"$or": [{order.field: {beyond: key}}, {order.field: key, "_id": {beyond: oid}}]}


def check_page_size(first: int) -> None:
    if first < 0 or first > MAX_PAGE_SIZE:
        raise InvalidInput(f"first must be between 0 and {MAX_PAGE_SIZE}", field="first")


async def list_events(
    match: dict[str, Any], order: EventOrder, first: int, after: str | None
) -> EventPage:
    check_page_size(first)
    query = {"$and": [match, _after(order, after)]} if after else match
    sort = [(order.field, order.direction), ("_id", order.direction)]
    # One extra row tells whether another page exists without a second query.
    found = await Event.find(query).sort(sort).limit(first + 1).to_list()
    return EventPage(events=found[:first], has_next_page=len(found) > first)


async def count_events(match: dict[str, Any]) -> int:
    return await Event.get_pymongo_collection().count_documents(match)


async def get_event(event_id: str) -> Event | None:
    return await by_id(Event, event_id)
