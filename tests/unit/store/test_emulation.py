"""The emulation's lookups, snapshots and tick sweep, on mongomock directly (no server)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import mongomock
import mongomock.collection
import pytest
from bson import Decimal128, ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from tradegraph.store import (
    emulation_aggregation,
    emulation_copies,
    emulation_indexes,
    emulation_lookups,
    emulation_ranges,
)
from tradegraph.store.emulation import emulated_client
from tradegraph.store.emulation_thread import run_in_store_thread
from tradegraph.store.retention import sweep_expired
from tradegraph.store.snapshots import (
    SnapshotUnreadable,
    _restore,
    encode_in_chunks,
    encode_store,
    read_snapshot,
    write_atomically,
)

emulation_indexes.install()
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def database() -> Any:
    return mongomock.MongoClient(tz_aware=True)["db"]


def test_unique_keys_are_enforced_after_deletes_and_key_changes() -> None:
    events = database()["events"]
    events.create_indexes([IndexModel([("key", ASCENDING)], unique=True, name="key_unique")])
    events.insert_many([{"key": f"k{i}", "n": i} for i in range(2000)])
    with pytest.raises(BulkWriteError) as refused:
        events.insert_many([{"key": "new"}, {"key": "k5"}, {"key": "k7"}], ordered=False)
    assert [e["index"] for e in refused.value.details["writeErrors"]] == [1, 2]
    events.delete_one({"key": "k5"})
    events.insert_one({"key": "k5", "n": -5})  # the deleted key is free again
    events.update_one({"key": "k8"}, {"$set": {"key": "k8-moved"}})
    events.insert_one({"key": "k8"})  # so is a key moved away by an update
    with pytest.raises(DuplicateKeyError):
        events.insert_one({"key": "k8-moved"})
    assert events.find_one({"key": "k5"})["n"] == -5
    assert events.count_documents({}) == 2002  # 2000 + "new" - k5 + k5 + k8


def test_sorted_finds_with_a_limit_match_a_full_sort_after_every_change() -> None:
    rows = database()["rows"]
    rng = random.Random(3)
    rows.insert_many([{"t": rng.randrange(50), "kind": rng.choice("ab")} for _ in range(500)])

    def newest(**spec: Any) -> list[Any]:
        found = rows.find(spec).sort([("t", DESCENDING), ("_id", DESCENDING)]).limit(7)
        return [r["_id"] for r in found]

    def reference(**spec: Any) -> list[Any]:
        matching = [r for r in rows.find(spec)]
        matching.sort(key=lambda r: (r["t"], r["_id"]), reverse=True)
        return [r["_id"] for r in matching[:7]]

    for change in range(4):
        assert newest() == reference()
        assert newest(kind="a") == reference(kind="a")
        if change == 0:
            rows.insert_one({"t": 99, "kind": "a"})
        elif change == 1:
            rows.delete_many({"t": {"$gte": 48}})
        else:
            rows.update_many({"t": 10}, {"$set": {"t": 120}})


def test_a_snapshot_round_trip_keeps_values_and_indexes(tmp_path: Path) -> None:
    source = database()
    holdings = source["holdings"]
    holdings.create_indexes([IndexModel([("symbol", ASCENDING)], unique=True, name="symbol")])
    document = {
        "_id": ObjectId(),
        "symbol": "PETR4",
        "quantity": Decimal128(Decimal("12.345678901234567890")),
        "at": T0 + timedelta(milliseconds=123),
        "nested": {"list": [1, "two", None]},
    }
    holdings.insert_one(document)
    file = tmp_path / "db.snapshot.bson"
    write_atomically(file, encode_store(source._store, T0))
    assert [p.name for p in tmp_path.iterdir()] == ["db.snapshot.bson"]  # no temporary left

    snapshot = read_snapshot(file)
    assert snapshot is not None
    target = database()
    target["holdings"].create_indexes(
        [IndexModel([("symbol", ASCENDING)], unique=True, name="symbol")]
    )
    assert target["holdings"].find_one({"symbol": "PETR4"}) is None  # its lookup table is built
    _restore(target._store, *snapshot)
    restored = target["holdings"].find_one({"symbol": "PETR4"})
    assert restored == document
    assert restored["quantity"].to_decimal() == Decimal("12.345678901234567890")
    assert "symbol" in target["holdings"].index_information()
    with pytest.raises(DuplicateKeyError):
        target["holdings"].insert_one({"symbol": "PETR4"})


def test_a_restored_snapshot_shares_repeated_values_as_inserts_do(tmp_path: Path) -> None:
    emulated_client()  # the emulation's patches: what it stores shares repeated values
    source = database()
    source["bars"].insert_many(
        [{"symbol": "PETR4", "open": Decimal128("10.50"), "start": T0} for _ in range(3)]
    )
    file = tmp_path / "db.snapshot.bson"
    write_atomically(file, encode_store(source._store, T0))
    snapshot = read_snapshot(file)
    assert snapshot is not None
    first, second = snapshot[1]["bars"][:2]
    assert first == second | {"_id": first["_id"]}
    for name in ("symbol", "open", "start"):
        assert first[name] is second[name], name
    assert [id(key) for key in first] == [id(key) for key in second]  # field names too


async def test_market_data_is_snapshotted_in_chunks_that_let_other_store_calls_through(
    tmp_path: Path,
) -> None:
    emulated_client()
    source = database()
    source["candles"].insert_many([{"symbol": "PETR4", "n": n} for n in range(300)])
    source["orders"].insert_many([{"status": "NEW", "n": n} for n in range(3)])

    encoding = asyncio.create_task(encode_in_chunks(source._store, chunk=1))
    interleaved = 0  # other store calls that ran while the snapshot was being encoded
    while not encoding.done():
        await run_in_store_thread(source["orders"].count_documents, {})
        interleaved += 1
    chunked = await encoding

    assert interleaved > 100  # one call between chunks; encoded in one call, it would be ~2

    assert set(chunked) == {"candles"}  # orders have invariants across documents: not chunked
    file = tmp_path / "db.snapshot.bson"
    write_atomically(file, encode_store(source._store, T0, chunked))
    snapshot = read_snapshot(file)
    assert snapshot is not None
    whole = read_snapshot_of(tmp_path, encode_store(source._store, T0))
    assert snapshot[1] == whole[1]  # the same documents as encoding all at once


def read_snapshot_of(tmp_path: Path, parts: list[bytes]) -> Any:
    file = tmp_path / "whole.snapshot.bson"
    write_atomically(file, parts)
    snapshot = read_snapshot(file)
    assert snapshot is not None
    return snapshot


def test_a_damaged_snapshot_is_refused_naming_the_file(tmp_path: Path) -> None:
    source = database()
    source["a"].insert_many([{"n": n} for n in range(3)])
    file = tmp_path / "db.snapshot.bson"
    parts = encode_store(source._store, T0)
    write_atomically(file, parts[:-1])  # a whole document missing: the manifest says 3
    with pytest.raises(SnapshotUnreadable, match=str(file)):
        read_snapshot(file)
    file.write_bytes(b"\x00" * 10)
    with pytest.raises(SnapshotUnreadable, match=str(file)):
        read_snapshot(file)
    assert read_snapshot(tmp_path / "missing.bson") is None


def test_the_sweep_deletes_the_oldest_ticks_up_to_the_first_kept_one() -> None:
    ticks = database()["ticks"]
    ages = [600, 500, 400, 30, 900, 10]  # 900: a late arrival with an old timestamp
    ticks.insert_many([{"timestamp": T0 - timedelta(seconds=a), "age": a} for a in ages])
    assert sweep_expired(ticks._store, T0 - timedelta(seconds=60)) == 3
    assert [t["age"] for t in ticks.find()] == [30, 900, 10]
    ticks.delete_one({"age": 30})
    assert sweep_expired(ticks._store, T0 - timedelta(seconds=60)) == 1  # now at the front
    assert [t["age"] for t in ticks.find()] == [10]


def _bars() -> Any:
    bars = database()["bars"]
    bars.create_indexes(
        [
            IndexModel(
                [("symbol", ASCENDING), ("interval", ASCENDING), ("start", ASCENDING)],
                unique=True,
                name="symbol_interval_start",
            )
        ]
    )
    return bars


def _scan(collection: Any, spec: dict[str, Any]) -> list[Any]:
    """mongomock's own answer: a scan of every stored document."""
    spec = mongomock.helpers.patch_datetime_awareness_in_document(spec)  # as find does
    found = emulation_lookups._original_iter_documents(collection, spec)
    return sorted(str(d["_id"]) for d in found)


