"""Opens the MongoDB store: a real server, or the in-process emulation; initialises Beanie.

The store also owns its upkeep: tick retention (TTL on a server, a sweeper on the emulation)
and, for the emulation with a data directory, durability: a write-ahead journal (journal.py,
emulation_journal.py) appended before every write returns and fsynced every
TRADEGRAPH_JOURNAL_SYNC_MS, and snapshots written every TRADEGRAPH_SNAPSHOT_SECONDS and on
shutdown (snapshots.py), each starting a new journal generation and removing the older ones.
Startup loads the snapshot and replays the journal (recovery.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import structlog
from beanie import init_beanie
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from tradegraph.config import Settings
from tradegraph.documents import ALL_DOCUMENTS
from tradegraph.documents.markets import set_tick_retention
from tradegraph.markets.bars import migrate_imported_candles
from tradegraph.store import emulation_journal
from tradegraph.store.emulation_thread import run_in_store_thread
from tradegraph.store.journal import JournalWriter
from tradegraph.store.loading import DeferredLoader
from tradegraph.store.recovery import Recovery, recover
from tradegraph.store.retention import apply_server_ttl, run_tick_sweeper
from tradegraph.store.snapshots import SnapshotInfo, snapshot_path, take_snapshot

log = structlog.get_logger("tradegraph")
SERVER_SELECTION_MS = 5000
SNAPSHOT_SHARE = 10  # at least this many times a snapshot's duration between two
SHUTDOWN_SNAPSHOT_MAX_DOCUMENTS = 100_000  # ~0.5 s of encoding; above, shutdown skips it


class StoreUnreachable(RuntimeError):
    """TRADEGRAPH_MONGODB_URL names a server that does not answer; startup must stop."""


@dataclass
class Store:
    client: Any
    database: Any
    emulated: bool
    snapshot_file: Path | None = None  # emulation with a data directory
    snapshot_seconds: float = 30.0
    recovery: Recovery | None = None  # what startup loaded (emulation with a data directory)
    journal: JournalWriter | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _writing: asyncio.Future[int] | None = None  # the snapshot being written, if any

    @property
    def loaded(self) -> SnapshotInfo | None:
        """The snapshot startup loaded, if any."""
        return self.recovery.snapshot if self.recovery else None

    @property
    def description(self) -> str:
        if self.emulated:
            kept = f", snapshots in {self.snapshot_file}" if self.snapshot_file else ""
            return f"in-process MongoDB emulation (database {self.database.name}{kept})"
        nodes = ", ".join(f"{host}:{port}" for host, port in self.client.nodes) or "connecting"
        return f"MongoDB at {nodes} (database {self.database.name})"

    async def ping(self) -> None:
        """Raises when the store does not answer."""
        if not self.emulated:
            await self.database.command("ping")

    @property
    def loading(self) -> str | None:
        """What is still loading after a restart (market data), or None once all is in."""
        loader = self.recovery.loader if self.recovery else None
        if loader is None or loader.done.is_set():
            return None
        return loader.status

    @property
    def load_failure(self) -> str | None:
        """Why stored market data could not be loaded after a restart, if it could not."""
        loader = self.recovery.loader if self.recovery else None
        return loader.failure if loader is not None else None

    async def wait_loaded(self) -> None:
        """Returns once nothing is loading any more (market data after a restart)."""
        loader = self.recovery.loader if self.recovery else None
        if loader is not None:
            await loader.done.wait()

    async def snapshot(self) -> None:
        """Writes a snapshot now (emulation with a data directory only), then removes the
        journal generations it holds. Not while market data is loading: the snapshot would
        lack it, and the journal generations holding its changes would go."""
        if self.snapshot_file is None or self.loading is not None:
            return
        if self.load_failure is not None:  # the file on disk is all there is: keep it
            return
        if self._writing is not None:  # one write at a time: a newer one never loses to an older
            await asyncio.gather(self._writing, return_exceptions=True)
        self._writing = asyncio.ensure_future(self._write_snapshot(self.snapshot_file))
        # Shielded: cancelling the periodic task must not leave a write running unseen.
        size = await asyncio.shield(self._writing)
        log.debug("store snapshot written", path=str(self.snapshot_file), bytes=size)

    async def _large(self) -> bool:
        """Whether a snapshot would make shutdown slow (seconds of encoding: a seeded month)."""
        if self.journal is None:
            return False
        database_store = self.database.delegate._store
        count = await run_in_store_thread(
            lambda: sum(len(store._documents) for store in database_store._collections.values())
        )
        return count > SHUTDOWN_SNAPSHOT_MAX_DOCUMENTS

    async def _write_snapshot(self, path: Path) -> int:
        journal = self.journal
        if journal is None:
            return await take_snapshot(self.database, path)
        # The new generation starts before the capture, in the store thread: every change
        # the capture may miss is in it (records are whole documents: replaying them onto
        # the snapshot gives the same state).
        generation = await run_in_store_thread(journal.rotate)
        size = await take_snapshot(self.database, path, journal_from=generation)
        await asyncio.to_thread(journal.remove_before, generation)
        return size

    async def _snapshot_periodically(self) -> None:
        pause = self.snapshot_seconds
        while True:
            await asyncio.sleep(pause)
            started = time.monotonic()
            try:
                await self.snapshot()
            except Exception:  # keep trying: the next interval may succeed (disk space, …)
                log.exception("store snapshot failed", path=str(self.snapshot_file))
            # A large store (a seeded month of bars) takes seconds of CPU to encode: snapshot
            # it less often, so snapshots never take more than a tenth of the process's time.
            pause = max(self.snapshot_seconds, SNAPSHOT_SHARE * (time.monotonic() - started))

    def start_upkeep(self, settings: Settings) -> None:
        """Starts the retention sweeper and the snapshot timer (emulation only)."""
        if not self.emulated:
            return
        retention = settings.effective_tick_retention_seconds
        sweeper = run_tick_sweeper(self.database, retention, settings.tick_sweep_seconds)
        self.tasks.append(asyncio.create_task(sweeper))
        loader = self.recovery.loader if self.recovery else None
        if loader is not None:
            self.tasks.append(asyncio.create_task(_load_in_background(loader)))
        if self.snapshot_file is not None:
            self.tasks.append(asyncio.create_task(self._snapshot_periodically()))
        if self.journal is not None and self.journal.sync_ms > 0:
            self.tasks.append(asyncio.create_task(self.journal.sync_periodically()))

    async def close(self) -> None:
        """Stops the upkeep, writes the last snapshot (a small store only: the journal holds
        every change anyway), syncs and closes the journal, closes the client."""
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        if self.snapshot_file is not None and (self.loading or self.load_failure):
            log.info("store not (fully) loaded at shutdown: snapshot and journal left as they are")
        elif self.snapshot_file is not None and await self._large():
            log.info(
                "no snapshot on shutdown: the store is large and the journal holds every change "
                "since the last snapshot",
                path=str(self.snapshot_file),
            )
        elif self.snapshot_file is not None:
            await self.snapshot()
            log.info("store snapshot written on shutdown", path=str(self.snapshot_file))
        if self.journal is not None:
            await run_in_store_thread(emulation_journal.detach, self.database.delegate._store)
            self.journal.close()
        if not self.emulated:
            await self.client.close()


@contextlib.contextmanager
def bulk_load(collect: bool = True) -> Iterator[None]:
    """Around loading many documents into the emulation (a snapshot, a seeded month of bars).

    The emulation holds every document as Python objects, and a full garbage collection walks
    them all, holding the event loop (0.5 s with 50,000 events; more with 820,000 bars). While
    the load runs, collections are paused (they would run at every quarter of growth); after
    it, one full collection, then everything alive is frozen out of the collector's sight
    (gc.freeze): documents hold no reference cycles, so reference counting still frees them.
    Only at such moments, never periodically: an object frozen while in use (a WebSocket's
    handler) and dropped later in a reference cycle is never collected, so a periodic freeze
    leaked ~10 KB per closed socket. `serve --seed` seeds while already serving, so the
    sockets open when its seed ends are frozen too: a bounded, one-time cost (~10 KB each),
    taken rather than full collections walking the month of bars every few hours."""
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        if collect:  # seconds with a month of bars: not while serving (loading.py)
            gc.collect()
        gc.freeze()


async def _load_in_background(loader: DeferredLoader) -> None:
    # No full collection after it: it would hold the event loop for seconds. Cycles left
    # unreachable at the end of the load are frozen with it (a one-time cost).
    with bulk_load(collect=False):
        await loader.run()


async def _reach(client: AsyncMongoClient[Any], url: str) -> None:
    """One ping, so an unreachable server stops startup with one line saying what to do
    instead of a driver traceback from whatever query came first."""
    try:
        await client.admin.command("ping")
    except PyMongoError as error:
        await client.close()
        hosts = urlsplit(url).hostname or "?"  # never the password
        reason = str(error).split(" (configured timeouts")[0].split(", Timeout:")[0]
        raise StoreUnreachable(
            f"MongoDB at {hosts} (TRADEGRAPH_MONGODB_URL) did not answer within "
            f"{SERVER_SELECTION_MS // 1000} s: {reason}. Start it or fix the URL; unset "
            "TRADEGRAPH_MONGODB_URL to use the in-process emulation instead"
        ) from error


async def open_store(settings: Settings) -> Store:
    """Connects (or builds the emulation and loads its snapshot), then initialises Beanie."""
    snapshot_file: Path | None = None
    recovery: Recovery | None = None
    if settings.mongodb_url is None:
        from tradegraph.store.emulation import emulated_client

        client: Any = emulated_client()
        emulated = True
    else:
        client = AsyncMongoClient(
            settings.mongodb_url, tz_aware=True, serverSelectionTimeoutMS=SERVER_SELECTION_MS
        )
        emulated = False
        await _reach(client, settings.mongodb_url)
    database = client[settings.mongodb_database]
    if emulated and settings.data_dir is not None:
        snapshot_file = snapshot_path(settings.data_dir.absolute(), settings.mongodb_database)
        with bulk_load():  # unreadable snapshot or corrupt journal: startup stops
            recovery = await recover(
                database, snapshot_file, settings.journal_sync_ms, settings.loading_wait_seconds
            )
    retention = settings.effective_tick_retention_seconds
    set_tick_retention(retention)
    await init_beanie(database=database, document_models=ALL_DOCUMENTS)
    if not emulated:
        await apply_server_ttl(database, retention)
    moved = await migrate_imported_candles(database)
    if moved:
        log.info("imported candles moved into the candles collection", count=moved)
    store = Store(
        client=client,
        database=database,
        emulated=emulated,
        snapshot_file=snapshot_file,
        snapshot_seconds=settings.snapshot_seconds,
        recovery=recovery,
        journal=recovery.journal if recovery else None,
    )
    store.start_upkeep(settings)
    return store
