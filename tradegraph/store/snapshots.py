"""Snapshots of the emulated store on disk: written on shutdown and every few seconds, loaded
at startup, so a restart keeps the data.

One file, `<data dir>/<database>.snapshot.bson`: a manifest document (format, time taken,
each collection's document count and index definitions) followed by every document as BSON,
collection after collection, so Decimal128, datetimes and ObjectIds come back exactly. The
documents are encoded in the store thread and written by another thread to a temporary file
that then replaces the previous snapshot (os.replace is atomic): a crash leaves the last
complete snapshot. A file that cannot be read stops startup.

Market data (`candles`, `ticks`: bars built from a day of ticks are ~28k documents) is encoded in
chunks of CHUNK documents, one store-thread call each, so other store calls wait at most one
chunk. Its documents stand alone (a bar, a tick), so capturing them over several calls is
safe. Everything else (orders, portfolios, ledgers, events and their counters) has invariants
across documents and is encoded afterwards in one call: one consistent moment, never older
than the market data beside it.
"""

from __future__ import annotations

import asyncio
import glob
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bson
from bson.codec_options import CodecOptions
from mongomock import helpers

from tradegraph.store.emulation_sorting import changed
from tradegraph.store.emulation_thread import run_in_store_thread
from tradegraph.store.snapshot_reading import (
    FORMAT,
    DeferredPart,
    SnapshotUnreadable,
    read_snapshot,
    read_snapshot_parts,
)

__all__ = ["FORMAT", "SnapshotUnreadable", "read_snapshot"]  # where they were found before

_RAW: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=False
)  # the emulation keeps naive UTC datetimes


@dataclass(frozen=True)
class SnapshotInfo:
    path: Path
    taken_at: datetime | None
    documents: int
    journal_from: int = 0  # the first journal generation written after its capture began


def snapshot_path(data_dir: Path, database_name: str) -> Path:
    return data_dir / f"{database_name}.snapshot.bson"


def _database_store(database: Any) -> Any:
    """mongomock's in-memory DatabaseStore behind the async emulated database."""
    return database.delegate._store


CHUNKED = frozenset({"candles", "ticks"})  # documents without invariants across them
CHUNK = 5_000  # documents per store-thread call: ~20 ms of encoding


def encode_store(
    database_store: Any,
    taken_at: datetime,
    encoded: dict[str, list[bytes]] | None = None,
    journal_from: int = 0,
) -> list[bytes]:
    """The snapshot's parts; call in the store thread (it reads mongomock's dictionaries).
    `encoded` holds collections already encoded (in chunks); the rest is encoded now.
    `journal_from` is the journal generation started when the capture began."""
    encoded = encoded or {}
    collections: dict[str, Any] = {}
    bodies: list[bytes] = []
    names = database_store.list_created_collection_names()
    # Market data last: startup reads what comes before it and leaves the rest for later.
    for name in sorted(names, key=lambda name: name in CHUNKED):
        store = database_store[name]
        documents = encoded.get(name)
        if documents is None:
            documents = [bson.encode(document) for document in store._documents.values()]
        collections[name] = {"count": len(documents), "indexes": dict(store.indexes)}
        bodies.extend(documents)
    manifest = {
        "format": FORMAT,
        "taken_at": taken_at,
        "journal": journal_from,
        "collections": collections,
    }
    return [bson.encode(_index_safe(manifest)), *bodies]


async def encode_in_chunks(database_store: Any, chunk: int = CHUNK) -> dict[str, list[bytes]]:
    """The CHUNKED collections, encoded `chunk` documents per store-thread call."""
    encoded: dict[str, list[bytes]] = {}

    def documents_of(name: str) -> list[Any] | None:
        if name not in database_store.list_created_collection_names():
            return None
        return list(database_store[name]._documents.values())  # references: cheap

    def encode(documents: list[Any]) -> list[bytes]:
        return [bson.encode(document) for document in documents]

    for name in sorted(CHUNKED):
        documents = await run_in_store_thread(documents_of, name)
        if documents is None:
            continue
        parts: list[bytes] = []
        for start in range(0, len(documents), chunk):
            # A document updated meanwhile is captured as it is now: still one whole bar.
            parts += await run_in_store_thread(encode, documents[start : start + chunk])
        encoded[name] = parts
    return encoded


