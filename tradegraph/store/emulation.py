"""The in-process MongoDB emulation: mongomock behind PyMongo's async API.

Zero services; data in memory, snapshotted to disk by snapshots.py when a data directory
is set. Its calls run in one worker thread and use hash lookups (emulation_thread.py,
emulation_indexes.py), so none stalls the event loop. It lacks $dateTrunc, transactions
and change streams, so the rest of the code sticks to operators both it and MongoDB >= 7
accept. mongomock also cannot compare or add Decimal128 values, and refuses the options of
`create_collection`; the patches below teach it what MongoDB does there (Decimal128 is a
number; a time-series collection is, for an emulation, an ordinary one), so the code above
never has to know which store it is on.
"""

from __future__ import annotations

import decimal
import functools
import sys
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

import mongomock.aggregate
import mongomock.collection
import mongomock.database
import mongomock.filtering
import mongomock.helpers
import mongomock.store
from bson import Decimal128, ObjectId
from pymongo_async_mock import AsyncMongoMockClient, AsyncMongoMockDatabase

from tradegraph.store import emulation_indexes, emulation_journal, emulation_thread
from tradegraph.store.emulation_thread import run_in_store_thread

_original_list_collection_names = mongomock.database.Database.list_collection_names
_original_compare_type = mongomock.filtering._get_compare_type
_original_bson_compare = mongomock.filtering.bson_compare
_original_inc = mongomock.collection._inc_updater
_NUMBER_ORDER = 10  # BSON sorts all numeric types together


def _list_collection_names(
    self: mongomock.database.Database,
    filter: Any = None,
    session: Any = None,
    **_ignored: Any,  # Beanie passes authorizedCollections, which mongomock rejects
) -> list[str]:
    return _original_list_collection_names(self, filter=filter, session=session)


def _create_collection(self: mongomock.database.Database, name: str, **_options: Any) -> Any:
    # timeseries / expireAfterSeconds: the emulation stores such a collection as a plain one.
    return _original_create_collection(self, name)


_original_create_collection = mongomock.database.Database.create_collection


async def _async_create_collection(self: AsyncMongoMockDatabase, name: str, **options: Any) -> Any:
    # pymongo_async_mock hands back mongomock's own collection here, not its async wrapper.
    await run_in_store_thread(functools.partial(self.delegate.create_collection, name, **options))
    return self.get_collection(name)


_decimal_values: dict[bytes, decimal.Decimal] = {}
MAX_DECIMAL_VALUES = 200_000


def _plain(value: Any) -> Any:
    """Decimal128 as Decimal (cached: stored values repeat, and converting one costs ~10 us,
    the most of a comparison or a sum over bars); anything else as it is."""
    if not isinstance(value, Decimal128):
        return value
    bid = value.bid
    found = _decimal_values.get(bid)
    if found is None:
        if len(_decimal_values) >= MAX_DECIMAL_VALUES:
            _decimal_values.clear()
        found = _decimal_values[bid] = value.to_decimal()
    return found


_original_sum = mongomock.aggregate._GROUPING_OPERATOR_MAP["$sum"]


def _sum(values: list[Any]) -> Any:
    return _original_sum([_plain(value) for value in values])


def _compare_type(value: Any) -> int:
    if isinstance(value, Decimal128):
        return _NUMBER_ORDER
    return _original_compare_type(value)


def _bson_compare(
    op: Callable[[Any, Any], bool], a: Any, b: Any, can_compare_types: bool = True
) -> bool:
    return _original_bson_compare(op, _plain(a), _plain(b), can_compare_types)


def _inc(doc: Any, field_name: str, value: Any) -> None:
    current = doc.get(field_name, 0) if isinstance(doc, dict) else None
    if isinstance(doc, dict) and Decimal128 in (type(current), type(value)):
        with decimal.localcontext(decimal.Context(prec=34)):  # Decimal128's precision
            doc[field_name] = Decimal128(decimal.Decimal(_plain(current)) + _plain(value))
        return
    _original_inc(doc, field_name, value)


def _sort_value(value: Any) -> Any:
    """A Python value ordering as BSON does for the types we store: numbers (Decimal128
    included) by value, embedded documents field by field."""
    if isinstance(value, dict):
        return tuple((key, _sort_value(item)) for key, item in value.items())
    return _plain(value)


def _extreme_updater(pick: Callable[..., Any]) -> Callable[[Any, str, Any], None]:
    def update(doc: Any, field_name: str, value: Any) -> None:
        if isinstance(doc, dict):
            current = doc.get(field_name, value)
            doc[field_name] = pick(current, value, key=_sort_value)

    return update


def _extreme(pick: Callable[..., Any]) -> Callable[[list[Any]], Any]:
    def accumulate(values: list[Any]) -> Any:
        present = [value for value in values if value is not None]
        return pick(present, key=_plain) if present else None

    return accumulate


