# mypy: disable-error-code="no-untyped-call"
"""What the emulation writes into its journal, and how a journal is applied at startup.

Every change to stored data passes through a few mongomock methods (a document stored or
deleted, a document updated in place, a collection dropped or created, an index created or
dropped); patched here, they note which document or collection changed. At the end of each
store-thread call (emulation_thread.py), `commit` turns the notes into records holding the
documents as they now are, and appends them to the database's journal before the call's
caller hears back.

Records are physical (a document's whole new value, or its deletion), not the operations that
made them: applying them again to any later state gives the same result, which is what lets a
snapshot be captured while writes go on (the journal restarts at the capture's beginning).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import bson
import mongomock.collection
import mongomock.store
from bson.codec_options import CodecOptions
from mongomock import helpers

from tradegraph.store.emulation_sorting import changed
from tradegraph.store.journal import JournalWriter

_RAW: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=False)
OPS_PER_RECORD = 500  # a record stays far below BSON's 16 MB whatever one call changed
_DOCUMENT = "doc"

# The changes of the store-thread call running now: (kind, collection store, detail).
# Only the store thread touches it (mongomock is single-threaded behind it).
_notes: list[tuple[str, Any, Any]] = []


def _note(kind: str, store: Any, detail: Any) -> None:
    if store.__dict__.get("_tradegraph_journal") is not None:
        _notes.append((kind, store, detail))


def key_of(document_id: Any) -> Any:
    return helpers.hashdict(document_id) if isinstance(document_id, dict) else document_id


def _after(original: Callable[..., Any], kind: str, detail: Callable[..., Any]) -> Any:
    """`original` (a CollectionStore method), noting a change once it succeeded."""

    def method(self: Any, *args: Any) -> Any:
        result = original(self, *args)
        _note(kind, self, detail(*args))
        return result

    return method


def _updating(original: Callable[..., Any]) -> Callable[..., Any]:
    """A Collection method that changes `existing_document` in place."""

    def method(self: Any, existing_document: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return original(self, existing_document, *args, **kwargs)
        finally:  # a failed update may have changed part of it (mongomock then restores it)
            if "_id" in existing_document:
                _note(_DOCUMENT, self._store, key_of(existing_document["_id"]))

    return method


def _drop_indexes(original: Callable[..., Any]) -> Callable[..., Any]:
    def method(self: Any, *args: Any, **kwargs: Any) -> Any:
        result = original(self, *args, **kwargs)
        _note("drop_indexes", self._store, None)
        return result

    return method


def _database_collection(original: Callable[..., Any]) -> Callable[..., Any]:
    """DatabaseStore.__getitem__, giving a new collection store its database's journal."""

    def method(self: Any, name: str) -> Any:
        store = original(self, name)
        if "_tradegraph_journal" not in store.__dict__:
            store.__dict__["_tradegraph_journal"] = self.__dict__.get("_tradegraph_journal")
        return store

    return method


def install() -> None:
    """Patches mongomock's stores to note changes (idempotent; after the other patches)."""
    store = mongomock.store.CollectionStore
    if getattr(store, "_tradegraph_journaled", False):
        return
    store._tradegraph_journaled = True  # type: ignore[attr-defined]
    store.__setitem__ = _after(store.__setitem__, _DOCUMENT, lambda key, _: key)  # type: ignore[method-assign]
    store.__delitem__ = _after(store.__delitem__, _DOCUMENT, lambda key: key)  # type: ignore[method-assign]
    store.drop = _after(store.drop, "drop", lambda: None)  # type: ignore[method-assign]
    store.create = _after(store.create, "create", lambda: None)  # type: ignore[method-assign]
    store.create_index = _after(store.create_index, "index", lambda name, spec: name)  # type: ignore[method-assign]
    store.drop_index = _after(store.drop_index, "drop_index", lambda name: name)  # type: ignore[method-assign]
    collection = mongomock.collection.Collection
    for name in ("_apply_update_document", "_apply_update_pipeline"):
        setattr(collection, name, _updating(getattr(collection, name)))
    collection.drop_indexes = _drop_indexes(collection.drop_indexes)  # type: ignore[method-assign]
    database = mongomock.store.DatabaseStore
    database.__getitem__ = _database_collection(database.__getitem__)  # type: ignore[method-assign]


