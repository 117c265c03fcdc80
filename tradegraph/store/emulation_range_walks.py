# mypy: disable-error-code="no-untyped-call"
"""Sorted finds walked along a compound unique index from the requested end.

A find that sets a prefix of a compound unique index by equality, with or without a range on
the index's next field, and sorts by that field alone (either direction), is what MongoDB
answers by walking the index from one end and stopping at the limit: "the last candle before
t" reads one entry. The emulation read the whole range instead (every candle of the symbol
before t), then sorted it. Here the range table's sorted key list (emulation_ranges.py) is
walked from the requested end, a few entries copied at a time, each entry checked against its
document (entries of deleted or moved documents are passed over) and the whole filter applied;
the cursor stops pulling at skip + limit (emulation_sorting._compute_results).

The answer is mongomock's stable sort of the matching documents: documents listed outside the
walked list (another type of value, none, an array in the prefix; rare) are sorted aside and
merged in, and documents tied on the sort value come in store order, as mongomock's stable
sort leaves them. Like a yielding MongoDB query, a walk read in steps (emulation_reads.py)
sees what is stored when each step runs.
"""

from __future__ import annotations

import bisect
import functools
from collections.abc import Callable, Iterator
from typing import Any

import mongomock.collection
from mongomock.filtering import filter_applies, resolve_sort_key

from tradegraph.store.emulation_keys import MISSING, plain_object_id
from tradegraph.store.emulation_lookups import quick_filter
from tradegraph.store.emulation_ranges import (
    KINDS,
    RangeTable,
    equality_prefixes,
    orderable,
    prefix_key,
    range_bound,
    range_table,
)

ENABLED = True  # False: a sorted find reads its whole range (the benchmark's baseline)
CHUNK = 64  # index entries copied per step of a walk
MAX_ASIDE = 1000  # entries listed outside the walked list; more, and the find sorts them all

Key = tuple[Any, ...]


def range_walk(
    collection: mongomock.collection.Collection, spec: dict[str, Any], pairs: list[Any]
) -> Iterator[Any] | None:
    """The documents matching `spec` in `pairs` order, walked along an index; None when no
    compound unique index serves the find that way."""
    if not ENABLED or len(pairs) != 1 or pairs[0][1] not in (1, -1):
        return None
    field, direction = pairs[0]
    store = collection._store
    for name, fields, width in equality_prefixes(store, spec):
        if fields[width] != field:
            continue
        condition = spec.get(field, MISSING)
        bound = None if condition is MISSING else range_bound(condition)
        if condition is not MISSING and bound is None:
            continue
        table = range_table(store, name, fields, width)
        prefix = prefix_key(spec, fields[:width])
        kind, low, high = (_largest_kind(table, prefix), None, None) if bound is None else bound
        aside = _aside(table, prefix, kind, store._documents)
        if aside is None:
            return None
        walk = _Walk(collection, spec, table, prefix, kind, direction < 0)
        return walk.documents(low, high, aside)
    return None


def _largest_kind(table: RangeTable, prefix: Key) -> int:
    """The kind of value most of the prefix's entries hold (the others are set aside)."""
    return max(KINDS, key=lambda kind: len(table.sorted.get((*prefix, kind), ((), ()))[0]))


def _aside(
    table: RangeTable, prefix: Key, kind: int, documents: dict[Any, Any]
) -> list[Any] | None:
    """The stored documents listed for the prefix outside its `kind` list (None: too many)."""
    unordered = table.unordered.get(prefix, {})
    _forget_moved(table, unordered, documents, lambda listed: listed == (prefix, None))
    _forget_moved(table, table.anywhere, documents, lambda listed: listed[0] is None)
    groups: list[Any] = [
        table.sorted.get((*prefix, other), ((), ()))[1] for other in KINDS if other != kind
    ]
    groups += [unordered, table.anywhere]
    if sum(len(group) for group in groups) > MAX_ASIDE:
        return None
    found: dict[int, Any] = {}
    for group in groups:
        for object_id in list(group):
            document = documents.get(object_id)
            if document is None or _listed_as(table, document) == (prefix, kind):
                continue  # gone, or walked
            found[id(document)] = document
    return list(found.values())


def _forget_moved(
    table: RangeTable,
    ids: dict[Any, None],
    documents: dict[Any, Any],
    belongs: Callable[[tuple[Key | None, int | None]], bool],
) -> None:
    """Drops the ids of documents gone or moved out of a set of the range table (events
    stored, then numbered, leave it): every write lists a document again where it belongs."""
    if len(ids) <= MAX_ASIDE // 4:
        return  # few: passed over as they are
    for object_id in list(ids):
        document = documents.get(object_id)
        if document is None or not belongs(_listed_as(table, document)):
            del ids[object_id]


def _listed_as(table: RangeTable, document: Any) -> tuple[Key | None, int | None]:
    """(prefix key, kind) of the list the document's current values belong in."""
    value = orderable(document.get(table.field))
    return table.prefix_of(document), None if value is None else value[0]


