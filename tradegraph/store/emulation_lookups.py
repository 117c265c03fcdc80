# mypy: disable-error-code="no-untyped-call"
"""Hash and range lookups that spare the emulation its scans.

mongomock answers every query by scanning the collection and checks a unique index by running
a query per insert, so ingest is quadratic. These patches give it what MongoDB's indexes give:
a hash table per unique index (duplicate checks and equality queries on the index's fields),
direct `_id` lookups, and a sorted key list for equality on a unique compound index's prefix
plus a range on its next field (a month of one-minute bars: one symbol's day is found by
bisection); then, for any other index, emulation_prefixes' hash of its equality prefix. Results
stay mongomock's: candidates found by hash or range are still checked by
its filter (or an equivalent check for plain values, for simple filters); an unsorted find
answered from a range comes in index order, as from MongoDB, not in insertion order.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from operator import eq
from typing import Any

import mongomock.collection
from bson import Decimal128, ObjectId
from mongomock import DuplicateKeyError
from mongomock.filtering import filter_applies

from tradegraph.store.emulation_keys import MISSING, field_value, is_nan, key_part
from tradegraph.store.emulation_keys import equality as _equality
from tradegraph.store.emulation_keys import plain_object_id as _plain_object_id
from tradegraph.store.emulation_prefixes import PrefixHit, prefix_candidates, record

_original_iter_documents = mongomock.collection.Collection._iter_documents
_key_part = key_part
_field = field_value
_MISSING = MISSING


def _unique_key(document: Any, fields: list[str]) -> tuple[Any, ...]:
    return tuple(_key_part(_field(document, name)) for name in fields)


class UniqueTable:
    """Key -> id(s) of one unique index (one id, or a set while stale ids linger). Stale ids
    (deleted or changed documents) are dropped when met, so deletes and in-place updates need
    no hook."""

    def __init__(self, fields: list[str], documents: dict[Any, Any]) -> None:
        self.fields = fields
        self.ids: dict[tuple[Any, ...], Any] = {}
        for object_id, document in documents.items():
            self.add(document, object_id)

    def add(self, document: Any, object_id: Any) -> tuple[tuple[Any, ...], bool]:
        """Records the document under its key; returns the key and whether it is new there."""
        key = _unique_key(document, self.fields)
        held = self.ids.get(key, _MISSING)
        if held is _MISSING:
            self.ids[key] = object_id  # the common case: one id, no set (memory)
            return key, True
        if isinstance(held, set):
            new = object_id not in held
            held.add(object_id)
            return key, new
        if held == object_id:
            return key, False
        self.ids[key] = {held, object_id}
        return key, True

    def holders(self, key: tuple[Any, ...], documents: dict[Any, Any]) -> list[Any]:
        """The stored documents whose index key is `key` (validated, stale ids forgotten)."""
        held = self.ids.get(key, _MISSING)
        if held is _MISSING:
            return []
        ids = held if isinstance(held, set) else {held}
        found = []
        for object_id in list(ids):
            document = documents.get(object_id)
            if document is None or _unique_key(document, self.fields) != key:
                ids.discard(object_id)
            else:
                found.append(document)
        if not ids:
            del self.ids[key]
        elif len(ids) == 1:
            self.ids[key] = next(iter(ids))
        return found


# -- range lookups ---------------------------------------------------------------------------

_NUMBER, _DATE, _TEXT = 0, 1, 2
_RANGE_OPERATORS = {"$gt", "$gte", "$lt", "$lte"}


def _orderable(value: Any) -> tuple[int, Any] | None:
    """(kind, value) for a value a sorted key list can hold; None for anything else (missing,
    null, bool, NaN, arrays, documents...), whose documents are always candidates."""
    if isinstance(value, bool):
        return None
    if isinstance(value, Decimal128):
        value = value.to_decimal()
    if isinstance(value, int | float | Decimal):
        return (_NUMBER, value) if value == value else None  # NaN orders with nothing
    if isinstance(value, datetime):
        return _DATE, _key_part(value)
    if isinstance(value, str):
        return _TEXT, value
    return None


class RangeTable:
    """For one compound unique index: per value of its first `width` fields, the next field's
    values in order (a sorted key list, bisected), as MongoDB's index answers "equality on a
    prefix, range on the next field". Entries are added as documents are stored; an entry whose
    document is gone is dropped when met, and one whose document changed is skipped (the filter
    rechecks every candidate), so deletes and updates need no hook."""

    def __init__(self, fields: list[str], width: int, documents: dict[Any, Any]) -> None:
        self.prefix = fields[:width]
        self.field = fields[width]
        # (prefix key, kind) -> (sorted values, ids in the same order)
        self.sorted: dict[tuple[Any, ...], tuple[list[Any], list[Any]]] = {}
        self.unordered: dict[tuple[Any, ...], dict[Any, None]] = {}  # prefix -> ids
        self.anywhere: dict[Any, None] = {}  # ids whose prefix holds an array or document
        for object_id, document in documents.items():
            self.add(document, object_id)

    def add(self, document: Any, object_id: Any) -> None:
        prefix = tuple(_field(document, name) for name in self.prefix)
        if any(isinstance(part, list | dict) for part in prefix):
            self.anywhere[object_id] = None
            return
        key = tuple(_key_part(part) for part in prefix)
        found = _orderable(_field(document, self.field))
        if found is None:
            self.unordered.setdefault(key, {})[object_id] = None
            return
        kind, value = found
        values, ids = self.sorted.setdefault((*key, kind), ([], []))
        at = bisect.bisect_right(values, value)
        values.insert(at, value)
        ids.insert(at, object_id)

    def candidates(
        self, prefix: tuple[Any, ...], kind: int, low: Any, high: Any, documents: dict[Any, Any]
    ) -> list[Any]:
        """Documents that may have `prefix` and a `kind` value in [low, high] (None: open)."""
        found: dict[Any, Any] = {}
        for other in (_NUMBER, _DATE, _TEXT):  # other kinds: whatever the filter decides
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


def _tables(store: Any) -> dict[str, UniqueTable]:
    tables: dict[str, UniqueTable] | None = store.__dict__.get("_tradegraph_unique")
    if tables is None:
        tables = store.__dict__["_tradegraph_unique"] = {}
    return tables


def _table(store: Any, name: str, index: dict[str, Any]) -> UniqueTable:
    fields = [key for key, _ in index["key"]]
    tables = _tables(store)
    table = tables.get(name)
    if table is None or table.fields != fields:
        table = tables[name] = UniqueTable(fields, store._documents)
    return table


def _range_table(store: Any, name: str, fields: list[str], width: int) -> RangeTable:
    tables: dict[tuple[str, int], RangeTable] = store.__dict__.setdefault("_tradegraph_ranges", {})
    table = tables.get((name, width))
    if table is None or [*table.prefix, table.field] != fields[: width + 1]:
        table = tables[name, width] = RangeTable(fields, width, store._documents)
    return table


def _ensure_uniques(self: mongomock.collection.Collection, new_data: Any) -> None:
    """mongomock's check (new_data is already stored), by hash instead of by query."""
    store = self._store
    record(store, new_data)  # the non-unique tables too
    for name, index in list(store.indexes.items()):
        if not index.get("unique"):
            continue
        if index.get("partialFilterExpression") is not None:
            _scan_unique(self, new_data, index)
            continue
        table = _table(store, name, index)
        object_id = _plain_object_id(new_data["_id"])
        key, new = table.add(new_data, object_id)
        if new:  # a new document, or one whose key changed
            for (indexed, _), ranges in store.__dict__.get("_tradegraph_ranges", {}).items():
                if indexed == name:
                    ranges.add(new_data, object_id)
        if index.get("sparse") and all(part is None for part in key):
            continue
        if len(table.holders(key, store._documents)) > 1:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)


