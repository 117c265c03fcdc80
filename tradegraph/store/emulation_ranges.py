"""Sorted key lists of compound unique indexes: equality on a prefix, a range on the next field.

For a unique compound index, per value of its first `width` fields, the next field's values in
order (a sorted key list, bisected), as MongoDB's index answers "equality on a prefix, range on
the next field" (a month of one-minute bars: one symbol's day is found by bisection). Range
candidates come from here (emulation_lookups.py), and sorted finds walk the lists from the
requested end (emulation_range_walks.py).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128

from tradegraph.store.emulation_keys import MISSING, equality, is_nan, key_part

NUMBER, DATE, TEXT = 0, 1, 2
KINDS = (NUMBER, DATE, TEXT)
_RANGE_OPERATORS = {"$gt", "$gte", "$lt", "$lte"}


def orderable(value: Any) -> tuple[int, Any] | None:
    """(kind, value) for a value a sorted key list can hold; None for anything else (missing,
    null, bool, NaN, arrays, documents...), whose documents are always candidates."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if isinstance(value, int | float | Decimal):
        return (NUMBER, value) if value == value else None  # NaN orders with nothing
    if isinstance(value, datetime):
        return DATE, key_part(value)
    if isinstance(value, str):
        return TEXT, value
    return None


class RangeTable:
    """For one compound unique index: per value of its first `width` fields, the next field's
    values in order (a sorted key list, bisected). Entries are added as documents are stored
    or changed; an entry whose document is gone is dropped when a range lookup meets it, and
    one whose document changed is skipped (the filter rechecks every candidate; a walk checks
    the entry against its document), so deletes and updates need no hook."""

    def __init__(self, fields: list[str], width: int, documents: dict[Any, Any]) -> None:
        self.prefix = fields[:width]
        self.field = fields[width]
        # (prefix key, kind) -> (sorted values, ids in the same order)
        self.sorted: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
        self.unordered: dict[tuple[Any, ...], dict[Any, None]] = {}  # prefix -> ids
        self.anywhere: dict[Any, None] = {}  # ids whose prefix holds an array or document
        for object_id, document in documents.items():
            self.add(document, object_id)

    def prefix_of(self, document: Any) -> tuple[Any, ...] | None:
        """The document's prefix key; None when the prefix holds an array or a document."""
        prefix = tuple(document.get(name) for name in self.prefix)
        if any(isinstance(part, list | dict) for part in prefix):
            return None
        return tuple(key_part(part) for part in prefix)

    def add(self, document: Any, object_id: Any) -> None:
        """Lists the document under its current prefix and value (once: a document changed in
        place, or stored again, keeps its entry)."""
        key = self.prefix_of(document)
        if key is None:
            self.anywhere[object_id] = None
            return
        found = orderable(document.get(self.field))
        if found is None:
            self.unordered.setdefault(key, {})[object_id] = None
            return
        kind, value = found
        values, ids = self.sorted.setdefault((*key, kind), ([], []))
        at = bisect.bisect_right(values, value)
        first = at
        while first > 0 and values[first - 1] == value:
            first -= 1
            if ids[first] == object_id:
                return
        values.insert(at, value)
        ids.insert(at, object_id)

    def candidates(
        self, prefix: tuple[Any, ...], kind: int, low: Any, high: Any, documents: dict[Any, Any]
    ) -> list[Any]:
        """Documents that may have `prefix` and a `kind` value in [low, high] (None: open)."""
        found: dict[Any, Any] = {}
        for other in KINDS:  # other kinds: whatever the filter decides
            entry = self.sorted.get((*prefix, other))
            if entry is None:
                continue
            values, ids = entry
            begin = 0 if other != kind or low is None else bisect.bisect_left(values, low)
            end = (
                len(values) if other != kind or high is None else bisect.bisect_right(values, high)
            )
            gone = []
            for at in range(begin, end):
                object_id = ids[at]
                document = documents.get(object_id)
                if document is None:
                    gone.append(at)
                else:
                    found[object_id] = document  # an id listed twice counts once
            for at in reversed(gone):
                del values[at], ids[at]
        for group in (self.unordered.get(prefix, {}), self.anywhere):
            for object_id in list(group):
                document = documents.get(object_id)
                if document is None:
                    del group[object_id]
                else:
                    found[object_id] = document
        return list(found.values())


def range_table(store: Any, name: str, fields: list[str], width: int) -> RangeTable:
    """The range table of index `name` over its first `width` fields (built on first use)."""
    tables: dict[tuple[str, int], RangeTable] = store.__dict__.setdefault("_tradegraph_ranges", {})
    table = tables.get((name, width))
    if table is None or [*table.prefix, table.field] != fields[: width + 1]:
        table = tables[name, width] = RangeTable(fields, width, store._documents)
    return table


def range_bound(condition: Any) -> tuple[int, Any, Any] | None:
    """(kind, low, high) of a range condition ($gt/$gte/$lt/$lte on values of one kind)."""
    if not isinstance(condition, dict) or not condition or not set(condition) <= _RANGE_OPERATORS:
        return None
    kinds = set()
    low = high = None
    for operator, value in condition.items():
        found = orderable(value)
        if found is None:
            return None
        kinds.add(found[0])
        if operator in ("$gt", "$gte"):
            low = found[1] if low is None else max(low, found[1])
        else:
            high = found[1] if high is None else min(high, found[1])
    return (kinds.pop(), low, high) if len(kinds) == 1 else None


def equality_prefixes(store: Any, spec: dict[str, Any]) -> Iterator[tuple[str, list[str], int]]:
    """(name, fields, width) of each compound unique index (no dotted field) whose first
    `width` >= 1 fields the filter sets by equality (not the last: that would be the key)."""
    for name, index in list(store.indexes.items()):
        if not index.get("unique") or index.get("partialFilterExpression") is not None:
            continue
        fields = [key for key, _ in index["key"]]
        if len(fields) < 2 or any("." in field for field in fields):
            continue
        width = 0
        while width < len(fields) - 1:
            value = equality(spec.get(fields[width], MISSING))
            if value is MISSING or is_nan(value):  # NaN: no hash finds it
                break
            width += 1
        if width:
            yield name, fields, width


def prefix_key(spec: dict[str, Any], fields: list[str]) -> tuple[Any, ...]:
    """The filter's key of the equality prefix `fields`."""
    return tuple(key_part(spec[field]) for field in fields)


def range_candidates(store: Any, spec: dict[str, Any]) -> list[Any] | None:
    """Candidates of equality on a prefix of a unique compound index plus a range on its next
    field, in index order (as MongoDB returns an unsorted find that uses the index)."""
    for name, fields, width in equality_prefixes(store, spec):
        bound = range_bound(spec.get(fields[width]))
        if bound is None:
            continue
        ranges = range_table(store, name, fields, width)
        return ranges.candidates(prefix_key(spec, fields[:width]), *bound, store._documents)
    return None
