"""Loads market data after the server has opened: a restart with a seeded month answers at once.

Startup (recovery.py) restores everything but the documents of `candles` and `ticks` and
closes a LoadingGate on each (loading_gate.py). This loader then decodes their documents from
the snapshot CHUNK at a time in a worker thread, stores each chunk in one short store-thread
call (other calls get in between), replays the journal's operations on them the same way, and
opens the gates. Until then no snapshot is taken (it would miss the documents not loaded yet
and remove the journal holding their changes); a shutdown before the end leaves the files on
disk as they were, which the next startup loads again.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import structlog

from tradegraph.store import emulation_journal
from tradegraph.store.emulation_sorting import changed
from tradegraph.store.emulation_thread import run_in_store_thread
from tradegraph.store.journal import read_records
from tradegraph.store.loading_gate import LoadingGate
from tradegraph.store.snapshot_reading import DeferredPart, decode_chunk, locate

log = structlog.get_logger("tradegraph")
RECORDS_PER_CALL = 200  # journal records applied per store-thread call
FIRST_GUESS_SECONDS_PER_DOCUMENT = 30e-6  # for Retry-After before the first chunk is timed


def _store_chunk(store: Any, name: str, documents: list[dict[str, Any]]) -> None:
    """Adds a chunk of decoded documents (store thread): a repeated _id is corruption."""
    stored = store._documents
    for document in documents:
        key = emulation_journal.key_of(document["_id"])
        if key in stored:
            raise ValueError(f"collection {name!r} holds _id {document['_id']!r} twice")
        stored[key] = document


def _journal_batches(files: list[Path], names: frozenset[str]) -> Iterator[list[dict[str, Any]]]:
    """The journal's operations on `names`, in order, RECORDS_PER_CALL records at a time
    (advanced in a worker thread: decoding is the slow part)."""
    batch: list[dict[str, Any]] = []
    count = 0
    for number, path in enumerate(files):
        records, _ = read_records(path, last_file=number == len(files) - 1)
        for _, payload in records:
            batch += [op for op in emulation_journal.operations_of(payload) if op["c"] in names]
            count += 1
            if count % RECORDS_PER_CALL == 0 and batch:
                yield batch
                batch = []
    if batch:
        yield batch


class DeferredLoader:
    """The market data left for after startup, and the gates waiting for it."""

    def __init__(
        self, database_store: Any, parts: list[DeferredPart], journal: list[Path], source: Path
    ) -> None:
        self.source = source  # the snapshot file
        self.database_store = database_store
        self.parts = parts
        self.journal = journal
        self.gates: dict[str, LoadingGate] = {}
        self.total = sum(part.count for part in parts)
        self.loaded = 0
        self.done = asyncio.Event()
        self.failure: str | None = None

    def close_gates(self, names: frozenset[str], wait_seconds: float) -> None:
        """Makes calls on the `names` collections wait (before anything else can call)."""
        expected = 1 + self.total * FIRST_GUESS_SECONDS_PER_DOCUMENT
        for name in sorted(names):
            gate = LoadingGate(name, wait_seconds, expected)
            self.gates[name] = gate
            self.database_store[name].__dict__["_tradegraph_loading"] = gate

    @property
    def status(self) -> str:
        return f"loading market data: {self.loaded:,} of {self.total:,} documents"

    async def run(self) -> None:
        """Loads everything, then opens the gates (a background task)."""
        started = time.monotonic()
        try:
            await self._load(started)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # corrupt data: say so, refuse calls on it, stay up
            problem = f"cannot read the store snapshot {self.source}: {error}"
            log.error(f"market data not loaded: {problem}; restore it from a backup")
            self.failure = problem
            for gate in self.gates.values():
                gate.finish(failure=problem)
        else:
            for gate in self.gates.values():
                gate.finish()
            log.info(
                "market data loaded",
                documents=self.total,
                seconds=round(time.monotonic() - started, 1),
            )
        finally:
            for part in self.parts:
                part.raw = b""  # the file's bytes are no longer needed
            self.done.set()

    async def _load(self, started: float) -> None:
        names = frozenset(self.gates)
        await asyncio.to_thread(locate, self.parts)
        for part in self.parts:
            store = self.database_store[part.name]
            for chunk in part.chunks:
                documents = await asyncio.to_thread(decode_chunk, part, chunk)
                await run_in_store_thread(_store_chunk, store, part.name, documents)
                self.loaded += len(documents)
                per_document = (time.monotonic() - started) / max(1, self.loaded)
                for gate in self.gates.values():
                    gate.expect(per_document * (self.total - self.loaded))
        touched: set[str] = set()
        for batch in await asyncio.to_thread(_journal_batches, self.journal, names):
            await run_in_store_thread(emulation_journal.apply, self.database_store, batch, touched)
        for name in names:
            await run_in_store_thread(changed, self.database_store[name], True)
