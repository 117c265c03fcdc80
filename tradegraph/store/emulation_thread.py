"""Runs the emulation's work in one worker thread, so no store call stalls the event loop.

pymongo-async-mock's "async" methods call mongomock synchronously on the event loop: a slow
query (a scan, a large aggregation, a batch insert) freezes every other request while it runs.
Here each of those calls runs in a single dedicated thread instead. One thread also serialises
them, which is what mongomock (not thread-safe) needs; whatever else touches the emulated data
(snapshots, the retention sweeper) goes through `run_in_store_thread` too. Long aggregations
and large finds run there in short steps, taking turns in the long lane (emulation_split.py,
emulation_reads.py, emulation_lane.py), so other calls get in between.

Each call ends by appending its changes to the journal (emulation_journal.commit), in the same
thread, so a change is in the journal before the call returns; with TRADEGRAPH_JOURNAL_SYNC_MS
0 the call also waits for the fsync that covers it. A call on the documents of a collection
still loading after a restart first waits for it (loading_gate.py).
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pymongo_async_mock import (
    AsyncCommandCursor,
    AsyncCursor,
    AsyncMongoMockClient,
    AsyncMongoMockCollection,
    AsyncMongoMockDatabase,
)

from tradegraph.store import emulation_journal
from tradegraph.store.emulation_reads import (
    compute_in_steps,
    first_result,
    next_result,
    remaining,
)
from tradegraph.store.emulation_split import split_aggregate
from tradegraph.store.journal import JournalWriter
from tradegraph.store.loading_gate import loaded

T = TypeVar("T")

SWITCH_INTERVAL_SECONDS = 0.0005
_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradegraph-store")

_COLLECTION_METHODS = [
    "bulk_write",
    "count_documents",
    "create_index",
    "create_indexes",
    "delete_many",
    "delete_one",
    "drop_index",
    "drop_indexes",
    "drop",
    "distinct",
    "estimated_document_count",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "index_information",
    "insert_many",
    "insert_one",
    "replace_one",
    "update_many",
    "update_one",
]
_DATABASE_METHODS = ["drop_collection", "list_collection_names", "validate_collection"]
# Index definitions are restored at once; only calls on documents wait for a loading collection.
_INDEX_METHODS = frozenset(
    {"create_index", "create_indexes", "drop_index", "drop_indexes", "index_information"}
)


Ticket = tuple[JournalWriter, int] | None


def _journaled(call: Callable[..., T], args: tuple[Any, ...]) -> tuple[T, Ticket]:
    try:
        result = call(*args)
    except BaseException as error:
        error.__dict__["_tradegraph_ticket"] = emulation_journal.commit()  # it may have written
        raise
    return result, emulation_journal.commit()


async def _acknowledged(ticket: Ticket) -> None:
    if ticket is not None and ticket[0].sync_ms == 0:
        await ticket[0].durable(ticket[1])


async def run_in_store_thread(call: Callable[..., T], *args: Any) -> T:
    """Runs `call(*args)` in the store thread, after every store call queued before it; its
    changes are journaled before it returns (and fsynced, with a sync interval of 0)."""
    loop = asyncio.get_running_loop()
    try:
        result, ticket = await loop.run_in_executor(_executor, _journaled, call, args)
    except BaseException as error:
        await _acknowledged(error.__dict__.pop("_tradegraph_ticket", None))
        raise
    await _acknowledged(ticket)
    return result


def _inner(instance: Any, cls_name: str, attribute: str) -> Any:
    return instance.__dict__[f"_{cls_name}__{attribute}"]


def _threaded_collection_method(name: str) -> Callable[..., Any]:
    gated = name not in _INDEX_METHODS

    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        collection = _inner(self, "AsyncMongoMockCollection", "collection")
        if gated:
            await loaded(collection._store)
        call = functools.partial(getattr(collection, name), *args, **kwargs)
        return await run_in_store_thread(call)

    method.__name__ = name
    return method


def _threaded_database_method(name: str) -> Callable[..., Any]:
    async def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        database = _inner(self, "AsyncMongoMockDatabase", "database")
        call = functools.partial(getattr(database, name), *args, **kwargs)
        return await run_in_store_thread(call)

    method.__name__ = name
    return method


async def _aggregate(self: Any, *args: Any, **kwargs: Any) -> Any:
    collection = _inner(self, "AsyncMongoMockCollection", "collection")
    await loaded(collection._store)
    plain = all(value is None for value in kwargs.values())  # e.g. Beanie's session=None
    if len(args) == 1 and plain and isinstance(args[0], list):  # a long one: in steps
        results = await split_aggregate(collection, args[0], run_in_store_thread)
        if results is not None:
            from mongomock.command_cursor import CommandCursor

            return AsyncCommandCursor(CommandCursor(results))  # type: ignore[no-untyped-call]
    cursor = await run_in_store_thread(functools.partial(collection.aggregate, *args, **kwargs))
    return AsyncCommandCursor(cursor)


async def _list_indexes(self: Any, *args: Any, **kwargs: Any) -> Any:
    from mongomock.command_cursor import CommandCursor

    collection = _inner(self, "AsyncMongoMockCollection", "collection")
    rows = await run_in_store_thread(lambda: list(collection.list_indexes(*args, **kwargs)))
    return AsyncCommandCursor(CommandCursor(rows))  # type: ignore[no-untyped-call]


async def _find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
    """mongomock's find_one (its first result), read in steps up to that result."""
    collection = _inner(self, "AsyncMongoMockCollection", "collection")
    await loaded(collection._store)
    if filter is None:
        filter = {}
    if not isinstance(filter, Mapping):
        filter = {"_id": filter}  # as mongomock's find_one does
    find = functools.partial(collection.find, filter, *args, **kwargs)
    return await first_result(find, run_in_store_thread)


