"""Keyset pagination for every list: one cursor codec, one page-size check, one fetch of a page
plus one extra row (which tells whether another page follows without a second query).

A cursor names the sort it was made for and the last row's sort key and id; the next page
starts strictly after that row, so pages stay stable while new rows arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from beanie import Document, SortDirection
from bson import ObjectId
from bson.errors import InvalidId

from tradegraph.errors import InvalidInput

D = TypeVar("D", bound=Document)

MAX_PAGE_SIZE = 500
BAD_CURSOR = "cursor is not valid; use an endCursor from this query"


@dataclass(frozen=True)
class Sort:
    """Rows ordered by `field` (ties broken by _id in the same direction)."""

    name: str  # a cursor made for one sort is refused by another
    field: str
    direction: int  # 1 ascending, -1 descending

    def mongo(self) -> list[tuple[str, SortDirection]]:
        direction = SortDirection(self.direction)
        return [(self.field, direction), ("_id", direction)]


@dataclass(frozen=True)
class Page(Generic[D]):
    items: list[D]
    has_next_page: bool
    sort: Sort

    def cursor(self, item: D) -> str:
        return encode_cursor(self.sort, getattr(item, self.sort.field), item.id)


def check_page_size(first: int, maximum: int = MAX_PAGE_SIZE) -> None:
    if not 0 <= first <= maximum:
        raise InvalidInput(f"first must be between 0 and {maximum}", field="first")


def _key_to_json(key: Any) -> Any:
    return {"d": key.isoformat()} if isinstance(key, datetime) else key


def _key_from_json(raw: Any) -> Any:
    if isinstance(raw, dict):
        return datetime.fromisoformat(raw["d"])
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise TypeError("unsupported cursor key")
    if isinstance(raw, float) and not math.isfinite(raw):
        raise ValueError("a cursor key must be finite")
    return raw


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid in a cursor")


def encode_cursor(sort: Sort, key: Any, row_id: Any) -> str:
    raw = {"s": sort.name, "k": _key_to_json(key), "i": str(row_id)}
    return base64.urlsafe_b64encode(json.dumps(raw, separators=(",", ":")).encode()).decode()


def decode_cursor(sort: Sort, cursor: str) -> tuple[Any, ObjectId]:
    """The sort key and id in `cursor`; InvalidInput (field `after`) when it is not one of ours
    or was made for another sort."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor.encode()), parse_constant=_no_constants)
        made_for, key, row_id = raw["s"], _key_from_json(raw["k"]), ObjectId(raw["i"])
    except (ValueError, KeyError, TypeError, binascii.Error, InvalidId) as error:
        raise InvalidInput(BAD_CURSOR, field="after") from error
    if made_for != sort.name:
        raise InvalidInput(
            f"cursor was made for orderBy {made_for}, not {sort.name}", field="after"
        )
    return key, row_id


def after_cursor(sort: Sort, cursor: str) -> dict[str, Any]:
    """The MongoDB condition for rows strictly after the cursor's row in `sort` order."""
    key, row_id = decode_cursor(sort, cursor)
    beyond = "$lt" if sort.direction < 0 else "$gt"
    return {"$or": [{sort.field: {beyond: key}}, {sort.field: key, "_id": {beyond: row_id}}]}


async def fetch_page(
    model: type[D],
    match: dict[str, Any],
    sort: Sort,
    first: int,
    after: str | None,
    maximum: int = MAX_PAGE_SIZE,
) -> Page[D]:
    """Up to `first` rows of `model` matching `match`, after the cursor, in `sort` order."""
    check_page_size(first, maximum)
    query = {"$and": [match, after_cursor(sort, after)]} if after else match
    found = await model.find(query).sort(sort.mongo()).limit(first + 1).to_list()
    return Page(items=found[:first], has_next_page=len(found) > first, sort=sort)


async def count(model: type[D], match: dict[str, Any]) -> int:
    """How many rows match, on all pages."""
    return int(await model.get_pymongo_collection().count_documents(match))
