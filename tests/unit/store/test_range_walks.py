"""Sorted finds walked along a compound unique index (emulation_range_walks.py): mongomock's
answer, ties and odd values included, reading only as far as the limit."""

from __future__ import annotations

import contextlib
import functools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import mongomock.filtering
import pytest
from bson import Decimal128
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from tradegraph.store import emulation_lookups, emulation_range_walks, emulation_ranges
from tradegraph.store.emulation import emulated_client

emulated_client()  # every patch the server runs with
T0 = datetime(2026, 1, 1, tzinfo=UTC)
SYMBOLS: list[Any] = ["A", "B"]


def _bars() -> Any:
    bars: Any = mongomock.MongoClient(tz_aware=True)["db"]["bars"]
    bars.create_indexes(
        [
            IndexModel(
                [(name, ASCENDING) for name in ("symbol", "interval", "start", "source", "n")],
                unique=True,  # n: as many ties on start as wanted
                name="symbol_interval_start_source_n",
            )
        ]
    )
    return bars


def _start(rng: random.Random) -> Any:
    """Mostly minutes (a few, so ties are common), sometimes any other kind of value."""
    roll = rng.random()
    if roll < 0.75:
        return T0 + timedelta(minutes=rng.randrange(30))
    return rng.choice(
        [
            "text",
            "a",
            3,
            2.5,
            Decimal128("3"),
            None,
            True,
            [T0 + timedelta(minutes=5)],
            [],
            {"at": 1},
            "missing",
        ]
    )


def _bar(rng: random.Random, n: int) -> dict[str, Any]:
    bar: dict[str, Any] = {
        "symbol": rng.choice([*SYMBOLS, *SYMBOLS, ["A", "B"]]),
        "interval": rng.choice(["1m", "1m", "1m", "5m"]),
        "source": rng.choice(["ticks", "import"]),
        "n": n % 7,
    }
    start = _start(rng)
    if start != "missing":
        bar["start"] = start
    return bar


def _insert(bars: Any, bar: dict[str, Any]) -> None:
    with contextlib.suppress(DuplicateKeyError):
        bars.insert_one(bar)


def _change(rng: random.Random, bars: Any, n: int) -> None:
    """One random write: insert, a new start, another symbol, no start, delete, replace,
    or deleted and stored again under the same _id."""
    ids = [d["_id"] for d in bars.find({}, {"_id": 1})]
    victim = {"_id": rng.choice(ids)} if ids else {}
    action = rng.randrange(8)
    try:
        if action <= 1 or not ids:
            _insert(bars, _bar(rng, n))
        elif action == 2:
            bars.update_one(victim, {"$set": {"start": _start(rng)}})
        elif action == 3:
            bars.update_one(victim, {"$set": {"symbol": rng.choice([*SYMBOLS, ["B", "A"]])}})
        elif action == 4:
            bars.update_one(victim, {"$unset": {"start": ""}})
        elif action == 5:
            bars.delete_one(victim)
        elif action == 6:
            bars.replace_one(victim, _bar(rng, n))
        else:
            document = bars.find_one(victim)
            bars.delete_one(victim)
            list(bars.find({"symbol": "A", "interval": "1m", "start": {"$gte": T0}}))
            _insert(bars, document)  # after a range lookup dropped its entry
    except DuplicateKeyError:
        pass


def _spec(rng: random.Random) -> dict[str, Any]:
    spec: dict[str, Any] = {"symbol": rng.choice(SYMBOLS), "interval": "1m"}
    roll = rng.randrange(5)
    if roll == 1:
        spec["start"] = {"$lt": T0 + timedelta(minutes=rng.randrange(32))}
    elif roll == 2:
        low = T0 + timedelta(minutes=rng.randrange(30))
        spec["start"] = {"$gte": low, "$lte": low + timedelta(minutes=rng.randrange(10))}
    elif roll == 3:
        spec["start"] = {"$gt": rng.choice([2, "b", 2.5])}
    if rng.random() < 0.4:
        spec["source"] = rng.choice(["ticks", "import"])
    return spec


