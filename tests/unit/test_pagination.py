"""pagination.py: cursors round-trip, select exactly the rows that follow in the listing's
order (ties included), and refuse garbage or a cursor made for another sort."""

from __future__ import annotations

import base64
import itertools
from datetime import timedelta
from typing import Any

import mongomock.filtering
import pytest
from bson import ObjectId

from tests.support import unsaved
from tradegraph.errors import InvalidInput
from tradegraph.events.listing import EventOrder
from tradegraph.pagination import (
    BAD_CURSOR,
    MAX_PAGE_SIZE,
    Sort,
    after_cursor,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from tradegraph.trading.order_listing import NEWEST_FIRST

SORTS = [order.sort for order in EventOrder] + [NEWEST_FIRST]
ID = "65e1c3b0a1b2c3d4e5f60718"


def b64(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def rows() -> list[dict[str, Any]]:
    """Rows with repeated keys, so ties must be broken by _id."""
    return [
        {
            "_id": ObjectId(),
            "timestamp": unsaved.T0 + timedelta(minutes=i % 3),
            "created_at": unsaved.T0 + timedelta(seconds=i % 2),
            "value": float(i % 2),
        }
        for i in range(8)
    ]


def listed(items: list[dict[str, Any]], sort: Sort) -> list[dict[str, Any]]:
    return sorted(items, key=lambda r: (r[sort.field], r["_id"]), reverse=sort.direction < 0)


def test_each_event_order_sorts_on_its_field_and_direction() -> None:
    assert EventOrder.TIMESTAMP_DESC.sort == Sort("TIMESTAMP_DESC", "timestamp", -1)
    assert EventOrder.VALUE_ASC.sort.mongo() == [("value", 1), ("_id", 1)]


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: s.name)
def test_a_cursor_round_trips_its_sort_key_and_id(sort: Sort) -> None:
    row = rows()[1]
    assert decode_cursor(sort, encode_cursor(sort, row[sort.field], row["_id"])) == (
        row[sort.field],
        row["_id"],
    )


@pytest.mark.parametrize("sort", SORTS, ids=lambda s: s.name)
def test_after_a_cursor_come_exactly_the_rows_that_follow_it_even_on_equal_keys(
    sort: Sort,
) -> None:
    ordered = listed(rows(), sort)
    for position, row in enumerate(ordered):
        after = after_cursor(sort, encode_cursor(sort, row[sort.field], row["_id"]))
        following = [r for r in ordered if mongomock.filtering.filter_applies(after, r)]
        assert following == ordered[position + 1 :]


GARBAGE = {
    "empty": "",
    "not-base64": "%%%not base64%%%",
    "not-json": b64("not json"),
    "json-list": b64("[1, 2]"),
    "json-string": b64('"a string"'),
    "no-fields": b64("{}"),
    "no-id": b64('{"s": "TIMESTAMP_DESC", "k": {"d": "2024-03-01T12:00:00+00:00"}}'),
    "date-not-a-date": b64(f'{{"s": "TIMESTAMP_DESC", "k": {{"d": "yesterday"}}, "i": "{ID}"}}'),
    "id-not-an-objectid": b64('{"s": "VALUE_ASC", "k": 1, "i": "no-id"}'),
    "key-null": b64(f'{{"s": "VALUE_ASC", "k": null, "i": "{ID}"}}'),
    "key-a-list": b64(f'{{"s": "VALUE_ASC", "k": [1], "i": "{ID}"}}'),
    "key-nan": b64(f'{{"s": "VALUE_ASC", "k": NaN, "i": "{ID}"}}'),
    "key-infinity": b64(f'{{"s": "VALUE_ASC", "k": Infinity, "i": "{ID}"}}'),
    "not-utf8": base64.urlsafe_b64encode(b"\xff\xfe\x00").decode(),
}


@pytest.mark.parametrize("cursor", GARBAGE.values(), ids=GARBAGE.keys())
def test_a_garbage_cursor_is_invalid_input_on_after(cursor: str) -> None:
    sort = EventOrder.TIMESTAMP_DESC.sort if "TIMESTAMP" in cursor_text(cursor) else VALUE_ASC
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(sort, cursor)
    assert refused.value.details == {"field": "after"}
    assert refused.value.message == BAD_CURSOR


VALUE_ASC = EventOrder.VALUE_ASC.sort


def cursor_text(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except ValueError:
        return ""


@pytest.mark.parametrize(("made_for", "used_with"), list(itertools.permutations(SORTS, 2)))
def test_a_cursor_made_for_another_sort_is_refused(made_for: Sort, used_with: Sort) -> None:
    cursor = encode_cursor(made_for, 1.0, ObjectId())
    with pytest.raises(InvalidInput) as refused:
        decode_cursor(used_with, cursor)
    assert refused.value.details == {"field": "after"}
    assert refused.value.message == (
        f"cursor was made for orderBy {made_for.name}, not {used_with.name}"
    )


@pytest.mark.parametrize("first", [0, 1, MAX_PAGE_SIZE])
def test_page_sizes_from_0_to_the_maximum_are_accepted(first: int) -> None:
    check_page_size(first)


@pytest.mark.parametrize("first", [-1, MAX_PAGE_SIZE + 1])
def test_page_sizes_outside_0_to_the_maximum_are_refused(first: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_page_size(first)
    assert refused.value.details == {"field": "first"}


def test_a_smaller_maximum_applies_where_a_list_sets_one() -> None:
    check_page_size(100, maximum=100)
    with pytest.raises(InvalidInput, match="between 0 and 100"):
        check_page_size(101, maximum=100)
