"""A large find on the emulation is computed in short store-thread steps: other calls get in
between, and it hands out what one call computes."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING

from tradegraph.store import emulation_split
from tradegraph.store.emulation import emulated_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
FINDS: list[dict[str, Any]] = [
    {"filter": {"kind": {"$in": ["a", "b"]}}},
    {"filter": {"at": {"$gte": T0 + timedelta(minutes=50)}}, "sort": [("n", DESCENDING)]},
    {"filter": {"kind": "c"}, "sort": [("at", ASCENDING)], "skip": 7, "limit": 3_000},
    {"filter": {"n": {"$gte": 1_000}}, "projection": {"_id": 0, "at": 1, "nested": 1}},
    {"filter": {"kind": "none such"}},
]


async def _collection(count: int) -> Any:
    collection = emulated_client()["reads"]["events"]
    await collection.insert_many(
        {"kind": "abc"[n % 3], "n": n, "at": T0 + timedelta(minutes=n), "nested": {"n": [n]}}
        for n in range(count)
    )
    return collection


def _one_call(collection: Any, find: dict[str, Any]) -> list[Any]:
    """The same find on the mongomock collection underneath, in one call."""
    return list(collection._AsyncMongoMockCollection__collection.find(**find))


async def test_a_large_find_in_steps_hands_out_what_one_call_computes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collection = await _collection(6_000)
    monkeypatch.setattr(emulation_split, "STEP_SECONDS", 0.0)  # a step per 32 documents
    for find in FINDS:
        expected = _one_call(collection, find)
        assert await collection.find(**find).to_list() == expected
        assert [document async for document in collection.find(**find)] == expected
    assert len(_one_call(collection, FINDS[0])) == 4_000
    assert _one_call(collection, FINDS[1])[0]["at"].tzinfo is not None  # tz_aware, as before


async def test_a_large_find_lets_short_calls_run_between_its_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulation_split, "STEP_SECONDS", 0.0)
    collection = await _collection(20_000)
    some = await collection.find_one({})
    reading = asyncio.create_task(collection.find({"kind": {"$in": ["a", "b"]}}).to_list())
    short_calls = 0  # store calls that ran while the find was under way
    while not reading.done():
        await collection.find_one({"_id": some["_id"]})
        short_calls += 1
    assert len(await reading) == 13_334
    # 20,000 documents in steps of 32 matched: a short call between most; in one call, ~1.
    assert short_calls >= 13_334 // 32 // 2


async def test_find_one_answers_what_mongomock_s_find_one_answers() -> None:
    collection = await _collection(3_000)
    underneath = collection._AsyncMongoMockCollection__collection
    some = underneath.find_one({"n": 1_234})
    cases: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (({"kind": "c"},), {}),
        (({"kind": "b"},), {"sort": [("n", DESCENDING)], "skip": 5}),
        (({"at": {"$gte": T0 + timedelta(minutes=10)}},), {"projection": {"nested": 1}}),
        ((some["_id"],), {}),  # an _id alone, as mongomock allows
        ((None,), {"sort": [("at", DESCENDING)]}),
        (({"kind": "none such"},), {}),
        (({"kind": "a"},), {"skip": 10_000}),
    ]
    for args, kwargs in cases:
        assert await collection.find_one(*args, **kwargs) == underneath.find_one(*args, **kwargs)
    assert (await collection.find_one(some["_id"]))["at"].tzinfo is not None


async def test_a_limited_find_reads_only_its_page_and_only_in_the_store_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """mongomock's query evaluation (where the lookup tables are read and rebuilt) never runs
    on the event loop's thread, which another write may be racing; and a page of 3 copies no
    more than skip + 3 documents."""
    import threading

    collection = await _collection(2_000)
    inner = collection._AsyncMongoMockCollection__collection  # mongomock's, patched per instance
    evaluated_in: list[str] = []
    copied = 0
    original_dataset = inner._get_dataset
    original_copy = inner._copy_only_fields

    def dataset(*args: Any, **kwargs: Any) -> Any:
        evaluated_in.append(threading.current_thread().name)
        return original_dataset(*args, **kwargs)

    def copy(*args: Any, **kwargs: Any) -> Any:
        nonlocal copied
        copied += 1
        return original_copy(*args, **kwargs)

    monkeypatch.setattr(inner, "_get_dataset", dataset)
    monkeypatch.setattr(inner, "_copy_only_fields", copy)
    page = {"filter": {"kind": "a"}, "sort": [("n", DESCENDING)], "skip": 2, "limit": 3}
    expected = _one_call(collection, page)
    evaluated_in.clear()
    copied = 0
    assert await collection.find(**page).to_list() == expected
    assert [d async for d in collection.find(**page)] == expected
    assert [d["n"] for d in expected] == [1992, 1989, 1986]
    assert evaluated_in
    assert all(name.startswith("tradegraph-store") for name in evaluated_in), evaluated_in
    assert copied <= 2 * (2 + 3)  # two reads of skip + limit documents, not 667 matches each