def _scan_unique(
    collection: mongomock.collection.Collection, new_data: Any, index: dict[str, Any]
) -> None:
    spec: dict[str, Any] = {key: _field(new_data, key) for key, _ in index["key"]}
    query = {"$and": [index["partialFilterExpression"], spec]}
    if len(list(_original_iter_documents(collection, query))) > 1:
        raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)


def candidates(
    collection: mongomock.collection.Collection, spec: Any, *, checked: bool = True
) -> list[Any] | None:
    """Documents that may match `spec`, found by key; None when a scan is needed. Unless
    `checked`, an index prefix's documents are not checked against its key (a superset, read
    faster: PrefixHit.unchecked), for a caller that filters each document itself."""
    found = lookup(collection, spec)
    if isinstance(found, PrefixHit):
        return found.documents if checked else found.unchecked()
    return found


def lookup(collection: mongomock.collection.Collection, spec: Any) -> list[Any] | PrefixHit | None:
    """What `candidates` finds, through the most selective index: `_id`, a unique index's
    full key, a unique compound index's equality prefix plus range, then the longest equality
    prefix of any index (a PrefixHit, which sorted finds walk in a cached order)."""
    if not isinstance(spec, dict) or not spec:
        return None
    store = collection._store
    documents = store._documents
    if "_id" in spec:
        wanted = spec["_id"]
        if isinstance(wanted, dict) and set(wanted) == {"$in"} and isinstance(wanted["$in"], list):
            ids = wanted["$in"]
        elif _equality(wanted) is not _MISSING:
            ids = [wanted]
        else:
            ids = None
        if ids is not None:
            found = (documents.get(_plain_object_id(i)) for i in ids if _hashable(i))
            return [d for d in found if d is not None]
    for name, index in list(store.indexes.items()):
        if not index.get("unique") or index.get("partialFilterExpression") is not None:
            continue
        fields = [key for key, _ in index["key"]]
        values = [_equality(spec[f]) if f in spec else _MISSING for f in fields]
        if any(value is _MISSING or is_nan(value) for value in values):
            continue
        key = tuple(_key_part(value) for value in values)
        if index.get("sparse") and all(part is None for part in key):
            continue
        return _table(store, name, index).holders(key, documents)
    ranged = _range_candidates(store, spec)
    return ranged if ranged is not None else prefix_candidates(store, spec)