def _reference(bars: Any, spec: dict[str, Any], direction: int, skip: int, limit: int) -> Any:
    """mongomock's own answer: a scan in store order, a stable sort, then skip and limit."""
    spec = mongomock.helpers.patch_datetime_awareness_in_document(spec)  # as find does
    found = list(emulation_lookups._original_iter_documents(bars, spec))
    key = functools.partial(mongomock.filtering.resolve_sort_key, "start")
    found.sort(key=key, reverse=direction < 0)
    return [d["_id"] for d in found[skip : skip + limit if limit else None]]


def _found(bars: Any, spec: dict[str, Any], direction: int, skip: int, limit: int) -> Any:
    cursor = bars.find(spec).sort("start", direction).skip(skip).limit(limit)
    return [d["_id"] for d in cursor]


def _starts(bars: Any, ids: list[Any]) -> list[Any]:
    """The documents' starts, equal where their sort says equal (3 and Decimal128("3"); an
    array sorts as its first element in mongomock)."""
    starts = [bars.find_one({"_id": i}).get("start") for i in ids]
    starts = [start[0] if isinstance(start, list) and start else start for start in starts]
    return [emulation_ranges.orderable(start) or repr(start) for start in starts]


@pytest.mark.parametrize("max_aside", [emulation_range_walks.MAX_ASIDE, 100])
def test_walked_finds_answer_what_a_scan_and_a_stable_sort_answer_through_random_writes(
    max_aside: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulation_range_walks, "CHUNK", 3)  # walks cross many chunks
    monkeypatch.setattr(emulation_range_walks, "MAX_ASIDE", max_aside)  # 100: sets kept small
    bars = _bars()
    rng = random.Random(17)
    for n in range(300):
        _insert(bars, _bar(rng, n))
    walked = []
    original = emulation_range_walks.range_walk

    def counted(*args: Any) -> Any:
        found = original(*args)
        if emulation_range_walks.ENABLED:
            walked.append(found is not None)
        return found

    monkeypatch.setattr(emulation_range_walks, "range_walk", counted)
    monkeypatch.setattr("tradegraph.store.emulation_sorting.range_walk", counted)
    for step in range(150):
        _change(rng, bars, 1000 + step)
        for _ in range(6):
            spec = _spec(rng)
            direction = rng.choice([1, -1])
            skip, limit = rng.choice([0, 0, 1, 3]), rng.choice([0, 1, 2, 5, 40])
            expected = _reference(bars, spec, direction, skip, limit)
            found = _found(bars, spec, direction, skip, limit)
            if walked[-1]:
                assert found == expected, (step, spec)
            else:  # too much set aside: read and sorted as before (ties as listed, below)
                assert _starts(bars, found) == _starts(bars, expected), (step, spec)
            with monkeypatch.context() as before:  # the range read and sort it replaces
                before.setattr(emulation_range_walks, "ENABLED", False)
                earlier = _found(bars, spec, direction, skip, limit)
            # It ordered ties as its range table listed them, not in store order: the same
            # values in the same order, the same documents when nothing was cut.
            assert _starts(bars, earlier) == _starts(bars, expected), (step, spec)
            if not skip and not limit:
                assert sorted(earlier) == sorted(expected), (step, spec)
    assert len(walked) == 900
    if max_aside > 100:
        assert all(walked)  # every find was walked
    else:  # documents moved out of the aside sets were forgotten, walks went on
        assert 0 < sum(walked) < 900, sum(walked)