def _index_safe(value: Any) -> Any:
    """Index definitions hold tuples of (field, direction); BSON wants lists."""
    if isinstance(value, dict):
        return {key: _index_safe(item) for key, item in value.items()}
    if isinstance(value, Iterable) and not isinstance(value, str | bytes):
        return [_index_safe(item) for item in value]  # tuples, lists, dict_items
    return value


def write_atomically(path: Path, parts: list[bytes]) -> None:
    """Writes to a temporary file beside `path`, syncs, then renames it over `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of its own: the shutdown snapshot may start while a periodic one still writes.
    with tempfile.NamedTemporaryFile(
        "wb", dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False
    ) as file:
        try:
            for part in parts:
                file.write(part)
            file.flush()
            os.fsync(file.fileno())
        except BaseException:
            os.unlink(file.name)
            raise
    os.replace(file.name, path)


def _restore(database_store: Any, manifest: dict[str, Any], collections: dict[str, Any]) -> None:
    """Creates every collection of the manifest with its indexes, and stores the documents of
    `collections` (the deferred ones are loaded later, loading.py)."""
    for name, entry in manifest["collections"].items():
        store = database_store[name]
        store.create()
        for index_name, index in entry["indexes"].items():
            # As mongomock keeps a key from an IndexModel, so Beanie finds the index unchanged.
            index["key"] = {field: direction for field, direction in index["key"]}.items()
            store.create_index(index_name, index)
        for document in collections.get(name, ()):
            key = document["_id"]
            store._documents[helpers.hashdict(key) if isinstance(key, dict) else key] = document
        changed(store, replaced=True)


def remove_leftovers(path: Path) -> list[Path]:
    """Deletes the temporary files of snapshot writes a crash interrupted; returns them."""
    if not path.parent.is_dir():
        return []
    leftovers = list(path.parent.glob(f"{glob.escape(path.name)}.*.tmp"))
    for leftover in leftovers:
        leftover.unlink(missing_ok=True)
    return leftovers


async def load_snapshot(
    database: Any, path: Path, deferred: frozenset[str] = frozenset()
) -> tuple[SnapshotInfo | None, list[DeferredPart]]:
    """Loads `path` into the emulated `database` but for the documents of the `deferred`
    collections, returned to be loaded later; (None, []) when there is no snapshot yet."""
    found = await asyncio.to_thread(read_snapshot_parts, path, deferred)
    if found is None:
        return None, []
    manifest, collections, parts = found
    await run_in_store_thread(_restore, _database_store(database), manifest, collections)
    taken_at = manifest.get("taken_at")
    info = SnapshotInfo(
        path=path,
        taken_at=taken_at.replace(tzinfo=UTC) if isinstance(taken_at, datetime) else None,
        documents=sum(entry["count"] for entry in manifest["collections"].values()),
        journal_from=manifest.get("journal", 0),
    )
    return info, parts


async def take_snapshot(database: Any, path: Path, journal_from: int = 0) -> int:
    """Copies the store (in the store thread) and writes it (in another); returns the size.
    Call right after starting journal generation `journal_from` (in the store thread)."""
    database_store = _database_store(database)
    taken_at = datetime.now(UTC)  # the capture's start: everything before it is in the file
    market_data = await encode_in_chunks(database_store)
    parts = await run_in_store_thread(
        encode_store, database_store, taken_at, market_data, journal_from
    )
    await asyncio.to_thread(write_atomically, path, parts)
    return sum(len(part) for part in parts)
