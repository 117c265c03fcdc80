# mypy: disable-error-code="no-untyped-call"
"""Equality on the leading fields of any declared index, found by hash, as MongoDB's
non-unique indexes find it.

For each index's field prefix a filter uses with equality (or `$in`), a table maps the
prefix's key to the ids stored under it, in the order they were added. Tables are built on
first use and fed by every insert and in-place update (mongomock's `_ensure_uniques` hook);
an id met under a key its document no longer has, or whose document is gone, is dropped then,
and a table grown twice the collection's size is built again. Documents whose prefix holds
or crosses an array are candidates of every key (an equality filter matches any element).
Candidates are still checked by the filter: a table may over-include, never miss.

A sorted find over a large bucket (one user's 40,000 events by time) walks a sort order of
the bucket cached until one of its documents changes, instead of sorting it for every page;
documents inserted since are merged in as it walks (a new event does not sort 40,000 again).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from itertools import product
from typing import Any

from tradegraph.store.emulation_keys import (
    ARRAY,
    MISSING,
    equality,
    is_nan,
    key_part,
    path_value,
    plain_object_id,
)

ENABLED = True  # False: only unique indexes find documents (the benchmark's baseline)
MAX_KEYS = 64  # keys an `$in` may expand to; more, and the filter scans
SORTED_ABOVE = 500  # candidates; a sorted find over more walks a cached order of its bucket
MAX_SORTED = 32  # cached bucket orders per table
MAX_PENDING = 64  # documents inserted into a bucket since its order was cached; more: sort again
_DIRECTIONS = (1, -1, "hashed")

Key = tuple[Any, ...]
Sorter = Callable[[list[Any], list[tuple[str, int]]], list[Any]]


class PrefixTable:
    """Key of `fields` -> ids of the documents holding it (insertion-ordered)."""

    def __init__(self, fields: tuple[str, ...], documents: dict[Any, Any]) -> None:
        self.fields = fields
        self.paths = [name.split(".") for name in fields]
        self.buckets: dict[Key, dict[Any, None]] = {}
        self.anywhere: dict[Any, None] = {}  # ids whose prefix holds an array
        self.entries = 0  # ids held, stale ones included
        self.orders: dict[Key, dict[tuple[Any, ...], list[Any]]] = {}  # cached sorted buckets
        self.pending: dict[Key, dict[Any, Any]] = {}  # id -> document inserted since
        for object_id, document in documents.items():
            self.add(document, object_id)

    def key_of(self, document: Any) -> Key | None:
        """The document's key; None when its prefix holds or crosses an array."""
        parts = []
        for path in self.paths:
            value = path_value(document, path)
            if value is ARRAY:
                return None
            parts.append(key_part(value))
        return tuple(parts)

    def add(self, document: Any, object_id: Any, fresh: bool = False) -> None:
        """Records a stored or changed document; `fresh`: just inserted (last in the store)."""
        key = self.key_of(document)
        if key is None:
            if object_id not in self.anywhere:
                self.anywhere[object_id] = None
                self.entries += 1
            self.forget_orders()  # a candidate of every key
            return
        if key in self.orders:
            pending = self.pending.setdefault(key, {})
            if not fresh and object_id in pending:  # changed since inserted (an event numbered)
                pending[object_id] = document  # the walk sorts it as it is now
            elif fresh and len(pending) < MAX_PENDING:  # the others' order holds: merge it in
                pending.pop(object_id, None)
                pending[object_id] = document
            else:  # a cached document changed: its place may have too
                self.forget_orders(key)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = self.buckets[key] = {}
        if object_id not in bucket:
            bucket[object_id] = None
            self.entries += 1
        elif fresh:  # a reinserted _id: last, as in the store
            del bucket[object_id]
            bucket[object_id] = None

    def holders(self, key: Key, documents: dict[Any, Any]) -> list[Any]:
        """The stored documents that may hold `key` (stale ids forgotten)."""
        found = []
        bucket = self.buckets.get(key)
        if bucket:
            gone = []
            for object_id in bucket:
                document = documents.get(object_id)
                if document is not None and self.key_of(document) == key:
                    found.append(document)
                else:
                    gone.append(object_id)
            for object_id in gone:
                del bucket[object_id]
            self.entries -= len(gone)
            if not bucket:
                del self.buckets[key]
        if self.anywhere:
            gone = []
            for object_id in self.anywhere:
                document = documents.get(object_id)
                if document is not None and self.key_of(document) is None:
                    found.append(document)
                else:
                    gone.append(object_id)
            for object_id in gone:
                del self.anywhere[object_id]
            self.entries -= len(gone)
        return found

    def listed(self, key: Key, documents: dict[Any, Any]) -> list[Any]:
        """The stored documents listed under `key` (and those of no key), not checked against
        it: a pass of dictionary reads, where `holders` computes every document's key (~20 ms
        for 10,000). For callers that apply the whole filter to each document anyway."""
        ids = [*self.buckets.get(key, ()), *self.anywhere]
        found = [documents.get(object_id) for object_id in ids]
        return [document for document in found if document is not None]

    def forget_orders(self, key: Key | None = None) -> None:
        """Drops the cached orders (and what was inserted since) of `key`, or of every key."""
        if key is None:
            self.orders.clear()
            self.pending.clear()
        else:
            self.orders.pop(key, None)
            self.pending.pop(key, None)

    def ordered(
        self, key: Key, candidates: list[Any], sort: list[tuple[str, int]], sorter: Sorter
    ) -> list[Any]:
        """`candidates` (the holders of `key`) in `sort` order, cached until the bucket
        changes. The cached list may hold documents deleted or moved since: walk it checking
        each is still stored, and through the filter."""
        by_sort = self.orders.get(key)
        if by_sort is not None and self.pending.get(key):
            self.forget_orders(key)  # `candidates` holds the pending ones: one order, fresh
            by_sort = None
        if by_sort is None:
            by_sort = self.orders[key] = {}
            while len(self.orders) > MAX_SORTED:
                self.forget_orders(next(iter(self.orders)))
        found = by_sort.get(tuple(sort))
        if found is None:
            found = by_sort[tuple(sort)] = sorter(candidates, sort)
        return found


