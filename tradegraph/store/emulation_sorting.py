# mypy: disable-error-code="no-untyped-call"
"""Sorted finds from a sort order cached per collection version.

mongomock sorts every match of a find before applying its limit, so a `find().sort().limit(20)`
sorts everything, compares values through its generic BSON comparator, and a cursor slices a
copy of its results for every document it yields. These patches keep a cached sort order per
collection version (a sorted find with a limit walks only until the limit is met), produce only
skip + limit documents, compare plain values directly in sorts (finds and the $sort stage) where
that comparator gives the same answer, and count versions: the collection store's writes,
drops and updates bump them, and `changed` is called after changes made around mongomock (a
drop or a replacing change also forgets the lookup and prefix tables, built again when needed).
A sorted find an index serves sorts only its candidates, walks a large bucket's cached order,
or walks a compound unique index's key list from the requested end (emulation_range_walks.py).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import mongomock.aggregate
import mongomock.collection
import mongomock.store
from bson import ObjectId
from mongomock import helpers
from mongomock.filtering import filter_applies, resolve_key, resolve_sort_key

from tradegraph.store import emulation_prefixes
from tradegraph.store.emulation_keys import plain_object_id
from tradegraph.store.emulation_lookups import (
    exact_lookup,
    indexed_lookup,
    matching,
    quick_filter,
)
from tradegraph.store.emulation_prefixes import PrefixHit, forget_orders
from tradegraph.store.emulation_range_walks import range_walk

_original_get_dataset = mongomock.collection.Collection._get_dataset
_original_compute_results = mongomock.collection.Cursor._compute_results
_original_setitem = mongomock.store.CollectionStore.__setitem__
_original_delitem = mongomock.store.CollectionStore.__delitem__
_original_drop = mongomock.store.CollectionStore.drop


def _bump(store: Any) -> None:
    store.__dict__["_tradegraph_version"] = store.__dict__.get("_tradegraph_version", 0) + 1


def _setitem(self: Any, key: Any, value: Any) -> None:
    _bump(self)
    if key not in self._documents:
        self.__dict__["_tradegraph_stored"] = key  # an insert: the prefix tables put it last
        _original_setitem(self, key, value)
        return
    # Another object for a stored document: a rolled-back update puts the old one back. The
    # prefix tables learn its key again (a table rebuilt during the update knew only the new).
    forget_orders(self)
    self.__dict__.pop("_tradegraph_stored", None)
    _original_setitem(self, key, value)
    emulation_prefixes.record(self, value)


def _delitem(self: Any, key: Any) -> None:
    _bump(self)
    _original_delitem(self, key)


def _drop(self: Any) -> None:
    _bump(self)
    _forget_tables(self)
    _original_drop(self)
    self._documents = {}  # a dict, as emulation.py makes them (mongomock: an OrderedDict)


def changed(store: Any, replaced: bool = False) -> None:
    """Call after changing stored documents in place (updates) or, with `replaced`, after
    writing them into the store directly (the lookup tables are then built again)."""
    _bump(store)
    if replaced or ("_documents" in store.__dict__ and not store._documents):
        _forget_tables(store)


def _forget_tables(store: Any) -> None:
    for name in ("_tradegraph_unique", "_tradegraph_ranges", "_tradegraph_prefixes"):
        store.__dict__.pop(name, None)


def _sort_key(key: str, document: Any) -> Any:
    return resolve_sort_key(key, document)


def _sorted_documents(store: Any, sort: list[tuple[str, int]]) -> list[Any]:
    """The collection in `sort` order (stable, as mongomock sorts), cached per version."""
    version = store.__dict__.get("_tradegraph_version", 0)
    cache: dict[tuple[Any, ...], tuple[int, list[Any]]] = store.__dict__.setdefault(
        "_tradegraph_sorted", {}
    )
    cached = cache.get(tuple(sort))
    if cached is not None and cached[0] == version:
        return cached[1]
    ordered = list(store._documents.values())
    for key, direction in reversed(sort):
        ordered.sort(key=functools.partial(_sort_key, key), reverse=direction < 0)
    cache[tuple(sort)] = (version, ordered)
    return ordered


def same_plain_type(values: list[Any]) -> bool:
    """Whether BSON order among `values` is Python's: all of one type among datetime (all
    naive or all aware), str, int, float (no NaN), ObjectId (ordered by its bytes in both)."""
    if not values:
        return True
    kind = type(values[0])
    if kind not in (datetime, str, int, float, ObjectId):
        return False
    aware = kind is datetime and values[0].tzinfo is not None
    for value in values:
        if type(value) is not kind:
            return False
        if kind is float and value != value:
            return False
        if kind is datetime and (value.tzinfo is not None) != aware:
            return False
    return True


def _sorted(documents: list[Any], key: str, descending: bool) -> list[Any]:
    """mongomock's sort of `documents` by one key (stable), comparing plain values directly
    when they allow it instead of through its BSON comparator."""
    values = [resolve_key(key, document) for document in documents]
    if same_plain_type(values):
        order = sorted(range(len(documents)), key=values.__getitem__, reverse=descending)
        return [documents[at] for at in order]
    return sorted(documents, key=functools.partial(resolve_sort_key, key), reverse=descending)


def _get_dataset(
    self: mongomock.collection.Collection, spec: Any, sort: Any, fields: Any, as_class: Any
) -> Iterator[Any]:
    pairs = (list(sort.items()) if isinstance(sort, dict) else list(sort)) if sort else []
    if not pairs or any(key.startswith("$") for key, _ in pairs):
        yield from _original_get_dataset(self, spec, sort, fields, as_class)
        return
    found: list[Any] | PrefixHit | None = None
    if isinstance(spec, dict):
        found = exact_lookup(self, spec)
    if found is None and isinstance(spec, dict) and spec:
        walk = range_walk(self, spec, pairs)  # MongoDB's walk of an index, stopped at the limit
        if walk is not None:
            for document in walk:
                yield self._copy_only_fields(document, fields, as_class)
            return
        found = indexed_lookup(self, spec)
    if isinstance(spec, dict) and found is None:
        if self._store.is_empty:
            filter_applies(spec, {})  # mongomock validates the filter even then
        for document in _sorted_documents(self._store, pairs):
            if filter_applies(spec, document):
                yield self._copy_only_fields(document, fields, as_class)
        return
    if isinstance(found, PrefixHit) and found.key is not None:
        cached = found.cached_order(pairs)
        if cached is None and len(found.documents) > emulation_prefixes.SORTED_ABOVE:
            cached = found.table.ordered(found.key, found.documents, pairs, _sort_dataset), []
        if cached is not None:
            for document in _walk(self, spec, *cached, pairs):
                yield self._copy_only_fields(document, fields, as_class)
            return
    if found is None:
        dataset = list(self._iter_documents(spec))
    else:
        dataset = matching(spec, found.documents if isinstance(found, PrefixHit) else found)
    dataset = _sort_dataset(dataset, pairs)
    for document in dataset:
        yield self._copy_only_fields(document, fields, as_class)


def _sort_dataset(documents: list[Any], pairs: list[tuple[str, int]]) -> list[Any]:
    for key, direction in reversed(pairs):
        documents = _sorted(documents, key, direction < 0)
    return documents


def _walk(
    collection: mongomock.collection.Collection,
    spec: Any,
    ordered: list[Any],
    inserted: list[Any],
    pairs: list[tuple[str, int]],
) -> Iterator[Any]:
    """A large bucket's matches from its cached order, with the documents `inserted` since
    merged in (a limit stops the walk). Documents deleted or replaced since it was cached are
    passed over, moved ones fail the filter; a changed one would have dropped the order."""
    stored = collection._store._documents
    quick = quick_filter(spec)

    def wanted(document: Any) -> bool:
        if stored.get(plain_object_id(document["_id"])) is not document:
            return False
        matches = quick(document) if quick is not None else None
        return bool(filter_applies(spec, document) if matches is None else matches)

    extra = [document for document in inserted if wanted(document)]
    if len(extra) > 1:
        extra = _sort_dataset(extra, pairs)
    merged = {id(document) for document in extra}  # never twice, whatever happened since
    at = 0
    for document in ordered:
        if id(document) in merged or not wanted(document):
            continue
        while at < len(extra) and _sorts_before(extra[at], document, pairs):
            yield extra[at]
            at += 1
        yield document
    yield from extra[at:]


def _sorts_before(later: Any, earlier: Any, pairs: list[tuple[str, int]]) -> bool:
    """Whether a document stored later sorts before one stored earlier (ties keep store order,
    as mongomock's stable sort does)."""
    for key, direction in pairs:
        mine, theirs = resolve_sort_key(key, later), resolve_sort_key(key, earlier)
        if mine < theirs:
            return direction > 0
        if theirs < mine:
            return direction < 0
    return False


def _sort_stage(in_collection: Any, database: Any, options: dict[str, Any]) -> Any:
    """mongomock's $sort stage, through _sorted."""
    documents = list(in_collection)
    for key, direction in reversed(list(options.items())):
        documents = _sorted(documents, key, direction < 0)
    return documents


def _compute_results(self: Any, with_limit_and_skip: bool = False) -> list[Any]:
    """With a limit, produce only skip + limit documents instead of every match; without a
    limit or skip, the results themselves (mongomock slices a copy of them for every document
    a cursor yields, which makes reading n documents cost n^2)."""
    if with_limit_and_skip and not self._limit and not self._skip:
        with_limit_and_skip = False
    if not (with_limit_and_skip and self._limit and self._limit > 0):
        if self.__dict__.pop("_tradegraph_partial", False):
            self._results = None
        return _original_compute_results(self, with_limit_and_skip)  # type: ignore[no-any-return]
    wanted = (self._factory, self._skip, self._limit)
    if self.__dict__.get("_tradegraph_limited") != wanted:
        taken = list(itertools.islice(self._factory(), self._skip + self._limit))
        if self.collection.codec_options.tz_aware:
            taken = [helpers.make_datetime_timezone_aware_in_document(x) for x in taken]
        self.__dict__["_tradegraph_limited"] = wanted
        self.__dict__["_tradegraph_taken"] = taken
    taken = self.__dict__["_tradegraph_taken"]
    return taken[self._skip :]  # type: ignore[no-any-return]


def _tracking_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update(self: mongomock.collection.Collection, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            changed(self._store)  # documents are changed in place

    return update


def install() -> None:
    """Patches mongomock's sorted finds, cursor limits, $sort stage and collection store
    (once, through emulation_indexes.install: updates are wrapped again on every call)."""
    collection = mongomock.collection.Collection
    collection._get_dataset = _get_dataset  # type: ignore[method-assign]
    collection._update = _tracking_update(collection._update)  # type: ignore[method-assign]
    mongomock.collection.Cursor._compute_results = _compute_results  # type: ignore[method-assign]
    mongomock.aggregate._PIPELINE_HANDLERS["$sort"] = _sort_stage
    store = mongomock.store.CollectionStore
    store.__setitem__ = _setitem  # type: ignore[method-assign]
    store.__delitem__ = _delitem  # type: ignore[method-assign]
    store.drop = _drop  # type: ignore[method-assign]