async def _cursor_next(self: Any) -> Any:
    cursor = _inner(self, "AsyncCursor", "cursor")
    # The first read computes the results (the expensive part, in steps); later ones read them.
    if cursor._emitted == 0:
        await loaded(cursor.collection._store)
        if not await compute_in_steps(cursor, run_in_store_thread):
            raise StopAsyncIteration()
    found, document = next_result(cursor)
    if not found:
        raise StopAsyncIteration()
    return document


async def _cursor_to_list(self: Any, *args: Any, **kwargs: Any) -> list[Any]:
    cursor = _inner(self, "AsyncCursor", "cursor")
    await loaded(cursor.collection._store)
    if not await compute_in_steps(cursor, run_in_store_thread):
        return []
    return remaining(cursor)


async def _cursor_distinct(self: Any, *args: Any, **kwargs: Any) -> Any:
    cursor = _inner(self, "AsyncCursor", "cursor")
    await loaded(cursor.collection._store)
    return await run_in_store_thread(functools.partial(cursor.distinct, *args, **kwargs))


async def _drop_database(self: Any, *args: Any, **kwargs: Any) -> Any:
    client = _inner(self, "AsyncMongoMockClient", "client")
    return await run_in_store_thread(functools.partial(client.drop_database, *args, **kwargs))


def install() -> None:
    """Moves pymongo-async-mock's blocking calls into the store thread (idempotent)."""
    if getattr(AsyncMongoMockCollection, "_tradegraph_threaded", False):
        return
    # While the store thread computes, the event loop gets the GIL back only when the store
    # thread is made to drop it, after the switch interval (5 ms by default), and it needs it
    # back after each of its system calls: a request doing ten waits 50 ms. 0.5 ms bounds it.
    sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_SECONDS))
    AsyncMongoMockCollection._tradegraph_threaded = True
    for name in _COLLECTION_METHODS:
        setattr(AsyncMongoMockCollection, name, _threaded_collection_method(name))
    AsyncMongoMockCollection.aggregate = _aggregate
    AsyncMongoMockCollection.find_one = _find_one
    AsyncMongoMockCollection.list_indexes = _list_indexes
    for name in _DATABASE_METHODS:
        setattr(AsyncMongoMockDatabase, name, _threaded_database_method(name))
    AsyncCursor.next = _cursor_next
    AsyncCursor.__anext__ = _cursor_next
    AsyncCursor.to_list = _cursor_to_list
    AsyncCursor.distinct = _cursor_distinct
    AsyncMongoMockClient.drop_database = _drop_database