class PrefixHit:
    """What a prefix table found for a filter: its keys, and their holders when asked."""

    def __init__(self, table: PrefixTable, keys: list[Key], stored: dict[Any, Any]) -> None:
        self.table = table
        self.keys = keys
        self.key = keys[0] if len(keys) == 1 else None
        self._stored = stored

    @functools.cached_property
    def documents(self) -> list[Any]:
        """The stored documents that may hold one of the keys (each once)."""
        return self._each_once(self.table.holders)

    def unchecked(self) -> list[Any]:
        """Like `documents`, but not checked against the keys (PrefixTable.listed): a superset
        of them, for a caller that filters every document itself (emulation_split.py)."""
        return self._each_once(self.table.listed)

    def _each_once(self, read: Callable[[Key, dict[Any, Any]], list[Any]]) -> list[Any]:
        if self.key is not None:
            return read(self.key, self._stored)
        found: dict[int, Any] = {}
        for key in self.keys:  # a document holding several keys (arrays) counts once
            for document in read(key, self._stored):
                found.setdefault(id(document), document)
        return list(found.values())

    def cached_order(self, sort: list[tuple[str, int]]) -> tuple[list[Any], list[Any]] | None:
        """The bucket's cached order for `sort`, if it has one (no holders needed), and the
        documents inserted into the bucket since, in insertion order."""
        if self.key is None:
            return None
        found = self.table.orders.get(self.key, {}).get(tuple(sort))
        if found is None:
            return None
        return found, list(self.table.pending.get(self.key, {}).values())


def tables(store: Any) -> dict[tuple[str, ...], PrefixTable]:
    found: dict[tuple[str, ...], PrefixTable] | None = store.__dict__.get("_tradegraph_prefixes")
    if found is None:
        found = store.__dict__["_tradegraph_prefixes"] = {}
    return found


def record(store: Any, document: Any) -> None:
    """Feeds every built table a stored or changed document (insert and in-place update)."""
    inserted = store.__dict__.pop("_tradegraph_stored", MISSING)  # set by the store's insert
    built = store.__dict__.get("_tradegraph_prefixes")
    if not built:
        return
    object_id = plain_object_id(document["_id"])
    fresh = inserted == object_id
    limit = 2 * len(store._documents) + 1024
    for fields, table in list(built.items()):
        table.add(document, object_id, fresh)
        if table.entries > limit:  # stale ids piled up under keys nobody asked for
            built[fields] = PrefixTable(fields, store._documents)


def forget_orders(store: Any) -> None:
    """After a stored document was swapped for another object (a rolled-back update)."""
    for table in store.__dict__.get("_tradegraph_prefixes", {}).values():
        table.forget_orders()


def _wanted(condition: Any) -> list[Any] | None:
    """The values a filter entry requires equality with (equality, $eq, $in), or None."""
    if isinstance(condition, dict) and len(condition) == 1:
        operator, operand = next(iter(condition.items()))
        if operator == "$eq":
            values = [operand]
        elif operator == "$in" and isinstance(operand, list | tuple) and operand:
            values = list(operand)
        else:
            return None
    else:
        values = [condition]
    for value in values:
        if equality(value) is MISSING or is_nan(value):
            return None
    return values


def _usable_fields(index: dict[str, Any]) -> list[str] | None:
    pairs = index.get("key") or []
    if any(direction not in _DIRECTIONS for _, direction in pairs):
        return None  # text, geo...: not an ordinary index
    return [name for name, _ in pairs]


def prefix_candidates(store: Any, spec: dict[str, Any]) -> PrefixHit | None:
    """Candidates from the longest equality prefix of any declared index, or None."""
    if not ENABLED:
        return None
    best: tuple[str, ...] = ()
    best_values: list[list[Any]] = []
    for index in list(store.indexes.values()):
        fields = _usable_fields(index)
        if not fields:
            continue
        values: list[list[Any]] = []
        for name in fields:
            wanted = _wanted(spec[name]) if name in spec else None
            if wanted is None:
                break
            values.append(wanted)
        if len(values) > len(best):
            best, best_values = tuple(fields[: len(values)]), values
    if not best:
        return None
    keys = _keys(best_values)
    if keys is None:
        return None
    table = tables(store).get(best)
    if table is None:
        table = tables(store)[best] = PrefixTable(best, store._documents)
    return PrefixHit(table, keys, store._documents)


def _keys(values: list[list[Any]]) -> list[Key] | None:
    count = 1
    for options in values:
        count *= len(options)
    if count > MAX_KEYS:
        return None
    keys = {tuple(key_part(v) for v in combination): None for combination in product(*values)}
    return list(keys)