def _positions(store: Any) -> dict[Any, int]:
    """Each stored id's place in the store (mongomock's order for ties), per version."""
    version = store.__dict__.get("_tradegraph_version", 0)
    cached = store.__dict__.get("_tradegraph_positions")
    if cached is None or cached[0] != version:
        cached = version, {key: at for at, key in enumerate(store._documents)}
        store.__dict__["_tradegraph_positions"] = cached
    positions: dict[Any, int] = cached[1]
    return positions


class _Walk:
    """One sorted find's walk along a prefix's `kind` list."""

    def __init__(
        self,
        collection: mongomock.collection.Collection,
        spec: dict[str, Any],
        table: RangeTable,
        prefix: Key,
        kind: int,
        descending: bool,
    ) -> None:
        self.store = collection._store
        self.spec = spec
        self.table = table
        self.prefix = prefix
        self.kind = kind
        self.descending = descending
        self.sort_key: Callable[[Any], Any] = functools.partial(resolve_sort_key, table.field)
        self.quick = quick_filter(spec)

    def matches(self, document: Any) -> bool:
        answer = self.quick(document) if self.quick is not None else None
        return bool(filter_applies(self.spec, document) if answer is None else answer)

    def in_store_order(self, documents: list[Any]) -> list[Any]:
        if len(documents) < 2:
            return documents
        positions = _positions(self.store)
        return sorted(documents, key=lambda d: positions.get(plain_object_id(d["_id"]), -1))

    def before(self, first: Any, second: Any) -> bool:
        """Whether sort key `first` comes strictly before `second` in the walk's direction."""
        return bool(second < first) if self.descending else bool(first < second)

    def documents(self, low: Any, high: Any, aside: list[Any]) -> Iterator[Any]:
        """The matching documents in order: the walk's tie groups, the set-aside merged in."""
        others = self.in_store_order([d for d in aside if self.matches(d)])
        others.sort(key=self.sort_key, reverse=self.descending)  # stable: mongomock's sort
        at = 0
        for value, ids in self.tie_groups(low, high):
            group = self.group(value, ids)
            if not group:
                continue
            mark = self.sort_key(group[0])
            while at < len(others) and self.before(self.sort_key(others[at]), mark):
                yield from self.still_matching(others[at])
                at += 1
            while at < len(others) and not self.before(mark, self.sort_key(others[at])):
                group.extend(self.still_matching(others[at]))  # tied with the group
                at += 1
            yield from self.in_store_order(group)
        for document in others[at:]:
            yield from self.still_matching(document)

    def still_matching(self, document: Any) -> list[Any]:
        """A set-aside document as it is stored now, if it still matches (set aside when the
        walk began: a step later it may be gone or changed, as a walked entry may)."""
        current = self.store._documents.get(plain_object_id(document["_id"]))
        return [] if current is None or not self.matches(current) else [current]

    def group(self, value: Any, ids: list[Any]) -> list[Any]:
        """The matching documents still listed under `value` (each once)."""
        documents = self.store._documents
        found: dict[int, Any] = {}
        for object_id in ids:
            document = documents.get(object_id)
            if document is None or id(document) in found:
                continue
            if self.table.prefix_of(document) != self.prefix:
                continue  # moved to another prefix since listed
            if orderable(document.get(self.table.field)) != (self.kind, value):
                continue  # moved to another value since listed
            if self.matches(document):
                found[id(document)] = document
        return list(found.values())

    def tie_groups(self, low: Any, high: Any) -> Iterator[tuple[Any, list[Any]]]:
        """(value, ids) per distinct value within [low, high] (None: open), from the walk's
        starting end; CHUNK entries copied at a time, whole tie groups, and the next chunk
        found by value (the lists may change between two steps of a read)."""
        entry = self.table.sorted.get((*self.prefix, self.kind))
        if entry is None:
            return
        values, ids = entry
        done: Any = MISSING  # the last value walked
        while True:
            begin = 0 if low is None else bisect.bisect_left(values, low)
            end = len(values) if high is None else bisect.bisect_right(values, high)
            if done is not MISSING:
                if self.descending:
                    end = min(end, bisect.bisect_left(values, done))
                else:
                    begin = max(begin, bisect.bisect_right(values, done))
            if begin >= end:
                return
            if self.descending:
                begin = max(begin, bisect.bisect_left(values, values[max(begin, end - CHUNK)]))
            else:
                end = min(end, bisect.bisect_right(values, values[min(end, begin + CHUNK) - 1]))
            chunk = _tie_groups(values[begin:end], ids[begin:end])
            done = chunk[-1][0] if not self.descending else chunk[0][0]
            yield from reversed(chunk) if self.descending else chunk


def _tie_groups(values: list[Any], ids: list[Any]) -> list[tuple[Any, list[Any]]]:
    """Sorted `values` and their ids as (value, ids) per distinct value, ascending."""
    groups: list[tuple[Any, list[Any]]] = []
    for value, object_id in zip(values, ids, strict=True):
        if groups and groups[-1][0] == value:
            groups[-1][1].append(object_id)
        else:
            groups.append((value, [object_id]))
    return groups