def _bound(condition: Any) -> tuple[int, Any, Any] | None:
    """(kind, low, high) of a range condition ($gt/$gte/$lt/$lte on values of one kind)."""
    if not isinstance(condition, dict) or not condition or not set(condition) <= _RANGE_OPERATORS:
        return None
    kinds = set()
    low = high = None
    for operator, value in condition.items():
        found = _orderable(value)
        if found is None:
            return None
        kinds.add(found[0])
        if operator in ("$gt", "$gte"):
            low = found[1] if low is None else max(low, found[1])
        else:
            high = found[1] if high is None else min(high, found[1])
    return (kinds.pop(), low, high) if len(kinds) == 1 else None


def _range_candidates(store: Any, spec: dict[str, Any]) -> list[Any] | None:
    """Candidates of equality on a prefix of a unique compound index plus a range on its next
    field, in index order (as MongoDB returns an unsorted find that uses the index)."""
    for name, index in list(store.indexes.items()):
        if not index.get("unique") or index.get("partialFilterExpression") is not None:
            continue
        fields = [key for key, _ in index["key"]]
        if len(fields) < 2 or any("." in field for field in fields):
            continue
        width = 0
        while width < len(fields) - 1 and _equality(spec.get(fields[width], _MISSING)) is not (
            _MISSING
        ):
            width += 1
        if width == 0:
            continue
        bound = _bound(spec.get(fields[width]))
        if bound is None:
            continue
        prefix = tuple(_key_part(spec[field]) for field in fields[:width])
        ranges = _range_table(store, name, fields, width)
        return ranges.candidates(prefix, *bound, store._documents)
    return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return isinstance(value, dict)
    return True


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


_QUICK_EQUAL = (str, ObjectId, bool, int)


def quick_filter(spec: Any) -> Callable[[Any], bool | None] | None:
    """For a filter of string, ObjectId, bool or int equalities and naive-datetime ranges on
    top-level fields (what candle and per-portfolio reads send), a check giving mongomock's
    answer for documents holding exactly those types, and None (ask mongomock) for any other
    document; None for any other filter."""
    if not isinstance(spec, dict) or not spec:
        return None
    checks: list[tuple[str, type, Callable[[Any], bool]]] = []
    for name, condition in spec.items():
        if not isinstance(name, str) or name.startswith("$") or "." in name:
            return None
        if type(condition) in _QUICK_EQUAL:  # a stored value of that exact type: ==
            checks.append((name, type(condition), functools.partial(eq, condition)))
            continue
        if not isinstance(condition, dict) or not condition or not set(condition) <= set(_COMPARE):
            return None
        bounds = list(condition.items())
        if any(type(bound) is not datetime or bound.tzinfo is not None for _, bound in bounds):
            return None

        def within(value: Any, bounds: list[tuple[str, Any]] = bounds) -> bool:
            return all(_COMPARE[operator](value, bound) for operator, bound in bounds)

        checks.append((name, datetime, within))

    def check(document: Any) -> bool | None:
        for name, kind, test in checks:
            value: Any = document.get(name, _MISSING)
            if type(value) is not kind:
                return None
            if isinstance(value, datetime) and value.tzinfo is not None:
                return None
            if not test(value):
                return False
        return True

    return check


def _iter_documents(self: mongomock.collection.Collection, filter: Any) -> Iterable[Any]:
    found_by_key = candidates(self, filter)
    if found_by_key is None:
        return _original_iter_documents(self, filter)  # type: ignore[no-any-return]
    return matching(filter, found_by_key)


def matching(filter: Any, found_by_key: list[Any]) -> list[Any]:
    """The candidates `filter` matches, in their order."""
    quick = quick_filter(filter)
    if quick is None:
        return [document for document in found_by_key if filter_applies(filter, document)]
    found = []
    for document in found_by_key:
        answer = quick(document)
        if answer is None:
            answer = filter_applies(filter, document)
        if answer:
            found.append(document)
    return found


def install() -> None:
    """Patches mongomock's unique checks and document iteration (once, through
    emulation_indexes.install)."""
    collection = mongomock.collection.Collection
    collection._ensure_uniques = _ensure_uniques  # type: ignore[method-assign]
    collection._iter_documents = _iter_documents  # type: ignore[method-assign]