def test_range_lookups_find_what_a_scan_finds_through_inserts_deletes_and_updates() -> None:
    bars = _bars()
    rng = random.Random(5)
    minutes = list(range(600))
    rng.shuffle(minutes)  # stored out of order
    seen: set[tuple[str, int]] = set()
    for m in minutes:
        symbol = rng.choice(["A", "B"])
        if (symbol, m) not in seen:
            seen.add((symbol, m))
            bars.insert_one(
                {
                    "symbol": symbol,
                    "interval": "1m",
                    "start": T0 + timedelta(minutes=m),
                    "source": rng.choice(["ticks", "import"]),
                    "n": m,
                }
            )
    bars.insert_many(  # values a sorted key list cannot hold are candidates all the same
        [
            {"symbol": "A", "interval": "1m", "start": "text", "n": -1},
            {"symbol": "A", "interval": "1m", "n": -2},
            {"symbol": "A", "interval": "1m", "start": 5, "n": -3},
            {"symbol": ["A", "B"], "interval": "1m", "start": T0, "n": -4},
        ]
    )
    specs: list[dict[str, Any]] = [
        {"symbol": "A", "interval": "1m", "start": {"$gte": T0 + timedelta(minutes=100)}},
        {"symbol": "B", "interval": "1m", "start": {"$lt": T0 + timedelta(minutes=50)}},
        {
            "symbol": "A",
            "interval": "1m",
            "source": "ticks",
            "start": {"$gt": T0 + timedelta(minutes=10), "$lte": T0 + timedelta(minutes=200)},
        },
        {"symbol": "A", "interval": "1m", "start": {"$gte": T0, "$lt": T0}},
        {"symbol": "A", "interval": "1m", "start": {"$gte": 0, "$lt": 10}},
        {"symbol": "A", "interval": {"$gte": "1m"}},
        {"symbol": "C", "interval": "1m", "start": {"$gte": T0}},
    ]

    def check() -> None:
        for spec in specs:
            assert _scan(bars, spec) == sorted(str(d["_id"]) for d in bars.find(spec)), spec
            for direction in (1, -1):  # (symbol, interval, start) is unique: no ties
                ordered = [d["n"] for d in bars.find(spec).sort("start", direction)]
                found = emulation_lookups._original_iter_documents(
                    bars, mongomock.helpers.patch_datetime_awareness_in_document(spec)
                )
                reference = sorted(
                    found,
                    key=lambda d: mongomock.filtering.resolve_sort_key("start", d),
                    reverse=direction < 0,
                )
                assert ordered == [d["n"] for d in reference], (spec, direction)
        narrow = {
            "symbol": "A",
            "interval": "1m",
            "start": {"$gte": T0 + timedelta(minutes=300), "$lt": T0 + timedelta(minutes=310)},
        }
        candidates = emulation_ranges.range_candidates(bars._store, narrow)
        assert candidates is not None
        assert len(candidates) < 20  # looked up, not scanned

    check()
    bars.delete_many({"n": {"$lt": 100, "$gte": 0}})
    check()
    for n in range(500, 520):
        moved = T0 + timedelta(days=1, minutes=n)
        bars.update_one({"n": n}, {"$set": {"start": moved}})
    bars.update_many({"n": {"$gte": 520, "$lt": 540}}, {"$set": {"symbol": "C"}})
    bars.update_many({"n": {"$gte": 530, "$lt": 540}}, {"$set": {"symbol": "A"}})  # and back
    specs.append({"symbol": "A", "interval": "1m", "start": {"$gte": T0 + timedelta(days=1)}})
    check()
    bars.insert_one({"symbol": "A", "interval": "1m", "start": T0 - timedelta(minutes=1), "n": 9})
    check()


