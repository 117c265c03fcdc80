# mypy: disable-error-code="no-untyped-call"
"""Lookups that keep the emulation's cost per call flat as collections grow.

mongomock answers every query by scanning the collection and checks a unique index by running
a query per insert, so ingest is quadratic and a `find().sort().limit(20)` sorts everything.
These patches give it what MongoDB's indexes give: a hash table per unique index (duplicate
checks and equality queries on the index's fields), direct `_id` lookups, a cached sort order
per collection version (a sorted find with a limit walks only until the limit is met), and
aggregations that start with `$match` filter before copying documents. Results stay exactly
mongomock's: candidates found by hash are still checked with mongomock's own filter.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

import mongomock.aggregate
import mongomock.collection
import mongomock.store
from bson import Decimal128, ObjectId
from mongomock import DuplicateKeyError, helpers
from mongomock.filtering import filter_applies, resolve_sort_key

_SIMPLE = (str, int, float, bool, ObjectId, datetime, Decimal128, type(None))
_MISSING = object()

_original_iter_documents = mongomock.collection.Collection._iter_documents
_original_get_dataset = mongomock.collection.Collection._get_dataset
_original_compute_results = mongomock.collection.Cursor._compute_results
_original_setitem = mongomock.store.CollectionStore.__setitem__
_original_delitem = mongomock.store.CollectionStore.__delitem__
_original_drop = mongomock.store.CollectionStore.drop


def _key_part(value: Any) -> Any:
    """A hashable stand-in equal for values MongoDB's equality treats as equal."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict):
        return tuple((k, _key_part(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("[]", tuple(_key_part(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return value


def _field(document: Any, path: str) -> Any:
    try:
        return helpers.get_value_by_dot(document, path)
    except (KeyError, IndexError, TypeError):
        return None


def _unique_key(document: Any, fields: list[str]) -> tuple[Any, ...]:
    return tuple(_key_part(_field(document, name)) for name in fields)


class UniqueTable:
    """Key -> ids of one unique index. Stale ids (deleted or changed documents) are dropped
    when met, so deletes and in-place updates need no hook."""

    def __init__(self, fields: list[str], documents: dict[Any, Any]) -> None:
        self.fields = fields
        self.ids: dict[tuple[Any, ...], set[Any]] = {}
        for object_id, document in documents.items():
            self.add(document, object_id)

    def add(self, document: Any, object_id: Any) -> tuple[Any, ...]:
        key = _unique_key(document, self.fields)
        self.ids.setdefault(key, set()).add(object_id)
        return key

    def holders(self, key: tuple[Any, ...], documents: dict[Any, Any]) -> list[Any]:
        """The stored documents whose index key is `key` (validated, stale ids forgotten)."""
        ids = self.ids.get(key)
        if not ids:
            return []
        found = []
        for object_id in list(ids):
            document = documents.get(object_id)
            if document is None or _unique_key(document, self.fields) != key:
                ids.discard(object_id)
            else:
                found.append(document)
        if not ids:
            del self.ids[key]
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


def _plain_object_id(object_id: Any) -> Any:
    return helpers.hashdict(object_id) if isinstance(object_id, dict) else object_id


def _ensure_uniques(self: mongomock.collection.Collection, new_data: Any) -> None:
    """mongomock's check (new_data is already stored), by hash instead of by query."""
    store = self._store
    for name, index in list(store.indexes.items()):
        if not index.get("unique"):
            continue
        if index.get("partialFilterExpression") is not None:
            _scan_unique(self, new_data, index)
            continue
        table = _table(store, name, index)
        key = table.add(new_data, _plain_object_id(new_data["_id"]))
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


def _equality(value: Any) -> Any:
    """The value a filter entry requires equality with, or _MISSING for operators."""
    if isinstance(value, dict) and any(str(k).startswith("$") for k in value):
        return _MISSING
    return value if isinstance(value, _SIMPLE) else _MISSING


def _candidates(collection: mongomock.collection.Collection, spec: Any) -> list[Any] | None:
    """Documents that may match `spec`, found by key; None when a scan is needed."""
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
        if any(value is _MISSING for value in values):
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


def _iter_documents(self: mongomock.collection.Collection, filter: Any) -> Iterable[Any]:
    candidates = _candidates(self, filter)
    if candidates is None:
        return _original_iter_documents(self, filter)  # type: ignore[no-any-return]
    return [document for document in candidates if filter_applies(filter, document)]


# -- sorted finds ---------------------------------------------------------------------------


def _bump(store: Any) -> None:
    store.__dict__["_tradegraph_version"] = store.__dict__.get("_tradegraph_version", 0) + 1


def _setitem(self: Any, key: Any, value: Any) -> None:
    _bump(self)
    _original_setitem(self, key, value)


def _delitem(self: Any, key: Any) -> None:
    _bump(self)
    _original_delitem(self, key)


def _drop(self: Any) -> None:
    _bump(self)
    self.__dict__.pop("_tradegraph_unique", None)
    _original_drop(self)


def changed(store: Any) -> None:
    """Call after changing stored documents in place (updates) or replacing them wholesale."""
    _bump(store)
    if "_documents" in store.__dict__ and not store._documents:
        store.__dict__.pop("_tradegraph_unique", None)


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


def _get_dataset(
    self: mongomock.collection.Collection, spec: Any, sort: Any, fields: Any, as_class: Any
) -> Iterator[Any]:
    if sort and isinstance(spec, dict) and _candidates(self, spec) is None:
        pairs = list(sort.items()) if isinstance(sort, dict) else list(sort)
        if all(not key.startswith("$") for key, _ in pairs):
            if self._store.is_empty:
                filter_applies(spec, {})  # mongomock validates the filter even then
            for document in _sorted_documents(self._store, pairs):
                if filter_applies(spec, document):
                    yield self._copy_only_fields(document, fields, as_class)
            return
    yield from _original_get_dataset(self, spec, sort, fields, as_class)


def _compute_results(self: Any, with_limit_and_skip: bool = False) -> list[Any]:
    """With a limit, produce only skip + limit documents instead of every match."""
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


# -- aggregation ----------------------------------------------------------------------------


def _aggregate(
    self: mongomock.collection.Collection, pipeline: list[Any], session: Any = None, **_: Any
) -> Any:
    if pipeline and isinstance(pipeline[0], dict) and set(pipeline[0]) == {"$match"}:
        documents = list(self.find(pipeline[0]["$match"]))
        return mongomock.aggregate.process_pipeline(documents, self.database, pipeline[1:], session)
    documents = list(self.find())
    return mongomock.aggregate.process_pipeline(documents, self.database, pipeline, session)


def _tracking_update(original: Callable[..., Any]) -> Callable[..., Any]:
    def update(self: mongomock.collection.Collection, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, *args, **kwargs)
        finally:
            changed(self._store)  # documents are changed in place

    return update


def install() -> None:
    """Patches mongomock (idempotent)."""
    collection = mongomock.collection.Collection
    if getattr(collection, "_tradegraph_indexes", False):
        return
    collection._tradegraph_indexes = True  # type: ignore[attr-defined]
    collection._ensure_uniques = _ensure_uniques  # type: ignore[method-assign]
    collection._iter_documents = _iter_documents  # type: ignore[method-assign]
    collection._get_dataset = _get_dataset  # type: ignore[method-assign]
    collection.aggregate = _aggregate  # type: ignore[method-assign]
    collection._update = _tracking_update(collection._update)  # type: ignore[method-assign]
    mongomock.collection.Cursor._compute_results = _compute_results  # type: ignore[method-assign]
    store = mongomock.store.CollectionStore
    store.__setitem__ = _setitem  # type: ignore[method-assign]
    store.__delitem__ = _delitem  # type: ignore[method-assign]
    store.drop = _drop  # type: ignore[method-assign]
