# mypy: disable-error-code="no-untyped-call"
"""Lookups that keep the emulation's cost per call flat as collections grow.

mongomock answers every query by scanning the collection and checks a unique index by running
a query per insert, so ingest is quadratic and a `find().sort().limit(20)` sorts everything.
These patches give it what MongoDB's indexes give: a hash table per unique index (duplicate
checks and equality queries on the index's fields), direct `_id` lookups, a cached sort order
per collection version (a sorted find with a limit walks only until the limit is met), a
sorted key list for equality on a unique compound index's prefix plus a range on its next
field (a month of one-minute bars: one symbol's day is found by bisection), and aggregations
that start with `$match` filter before copying documents. Sorts, `$group` keys and simple
filters compare plain values directly where mongomock's generic BSON comparator and expression
parser give the same answer. Results stay mongomock's: candidates found by hash or range are
still checked by its filter (or an equivalent check for plain values); an unsorted find
answered from a range comes in index order, as from MongoDB, not in insertion order.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import mongomock.aggregate
import mongomock.collection
import mongomock.store
from bson import Decimal128, ObjectId
from mongomock import DuplicateKeyError, helpers
from mongomock.filtering import BsonComparable, filter_applies, resolve_key, resolve_sort_key

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
    return _range_candidates(store, spec)


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


def _quick_filter(spec: Any) -> Callable[[Any], bool | None] | None:
    """For a filter of string equalities and naive-datetime ranges on top-level fields (what
    candle reads send), a check giving mongomock's answer for documents holding exactly those
    types, and None (ask mongomock) for any other document; None for any other filter."""
    if not isinstance(spec, dict) or not spec:
        return None
    checks: list[tuple[str, type, Callable[[Any], bool]]] = []
    for name, condition in spec.items():
        if not isinstance(name, str) or name.startswith("$") or "." in name:
            return None
        if type(condition) is str:
            checks.append((name, str, functools.partial(str.__eq__, condition)))
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
    candidates = _candidates(self, filter)
    if candidates is None:
        return _original_iter_documents(self, filter)  # type: ignore[no-any-return]
    quick = _quick_filter(filter)
    if quick is None:
        return [document for document in candidates if filter_applies(filter, document)]
    found = []
    for document in candidates:
        answer = quick(document)
        if answer is None:
            answer = filter_applies(filter, document)
        if answer:
            found.append(document)
    return found


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
    self.__dict__.pop("_tradegraph_ranges", None)
    _original_drop(self)


def changed(store: Any, replaced: bool = False) -> None:
    """Call after changing stored documents in place (updates) or, with `replaced`, after
    writing them into the store directly (the lookup tables are then built again)."""
    _bump(store)
    if replaced or ("_documents" in store.__dict__ and not store._documents):
        store.__dict__.pop("_tradegraph_unique", None)
        store.__dict__.pop("_tradegraph_ranges", None)


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


def _same_plain_type(values: list[Any]) -> bool:
    """Whether BSON order among `values` is Python's: all of one type among datetime (all
    naive or all aware), str, int, float (no NaN)."""
    if not values:
        return True
    kind = type(values[0])
    if kind not in (datetime, str, int, float):
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
    if _same_plain_type(values):
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
    if isinstance(spec, dict) and _candidates(self, spec) is None:
        if self._store.is_empty:
            filter_applies(spec, {})  # mongomock validates the filter even then
        for document in _sorted_documents(self._store, pairs):
            if filter_applies(spec, document):
                yield self._copy_only_fields(document, fields, as_class)
        return
    dataset = list(self._iter_documents(spec))
    for key, direction in reversed(pairs):
        dataset = _sorted(dataset, key, direction < 0)
    for document in dataset:
        yield self._copy_only_fields(document, fields, as_class)


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


_IMMUTABLE = (str, int, float, bool, bytes, ObjectId, datetime, Decimal128, type(None))
_original_copy_field = mongomock.collection._copy_field


def _copy_field(value: Any, container: Any) -> Any:
    """mongomock's copy of a stored value for a reader, without copying immutable values
    (`copy.copy` rebuilds every Decimal128 it meets)."""
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        copy = container()  # built as mongomock builds it (any document class)
        for key, item in value.items():
            copy[key] = _copy_field(item, container)
        return copy
    if isinstance(value, list):
        return [_copy_field(item, container) for item in value]
    return _original_copy_field(value, container)


def _read_copy(value: Any, aware: bool) -> Any:
    """What find hands out for a stored value (mongomock's copy, then, with tz_aware, its
    datetimes in UTC) in one pass."""
    kind = type(value)
    if kind is datetime:
        return value.replace(tzinfo=helpers.utc) if aware else value  # type: ignore[attr-defined]
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():  # the common values inline: this runs per document
            if type(item) in _IMMUTABLE and type(item) is not datetime:
                copy[key] = item
            else:
                copy[key] = _read_copy(item, aware)
        return copy
    if kind is list:
        return [_read_copy(item, aware) for item in value]
    copied = _copy_field(value, dict)
    return helpers.make_datetime_timezone_aware_in_document(copied) if aware else copied


# -- aggregation ----------------------------------------------------------------------------


def _aggregate(
    self: mongomock.collection.Collection, pipeline: list[Any], session: Any = None, **_: Any
) -> Any:
    if pipeline and isinstance(pipeline[0], dict) and set(pipeline[0]) == {"$match"}:
        spec = pipeline[0]["$match"]
        if not isinstance(spec, dict):
            documents = list(self.find(spec))  # mongomock's own error
        else:
            spec = helpers.patch_datetime_awareness_in_document(spec)  # as find does
            aware = bool(self.codec_options.tz_aware)
            documents = [_read_copy(document, aware) for document in self._iter_documents(spec)]
        return mongomock.aggregate.process_pipeline(documents, self.database, pipeline[1:], session)
    documents = list(self.find())
    return mongomock.aggregate.process_pipeline(documents, self.database, pipeline, session)


_original_parse_expression = mongomock.aggregate._parse_expression
_FALLBACK = object()
_original_group_stage = mongomock.aggregate._handle_group_stage


def _parse_expression(expression: Any, doc_dict: Any, ignore_missing_keys: bool = False) -> Any:
    """mongomock's expression evaluation, with a field path ("$a.b") through documents read
    directly (the common case in $group accumulators, which evaluate once per document)."""
    value = _path_value(expression, doc_dict)
    if value is not _FALLBACK:
        return value
    if type(expression) is dict and len(expression) == 1 and "$ifNull" in expression:
        operands = expression["$ifNull"]  # [path, path]: the first that is there and not null
        if type(operands) is list and len(operands) == 2:
            value = _path_value(operands[0], doc_dict, missing=None)
            if value is not _FALLBACK:
                if value is not None:
                    return value
                value = _path_value(operands[1], doc_dict)
                if value is not _FALLBACK:
                    return value
    return _original_parse_expression(expression, doc_dict, ignore_missing_keys)


def _path_value(expression: Any, document: Any, missing: Any = _FALLBACK) -> Any:
    """The value at a field path ("$a.b") through documents; `missing` where a field is
    missing, _FALLBACK for anything else (not a path, a path through an array)."""
    if type(expression) is not str or not expression.startswith("$") or expression[1:2] == "$":
        return _FALLBACK
    value = document
    for part in expression[1:].split("."):
        if type(value) is not dict:
            return _FALLBACK
        if part not in value:
            return missing
        value = value[part]
    return value


def _compiled(expression: Any) -> Callable[[Any], Any] | None:
    """A function evaluating `expression` as mongomock does, for the subset a time bucket
    needs (field paths, literals, $subtract, $mod); None for anything else. It returns
    _FALLBACK where mongomock's own rules apply (a missing field, a path through an array)."""
    if isinstance(expression, str) and expression.startswith("$"):
        if expression.startswith("$$"):
            return None
        path = expression[1:].split(".")

        def read(document: Any) -> Any:
            value = document
            for part in path:
                if type(value) is not dict or part not in value:
                    return _FALLBACK
                value = value[part]
            return value

        return read
    if isinstance(expression, str | int | float | datetime) and not isinstance(expression, bool):
        return lambda _: expression
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((operator, operands),) = expression.items()
    if operator not in ("$subtract", "$mod") or not isinstance(operands, list | tuple):
        return None
    if len(operands) != 2:
        return None
    left, right = _compiled(operands[0]), _compiled(operands[1])
    if left is None or right is None:
        return None
    first, second = left, right

    def apply(document: Any) -> Any:  # mongomock's _handle_arithmetic_operator, two operands
        a, b = first(document), second(document)
        if a is _FALLBACK or b is _FALLBACK:
            return _FALLBACK
        if a is None or b is None:
            return None
        if operator == "$mod":
            return math.fmod(a, b)
        if isinstance(a, datetime) and isinstance(b, int | float):
            b = timedelta(milliseconds=b)
        result = a - b
        if isinstance(result, timedelta):
            return round(result.total_seconds() * 1000)
        return result

    return apply