def test_bucketed_aggregations_give_what_mongomock_alone_gives(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bars = _bars()
    rng = random.Random(11)
    minutes = list(range(0, 900))
    rng.shuffle(minutes)
    bars.insert_many(
        [
            {
                "symbol": "A",
                "interval": "1m",
                "start": T0 + timedelta(minutes=m),
                "source": "ticks" if m % 7 else "import",
                "first": {"at": T0 + timedelta(minutes=m), "price": 100 + rng.random()},
                "last": {
                    "at": T0 + timedelta(minutes=m, seconds=59),
                    "price": rng.randrange(90, 110),
                },
                "high": 120,
                "low": 80 + m % 5,
                "volume": rng.choice([1, 2.5, 7]),
            }
            for m in minutes
        ]
    )
    bars.insert_many(  # seeded bars: open and close as plain fields (one of them null)
        [
            {
                "symbol": "A",
                "interval": "1m",
                "start": T0 - timedelta(minutes=m),
                "source": "ticks",
                "open": None if m == 3 else 100 + m,
                "close": 101 + m,
                "high": 130,
                "low": 70,
                "volume": 1,
            }
            for m in range(1, 200)
        ]
    )
    bars.update_one(  # a late tick in a seeded bar: its open stays the seeded one
        {"start": T0 - timedelta(minutes=5)}, {"$set": {"first": {"at": T0, "price": 1}}}
    )
    bars.insert_many(  # odd documents take mongomock's own road
        [
            {"symbol": "A", "interval": "1m", "start": "soon", "source": "ticks"},
            {"symbol": "A", "interval": "1m", "start": T0 + timedelta(days=1), "source": ["ticks"]},
            {"symbol": "A", "interval": "1m", "start": T0 + timedelta(hours=2, seconds=1)},
            {
                "symbol": "A",
                "interval": "1m",
                "start": T0 + timedelta(hours=3, seconds=1),
                "source": "ticks",
                "first": [{"price": 1}],
                "volume": "x",
            },
        ]
    )
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    since_epoch = {"$subtract": ["$start", epoch]}
    pipelines = [
        [
            {
                "$match": {
                    "symbol": "A",
                    "interval": "1m",
                    "source": "ticks",
                    "start": {"$gte": T0 - timedelta(hours=5), "$lt": T0 + timedelta(days=2)},
                }
            },
            {"$sort": {"start": 1}},
            {
                "$group": {
                    "_id": {"$subtract": ["$start", {"$mod": [since_epoch, seconds * 1000]}]},
                    "open": {"$first": {"$ifNull": ["$open", "$first.price"]}},
                    "close_either": {"$last": {"$ifNull": ["$close", "$last.price"]}},
                    "high": {"$max": "$high"},
                    "low": {"$min": "$low"},
                    "close": {"$last": "$last.price"},
                    "volume": {"$sum": "$volume"},
                    "missing": {"$sum": "$nothing.here"},
                }
            },
            {"$sort": {"_id": 1}},
        ]
        for seconds in (60, 3600, 86400)
    ]
    pipelines.append(
        [{"$match": {"symbol": "A"}}, {"$group": {"_id": "$source", "n": {"$sum": 1}}}]
    )
    fast = [list(bars.aggregate(pipeline)) for pipeline in pipelines]
    monkeypatch.setattr(
        mongomock.aggregate, "_parse_expression", emulation_aggregation._original_parse_expression
    )
    monkeypatch.setitem(
        mongomock.aggregate._PIPELINE_HANDLERS,
        "$group",
        emulation_aggregation._original_group_stage,
    )
    monkeypatch.setattr(
        mongomock.collection.Collection,
        "_iter_documents",
        emulation_lookups._original_iter_documents,
    )
    monkeypatch.setattr(mongomock.collection, "_copy_field", emulation_copies._original_copy_field)

    def plain(pipeline: list[Any]) -> list[Any]:
        documents = list(bars.find(pipeline[0]["$match"]))
        return list(
            mongomock.aggregate.process_pipeline(documents, bars.database, pipeline[1:], None)
        )

    assert fast == [plain(pipeline) for pipeline in pipelines]
    assert len(fast[1]) == 20  # 4 seeded hours, 15 built, and a day later (source ["ticks"])
    assert {row["open"] for row in fast[0]} >= {104, None}  # None: null open, no first


async def test_bulk_updates_work_however_many_collections_were_opened() -> None:
    """pymongo-async-mock wraps mongomock's bulk add_update once more for every collection it
    patches unless it recognises its wrapper; 1,200 collections used to nest 1,200 wrappers and
    overflow the stack on the next bulk update (a long test session opens that many)."""
    client = emulated_client()
    database = client["bulk_nesting"]
    for number in range(1200):
        await database[f"c{number}"].insert_one({"_id": 1, "n": 0})
    add_update = mongomock.collection.BulkOperationBuilder.add_update
    assert not hasattr(add_update, "__wrapped__")  # one function, not a tower of wrappers
    result = await database["c0"].bulk_write([UpdateOne({"_id": 1}, {"$set": {"n": 1}})])
    assert result.modified_count == 1