_original_patch_datetimes = mongomock.helpers.patch_datetime_awareness_in_document
_shared_decimals: dict[bytes, Decimal128] = {}
MAX_SHARED_DECIMALS = 200_000
_shared_datetimes: dict[datetime, datetime] = {}
MAX_SHARED_DATETIMES = 200_000


def _shared(value: Decimal128) -> Decimal128:
    """One Decimal128 object per value: prices and sizes repeat, and each object costs ~100
    bytes in every stored tick (Decimal128 is immutable, so sharing is safe)."""
    found = _shared_decimals.get(value.bid)
    if found is not None:
        return found
    if len(_shared_decimals) >= MAX_SHARED_DECIMALS:
        _shared_decimals.clear()
    _shared_decimals[value.bid] = value
    return value


_KEPT_AS_IS = (int, float, bool, type(None), ObjectId)  # mongomock stores them unchanged
MAX_SHARED_TEXT = 32  # names, symbols, types: short strings repeat (hashes, ids do not)


def _stored_form(value: Any) -> Any:
    """mongomock's copy of an inserted document (naive UTC datetimes, milliseconds), with
    repeated Decimal128 values shared."""
    kind = type(value)
    if kind is str:
        return sys.intern(value) if len(value) <= MAX_SHARED_TEXT else value
    if kind in _KEPT_AS_IS:
        return value
    if kind is dict:  # field names shared too (a decoded snapshot has its own per document)
        return {_stored_form(key): _stored_form(item) for key, item in value.items()}
    if isinstance(value, Decimal128):
        return _shared(value)
    if isinstance(value, dict):
        kind = OrderedDict if isinstance(value, OrderedDict) else dict  # as mongomock does
        return kind((key, _stored_form(item)) for key, item in value.items())
    if isinstance(value, list | tuple):
        return [_stored_form(item) for item in value]
    if isinstance(value, datetime):
        return _shared_datetime(_original_patch_datetimes(value))
    return _original_patch_datetimes(value)


def _shared_datetime(value: datetime) -> datetime:
    """One object per moment, as for Decimal128: bars of every symbol share their minute's
    start, and a built bar's first tick is often its start (datetime is immutable)."""
    found = _shared_datetimes.get(value)
    if found is not None and found.tzinfo is value.tzinfo:
        return found
    if len(_shared_datetimes) >= MAX_SHARED_DATETIMES:
        _shared_datetimes.clear()
    _shared_datetimes[value] = value
    return value


_original_store_init = mongomock.store.CollectionStore.__init__


def _collection_store_init(self: mongomock.store.CollectionStore, name: str) -> None:
    """mongomock's, with the documents in a dict: it keeps insertion order as the OrderedDict
    did (nothing uses OrderedDict's extras) at half the memory per document (~50 bytes: 40 MB
    over a seeded month of bars)."""
    _original_store_init(self, name)
    self._documents = {}  # type: ignore[assignment]


_original_add_update = mongomock.collection.BulkOperationBuilder.add_update


def _add_update_without_sort(self: Any, *args: Any, **kwargs: Any) -> Any:
    """pymongo passes `sort` to bulk updates; mongomock does not take it."""
    kwargs.pop("sort", None)
    return _original_add_update(self, *args, **kwargs)


# pymongo-async-mock wraps add_update the same way for every collection it patches, unless it
# finds a function of this name there; its own wrapper (functools.wraps) hides the name, so the
# wrappers nest until a bulk write overflows the stack. Ours carries the name it looks for.
_add_update_without_sort.__name__ = "add_update_compat"


def _install_patches() -> None:
    mongomock.collection.BulkOperationBuilder.add_update = _add_update_without_sort  # type: ignore[method-assign]
    mongomock.store.CollectionStore.__init__ = _collection_store_init  # type: ignore[method-assign]
    mongomock.database.Database.list_collection_names = _list_collection_names  # type: ignore[method-assign]
    mongomock.database.Database.create_collection = _create_collection  # type: ignore[method-assign]
    AsyncMongoMockDatabase.create_collection = _async_create_collection
    mongomock.filtering._get_compare_type = _compare_type
    mongomock.filtering.bson_compare = _bson_compare
    mongomock.collection._updaters["$inc"] = _inc
    mongomock.collection._updaters["$max"] = _extreme_updater(max)
    mongomock.collection._updaters["$min"] = _extreme_updater(min)
    mongomock.aggregate._GROUPING_OPERATOR_MAP["$min"] = _extreme(min)
    mongomock.aggregate._GROUPING_OPERATOR_MAP["$max"] = _extreme(max)
    mongomock.aggregate._GROUPING_OPERATOR_MAP["$sum"] = _sum
    mongomock.helpers.patch_datetime_awareness_in_document = _stored_form
    emulation_indexes.install()
    emulation_thread.install()
    emulation_journal.install()  # after the others: it wraps what they installed


def emulated_client() -> AsyncMongoMockClient:
    _install_patches()
    return AsyncMongoMockClient(tz_aware=True)