def test_the_last_bar_before_a_moment_reads_a_few_entries_not_the_range(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bars = _bars()
    bars.insert_many(
        [
            {
                "symbol": "A",
                "interval": "1m",
                "start": T0 + timedelta(minutes=m),
                "source": "ticks" if m % 10 else "import",
                "n": 0,
            }
            for m in range(20_000)
        ]
    )
    moment = T0 + timedelta(minutes=15_000)
    spec = {"symbol": "A", "interval": "1m", "start": {"$lt": moment}, "source": "import"}
    assert bars.find_one(spec, sort=[("start", -1)])["start"] == T0 + timedelta(minutes=14_990)

    def no_range_read(*_: Any) -> Any:
        raise AssertionError("read the whole range")

    monkeypatch.setattr(emulation_ranges.RangeTable, "candidates", no_range_read)
    monkeypatch.setattr(emulation_lookups, "_original_iter_documents", no_range_read)
    checked: list[Any] = []
    original = emulation_range_walks._Walk.matches

    def counted(walk: Any, document: Any) -> bool:
        checked.append(document)
        return original(walk, document)

    monkeypatch.setattr(emulation_range_walks._Walk, "matches", counted)
    newest = list(bars.find(spec).sort("start", -1).limit(2))
    assert [d["start"] for d in newest] == [T0 + timedelta(minutes=m) for m in (14_990, 14_980)]
    oldest = bars.find({"symbol": "A", "interval": "1m"}).sort("start", 1).limit(1)
    assert [d["start"] for d in oldest] == [T0]
    assert len(checked) <= 3 * emulation_range_walks.CHUNK  # not 15,000


def test_a_walk_read_in_steps_sees_writes_made_between_them() -> None:
    bars = _bars()
    bars.insert_many(
        [
            {"symbol": "A", "interval": "1m", "start": T0 + timedelta(minutes=m), "n": m}
            for m in range(200)
        ]
    )
    cursor = bars.find({"symbol": "A", "interval": "1m"}).sort("start", -1)
    walk = cursor._factory()
    first = [next(walk)["n"] for _ in range(100)]
    assert first == list(range(199, 99, -1))
    bars.delete_many({"n": {"$lt": 50}})  # not walked yet: passed over
    bars.insert_one({"symbol": "A", "interval": "1m", "start": T0 - timedelta(minutes=1), "n": -1})
    bars.insert_one({"symbol": "A", "interval": "1m", "start": T0 + timedelta(days=1), "n": 999})
    rest = [d["n"] for d in walk]  # the new last one was already passed, the new first not
    assert rest == [*range(99, 49, -1), -1]


def test_a_set_aside_document_removed_between_steps_is_not_yielded() -> None:
    bars = _bars()
    bars.insert_many(
        [
            {"symbol": "A", "interval": "1m", "start": T0 + timedelta(minutes=m), "n": m}
            for m in range(200)
        ]
    )
    bars.insert_one({"symbol": "A", "interval": "1m", "n": -5})  # no start: set aside, last
    bars.insert_one({"symbol": "A", "interval": "1m", "n": -6})
    walk = bars.find({"symbol": "A", "interval": "1m"}).sort("start", -1)._factory()
    assert [next(walk)["n"] for _ in range(10)] == list(range(199, 189, -1))
    bars.delete_one({"n": -5})
    bars.update_one({"n": -6}, {"$set": {"interval": "5m"}})  # no longer matches
    assert [d["n"] for d in walk] == list(range(189, -1, -1))


def test_an_object_id_or_a_full_key_is_still_found_by_hash(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bars = _bars()
    stored = bars.insert_one(
        {"symbol": "A", "interval": "1m", "start": T0, "source": "ticks", "n": 0}
    ).inserted_id
    monkeypatch.setattr(emulation_range_walks, "range_walk", None)  # called: a TypeError
    monkeypatch.setattr("tradegraph.store.emulation_sorting.range_walk", None)
    assert bars.find_one({"_id": stored, "symbol": "A"}, sort=[("start", -1)])["n"] == 0
    full = {"symbol": "A", "interval": "1m", "start": T0, "source": "ticks", "n": 0}
    assert [d["_id"] for d in bars.find(full).sort("start", 1)] == [stored]
