"""Tick retention: MongoDB's TTL on a real server, a periodic sweeper on the emulation.

A real server expires ticks itself (the time-series collection's expireAfterSeconds, kept in
step with TRADEGRAPH_TICK_RETENTION_SECONDS at startup). The emulation has no TTL, so a task
deletes ticks older than the retention every TRADEGRAPH_TICK_SWEEP_SECONDS. Ticks are stored
in arrival order, which is nearly time order, so the sweep walks from the oldest and stops at
the first tick still inside the retention: its cost is the number of ticks it deletes, not the
number stored. A late tick with an old timestamp goes once those stored before it have.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog

from tradegraph.documents import Tick
from tradegraph.store.emulation_thread import run_in_store_thread

log = structlog.get_logger(__name__)


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def sweep_expired(collection_store: Any, cutoff: datetime) -> int:
    """Deletes the oldest-stored ticks with a timestamp before `cutoff`, up to the first newer
    one; returns how many. Runs in the store thread (it walks mongomock's dictionary)."""
    cutoff = _naive_utc(cutoff)
    expired = []
    for object_id, document in collection_store._documents.items():
        timestamp = document.get("timestamp")
        if not isinstance(timestamp, datetime) or _naive_utc(timestamp) >= cutoff:
            break
        expired.append(object_id)
    for object_id in expired:
        del collection_store[object_id]
    return len(expired)


def _ticks_store(database: Any) -> Any:
    return database.delegate._store[Tick.Settings.name]


async def sweep_ticks(database: Any, retention_seconds: int) -> int:
    """One sweep of the emulated ticks collection."""
    cutoff = datetime.now(UTC) - timedelta(seconds=retention_seconds)
    return await run_in_store_thread(sweep_expired, _ticks_store(database), cutoff)


async def run_tick_sweeper(database: Any, retention_seconds: int, every_seconds: float) -> None:
    """Sweeps forever (a background task)."""
    while True:
        await asyncio.sleep(every_seconds)
        try:
            removed = await sweep_ticks(database, retention_seconds)
        except Exception:  # a failed sweep must not end the sweeper
            log.exception("tick retention sweep failed")
            continue
        if removed:
            log.debug("expired ticks removed", count=removed)


async def apply_server_ttl(database: Any, retention_seconds: int) -> None:
    """Keeps a real server's TTL in step with the setting (the collection may predate it)."""
    try:
        await database.command(
            {"collMod": Tick.Settings.name, "expireAfterSeconds": retention_seconds}
        )
    except Exception as error:  # e.g. no privilege for collMod: the TTL set at creation holds
        log.warning("could not update the ticks TTL", error=str(error))
