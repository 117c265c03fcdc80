"""Short store calls beside a long aggregation on the emulation (issue 20: no call holds every
other one behind it for more than 100 ms).

python -m bench lanes [--stored 100000]   --stored events in an emulated collection; a short
    call (find_one by a unique key) every 5 ms, timed: alone, then beside back-to-back
    aggregations ($match over all events, $group by type) run in one store-thread call (as
    before) and split in steps (emulation_split.py), in the same run
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import Decimal128
from pymongo import IndexModel

from tradegraph.store import emulation_split
from tradegraph.store.emulation import emulated_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PIPELINE: list[dict[str, Any]] = [
    {"$match": {"timestamp": {"$gte": T0}}},
    {"$group": {"_id": "$type", "count": {"$sum": 1}, "total": {"$sum": "$value"}}},
]
TYPES = ["login", "page_view", "order", "purchase", "deposit", "withdrawal"]


async def _events(stored: int) -> Any:
    collection = emulated_client()["lanes"]["events"]
    await collection.create_indexes([IndexModel([("key", 1)], unique=True)])
    for start in range(0, stored, 5_000):
        await collection.insert_many(
            {
                "key": f"k{n}",
                "type": TYPES[n % len(TYPES)],
                "timestamp": T0 + timedelta(seconds=n),
                "value": Decimal128(f"{n % 97}.5"),
            }
            for n in range(start, min(stored, start + 5_000))
        )
    return collection


async def _short_calls(collection: Any, until: asyncio.Event) -> list[float]:
    latencies = []
    number = 0
    while not until.is_set():
        started = time.perf_counter()
        assert await collection.find_one({"key": f"k{number}"}) is not None
        latencies.append(1000 * (time.perf_counter() - started))
        number += 1
        await asyncio.sleep(0.005)
    return latencies


async def _beside(collection: Any, aggregations: int | None, seconds: float) -> list[float]:
    """Short-call latencies (ms) beside `aggregations` back-to-back ones (None: alone)."""
    done = asyncio.Event()
    short = asyncio.create_task(_short_calls(collection, done))
    if aggregations is None:
        await asyncio.sleep(seconds)
    else:
        for _ in range(aggregations):
            cursor = await collection.aggregate(PIPELINE)
            await cursor.to_list()
    done.set()
    return await short


def _row(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    return (
        f"| {name} | {len(ordered)} | {statistics.median(ordered):.1f} | {p99:.1f} "
        f"| {ordered[-1]:.1f} |"
    )


async def main(stored: int, aggregations: int = 5) -> None:
    collection = await _events(stored)
    started = time.perf_counter()
    cursor = await collection.aggregate(PIPELINE)
    await cursor.to_list()
    one = time.perf_counter() - started
    idle = await _beside(collection, None, 3.0)
    split = await _beside(collection, aggregations, 0)
    threshold = emulation_split.SPLIT_ABOVE
    emulation_split.SPLIT_ABOVE = 10**12  # every aggregation in one call, as before
    try:
        whole = await _beside(collection, aggregations, 0)
    finally:
        emulation_split.SPLIT_ABOVE = threshold
    print(f"\n{stored:,} events; one aggregation over all of them takes {one * 1000:.0f} ms")
    print(f"short calls (find_one by unique key, every 5 ms) beside {aggregations} aggregations")
    print("| beside | calls | p50 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|")
    print(_row("nothing (idle)", idle))
    print(_row("aggregations in one call (before)", whole))
    print(_row("aggregations split in steps (now)", split))
