# mypy: disable-error-code="no-untyped-call"
"""Hash and range lookups that spare the emulation its scans.

mongomock answers every query by scanning the collection and checks a unique index by running
a query per insert, so ingest is quadratic. These patches give it what MongoDB's indexes give:
a hash table per unique index (duplicate checks and equality queries on the index's fields),
direct `_id` lookups, and a sorted key list for equality on a unique compound index's prefix
plus a range on its next field (emulation_ranges.py); then, for any other index,
emulation_prefixes' hash of its equality prefix. Results stay mongomock's: candidates found by
hash or range are still checked by its filter (or an equivalent check for plain values, for
simple filters); an unsorted find answered from a range comes in index order, as from MongoDB,
not in insertion order.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from datetime import datetime
from operator import eq
from typing import Any

import mongomock.collection
from bson import ObjectId
from mongomock import DuplicateKeyError
from mongomock.filtering import filter_applies

from tradegraph.store.emulation_keys import MISSING, field_value, is_nan, key_part
from tradegraph.store.emulation_keys import equality as _equality
from tradegraph.store.emulation_keys import plain_object_id as _plain_object_id
from tradegraph.store.emulation_prefixes import PrefixHit, prefix_candidates, record
from tradegraph.store.emulation_ranges import range_candidates

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
        key = table.add(new_data, object_id)[0]
        # Every time, not only for a new key: a document deleted, passed over by a range
        # lookup (which drops its entry), then stored again keeps its key in this table.
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
    full key (exact_lookup), a unique compound index's equality prefix plus range, then the
    longest equality prefix of any index (a PrefixHit, which sorted finds walk in a cached
    order)."""
    found = exact_lookup(collection, spec)
    if found is not None or not isinstance(spec, dict) or not spec:
        return found
    return indexed_lookup(collection, spec)


def indexed_lookup(
    collection: mongomock.collection.Collection, spec: dict[str, Any]
) -> list[Any] | PrefixHit | None:
    """`lookup` after exact_lookup found nothing to go by: a range, then an equality prefix."""
    ranged = range_candidates(collection._store, spec)
    return ranged if ranged is not None else prefix_candidates(collection._store, spec)


def exact_lookup(collection: mongomock.collection.Collection, spec: Any) -> list[Any] | None:
    """The documents of the filter's `_id`s or of a unique index's full key; None when the
    filter sets neither by equality."""
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
