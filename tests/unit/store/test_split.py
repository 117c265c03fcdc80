"""A long aggregation on the emulation runs in short store-thread steps: other calls get in
between, and the answer is the one a single call gives."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import Decimal128

from tradegraph.store import emulation_split
from tradegraph.store.emulation import emulated_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PIPELINE: list[dict[str, Any]] = [
    {"$match": {"kind": {"$in": ["a", "b"]}, "at": {"$gte": T0 + timedelta(minutes=100)}}},
    {"$group": {"_id": "$kind", "total": {"$sum": "$value"}, "count": {"$sum": 1}}},
    {"$sort": {"_id": 1}},
]


async def _collection(count: int) -> Any:
    collection = emulated_client()["split"]["events"]
    await collection.insert_many(
        {
            "kind": "abc"[n % 3],
            "at": T0 + timedelta(minutes=n),
            "value": Decimal128(f"{n % 7}.25"),
        }
        for n in range(count)
    )
    return collection


async def _aggregated(collection: Any) -> list[Any]:
    cursor = await collection.aggregate(PIPELINE)
    return list(await cursor.to_list())


async def test_a_long_aggregation_lets_short_calls_run_between_its_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulation_split, "STEP_SECONDS", 0.0)  # steps of one clock look each
    collection = await _collection(30_000)
    some = await collection.find_one({})
    running = asyncio.create_task(_aggregated(collection))
    short_calls = 0  # store calls that ran while the aggregation was under way
    while not running.done():
        await collection.find_one({"_id": some["_id"]})  # by key: a short call
        short_calls += 1
    await running
    # 30,000 candidates in steps of _CLOCK_EVERY: a short call between most; in one call, ~1.
    assert short_calls >= 30_000 // emulation_split._CLOCK_EVERY // 2


async def test_a_split_aggregation_answers_what_one_call_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collection = await _collection(12_000)
    split = await _aggregated(collection)
    monkeypatch.setattr(emulation_split, "SPLIT_ABOVE", 10**9)  # one call, as before
    whole = await _aggregated(collection)
    assert split == whole
    assert [row["_id"] for row in split] == ["a", "b"]
    assert sum(row["count"] for row in split) == sum(
        1 for n in range(100, 12_000) if n % 3 in (0, 1)
    )
