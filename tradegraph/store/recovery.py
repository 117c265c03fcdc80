"""Startup of the emulated store from its data directory: the snapshot, then the journal.

Leftover temporary files of an interrupted snapshot write are removed; the snapshot is loaded
(SnapshotUnreadable stops startup); journal generations older than the snapshot's are removed
(it holds them), the rest are replayed in order. A torn last record (the append a crash
interrupted: its call never returned) is cut off and reported; any other damaged record stops
startup naming the file and offset (JournalCorrupt). Then a new generation is opened and
attached, so every change from here on is journaled.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tradegraph.store import emulation_journal
from tradegraph.store.emulation_thread import run_in_store_thread
from tradegraph.store.journal import (
    MAGIC,
    JournalCorrupt,
    JournalWriter,
    TornTail,
    drop_torn_tail,
    journal_files,
    read_records,
)
from tradegraph.store.loading import DeferredLoader
from tradegraph.store.snapshots import CHUNKED, SnapshotInfo, load_snapshot, remove_leftovers

DEFERRED = CHUNKED  # market data: loaded after the server opens


@dataclass
class Recovery:
    """What startup found in the data directory."""

    snapshot: SnapshotInfo | None
    journal: JournalWriter
    replayed_records: int = 0
    replayed_files: list[Path] = field(default_factory=list)
    torn: list[TornTail] = field(default_factory=list)
    leftovers: list[Path] = field(default_factory=list)
    loader: DeferredLoader | None = None  # market data still to load, if any


def replay(
    database_store: Any, files: list[Path], skip: frozenset[str]
) -> tuple[int, list[TornTail]]:
    """Applies every record of `files` in order, but for the operations on the `skip`
    collections (store thread); returns how many records, and the torn tail of the last file
    if there is one."""
    touched: set[str] = set()
    count = 0
    torn: list[TornTail] = []
    try:
        for number, path in enumerate(files):
            records, file_torn = read_records(path, last_file=number == len(files) - 1)
            for offset, payload in records:
                try:
                    operations = emulation_journal.operations_of(payload)
                    emulation_journal.apply(database_store, operations, touched, skip)
                except Exception as error:  # a checksum-valid record that makes no sense
                    raise JournalCorrupt(
                        f"{path} has a corrupt record at offset {offset} ({error})"
                    ) from error
                count += 1
            torn += file_torn
    finally:
        emulation_journal.applied(database_store, touched)
        emulation_journal.forget_notes()
    return count, torn


async def recover(
    database: Any, snapshot_file: Path, sync_ms: int, wait_seconds: float
) -> Recovery:
    """Loads the snapshot and replays the journal into the emulated `database`, then starts
    journaling its changes. Market data (DEFERRED) is left to `Recovery.loader`: its
    collections wait behind a LoadingGate until it has run."""
    data_dir, name = snapshot_file.parent, database.name
    leftovers = await asyncio.to_thread(remove_leftovers, snapshot_file)
    snapshot, parts = await load_snapshot(database, snapshot_file, DEFERRED)
    first = snapshot.journal_from if snapshot else 0
    files = journal_files(data_dir, name)
    for generation, path in files:
        if generation < first:  # written before the snapshot's capture began: it holds them
            path.unlink(missing_ok=True)
    live = [(generation, path) for generation, path in files if generation >= first]
    database_store = database.delegate._store
    paths = [path for _, path in live]
    # Market data waits for the loader when the snapshot or the journal may hold some.
    deferred = DEFERRED if paths or any(part.count for part in parts) else frozenset()
    replayed, torn = await run_in_store_thread(replay, database_store, paths, deferred)
    for tail in torn:
        await asyncio.to_thread(drop_torn_tail, tail)
    for path in list(paths):  # generations that hold no record (a restart without writes)
        if path.stat().st_size <= len(MAGIC):
            path.unlink()
            paths.remove(path)
    generation = live[-1][0] + 1 if live else first
    journal = await asyncio.to_thread(JournalWriter, data_dir, name, generation, sync_ms)
    await run_in_store_thread(emulation_journal.attach, database_store, journal)
    loader = None
    if deferred:
        loader = DeferredLoader(database_store, parts, paths, snapshot_file)
        loader.close_gates(deferred, wait_seconds)
    return Recovery(
        snapshot=snapshot,
        journal=journal,
        replayed_records=replayed,
        replayed_files=paths,
        torn=torn,
        leftovers=leftovers,
        loader=loader,
    )