def _group_stage(in_collection: Any, database: Any, options: dict[str, Any]) -> Any:
    """mongomock's $group, evaluating each document's `_id` expression once instead of twice
    (it sorts by the key, then groups by it again)."""
    expression = options["_id"]
    if not expression:
        return _original_group_stage(in_collection, database, options)

    compiled = _compiled(expression)

    def key_of(document: Any) -> Any:
        if compiled is not None:
            key = compiled(document)
            if key is not _FALLBACK:
                return key
        try:
            return mongomock.aggregate._parse_expression(
                expression, document, ignore_missing_keys=True
            )
        except KeyError:
            return None

    keyed = [(key_of(document), document) for document in in_collection]
    if _same_plain_type([key for key, _ in keyed]):
        keyed.sort(key=lambda pair: pair[0])
    else:
        keyed.sort(key=lambda pair: BsonComparable(pair[0]))
    grouped = []
    for key, group in itertools.groupby(keyed, key=lambda pair: pair[0]):
        fields = mongomock.aggregate._accumulate_group(options, [document for _, document in group])
        fields["_id"] = key
        grouped.append(fields)
    return grouped


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
    mongomock.collection._copy_field = _copy_field
    mongomock.aggregate._parse_expression = _parse_expression
    mongomock.aggregate._PIPELINE_HANDLERS["$group"] = _group_stage
    mongomock.aggregate._PIPELINE_HANDLERS["$sort"] = _sort_stage
    store = mongomock.store.CollectionStore
    store.__setitem__ = _setitem  # type: ignore[method-assign]
    store.__delitem__ = _delitem  # type: ignore[method-assign]
    store.drop = _drop  # type: ignore[method-assign]