def attach(database_store: Any, journal: JournalWriter) -> None:
    """From now on, changes to `database_store` are journaled (call in the store thread)."""
    database_store.__dict__["_tradegraph_journal"] = journal
    for store in database_store._collections.values():
        store.__dict__["_tradegraph_journal"] = journal


def detach(database_store: Any) -> None:
    database_store.__dict__["_tradegraph_journal"] = None
    for store in database_store._collections.values():
        store.__dict__["_tradegraph_journal"] = None


def _index_safe(value: Any) -> Any:
    """Index definitions hold tuples of (field, direction); BSON wants lists."""
    if isinstance(value, dict):
        return {key: _index_safe(item) for key, item in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [_index_safe(item) for item in value]  # tuples, lists, dict_items
    return value


def _operation(kind: str, store: Any, detail: Any) -> dict[str, Any]:
    name = store.name
    if kind == _DOCUMENT:
        document = store._documents.get(detail)
        if document is None:
            return {"o": "del", "c": name, "k": detail}
        return {"o": "put", "c": name, "d": document}
    if kind == "index":
        spec = store.indexes.get(detail)
        if spec is None:  # dropped again within the same call
            return {"o": "drop_index", "c": name, "n": detail}
        return {"o": "index", "c": name, "n": detail, "s": _index_safe(spec)}
    if kind == "drop_index":
        return {"o": "drop_index", "c": name, "n": detail}
    return {"o": kind, "c": name}  # drop, create, drop_indexes


def commit() -> tuple[JournalWriter, int] | None:
    """Appends the running call's changes (store thread); returns what to await for fsync."""
    if not _notes:
        return None
    notes = list(_notes)
    _notes.clear()
    by_journal: dict[int, tuple[JournalWriter, list[dict[str, Any]]]] = {}
    seen: set[tuple[int, Any]] = set()  # a document noted twice is written once (as it is now)
    for kind, store, detail in notes:
        if kind == _DOCUMENT:
            if (id(store), detail) in seen:
                continue
            seen.add((id(store), detail))
        elif kind == "drop":
            seen.clear()  # documents changed after a drop are written after it
        journal: JournalWriter = store.__dict__["_tradegraph_journal"]
        by_journal.setdefault(id(journal), (journal, []))[1].append(_operation(kind, store, detail))
    ticket = None
    for journal, operations in by_journal.values():
        payloads = [
            bson.encode({"ops": operations[start : start + OPS_PER_RECORD]})
            for start in range(0, len(operations), OPS_PER_RECORD)
        ]
        ticket = journal, journal.append(payloads)
    return ticket


def forget_notes() -> None:
    """Drops notes of changes not to journal (a snapshot or journal being loaded)."""
    _notes.clear()


def operations_of(payload: bytes) -> list[dict[str, Any]]:
    """The operations of one journal record."""
    operations: list[dict[str, Any]] = bson.decode(payload, _RAW)["ops"]
    return operations


def apply(
    database_store: Any,
    operations: list[dict[str, Any]],
    touched: set[str],
    skip: frozenset[str] = frozenset(),
) -> None:
    """Applies journal operations to the emulated database, but for those on the `skip`
    collections (store thread, not journaled)."""
    stored_form: Callable[[Any], Any] = helpers.patch_datetime_awareness_in_document
    for operation in operations:
        kind, name = operation["o"], operation["c"]
        if name in skip:
            continue
        store = database_store[name]
        touched.add(name)
        if kind == "put":
            document = stored_form(operation["d"])
            store._documents[key_of(document["_id"])] = document
        elif kind == "del":
            store._documents.pop(key_of(operation["k"]), None)
        elif kind == "index":
            spec = operation["s"]
            spec["key"] = {field: direction for field, direction in spec["key"]}.items()
            store.create_index(operation["n"], spec)
        elif kind == "drop_index":
            store.indexes.pop(operation["n"], None)
            store._ttl_indexes.pop(operation["n"], None)
        elif kind == "drop_indexes":
            store.indexes = {}
        elif kind == "drop":
            store.drop()
        elif kind == "create":
            store.create()
        else:
            raise ValueError(f"unknown journal operation {kind!r}")


def applied(database_store: Any, touched: set[str]) -> None:
    """After `apply`: the lookup tables of the collections it changed are built again."""
    for name in touched:
        changed(database_store[name], replaced=True)
