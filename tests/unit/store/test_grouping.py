"""`$group` from values recorded per document, and split aggregations that group as they read,
answer exactly what mongomock answers; long aggregations take turns in the long lane."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock.aggregate
import mongomock.collection
import pytest
from bson import Decimal128, ObjectId

from tradegraph.events.summary import TimeBucket, series_pipeline, summary_pipeline
from tradegraph.store import (
    emulation_aggregation,
    emulation_copies,
    emulation_lookups,
    emulation_split,
)
from tradegraph.store.emulation import emulated_client
from tradegraph.store.emulation_expressions import FALLBACK, compiled

T0 = datetime(2026, 1, 1, tzinfo=UTC)
NOT_LOGIN = {"$ne": ["$type", "login"]}
MATCH = {"timestamp": {"$gte": T0, "$lt": T0 + timedelta(days=2)}}


def _events(count: int) -> list[dict[str, Any]]:
    """Ordinary events, and every few an odd one that takes mongomock's own road."""
    odd: list[dict[str, Any]] = [
        {"type": "purchase"},  # no user, no value
        {"user_id": None, "type": "purchase", "value": None},
        {"user_id": 7, "type": "purchase", "value": 12},  # a number as key
        {"user_id": 7.0, "type": True, "value": 2.5},
        {"user_id": Decimal128("7"), "type": "view", "value": 1},
        {"user_id": True, "type": "login", "value": float("nan")},
        {"user_id": {"id": "u1"}, "type": ["a", "b"], "value": -3},
        {"user_id": "u1", "type": "purchase", "value": 10**16},  # beyond the value cap
        {"user_id": "u2", "type": "purchase", "value": -(10**16)},
    ]
    documents = []
    for n in range(count):
        document: dict[str, Any] = {
            "user_id": f"u{n % 7}",
            "type": ("purchase", "login", "view")[n % 3],
        }
        document["value"] = (n % 13) * 1.25 if n % 4 else n % 11
        if n % 50 == 0:
            document = dict(odd[(n // 50) % len(odd)])
        document["timestamp"] = T0 + timedelta(minutes=n)
        document["metadata"] = {"n": n}
        documents.append(document)
    return documents


PIPELINES: list[list[dict[str, Any]]] = [
    summary_pipeline(MATCH, 3),
    series_pipeline(MATCH, TimeBucket.HOUR),
    [
        {"$match": MATCH},
        {
            "$group": {
                "_id": "$user_id",
                "first": {"$first": "$value"},
                "last": {"$last": "$type"},
                "mean": {"$avg": "$value"},
                "low": {"$min": "$value"},
                "high": {"$max": "$value"},
                "types": {"$addToSet": "$type"},
                "ns": {"$push": "$metadata.n"},
                "seen": {"$sum": {"$cond": {"if": NOT_LOGIN, "then": 1, "else": 0}}},
            }
        },
        {"$sort": {"ns": 1}},
    ],
    [{"$match": MATCH}, {"$group": {"_id": None, "n": {"$sum": 1}, "all": {"$push": "$$ROOT"}}}],
    [{"$match": MATCH}, {"$group": {"_id": {"t": "$type"}, "n": {"$sum": 1}}}],
    [{"$match": {"type": "none such"}}, {"$group": {"_id": None, "n": {"$sum": 1}}}],
]


async def _collection(count: int) -> Any:
    collection = emulated_client()["grouping"]["events"]
    await collection.insert_many(_events(count))
    return collection


async def _answers(collection: Any) -> list[list[Any]]:
    return [list(await (await collection.aggregate(p)).to_list()) for p in PIPELINES]


def _mongomock_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undoes the emulation's aggregation shortcuts: what is left is mongomock's own way."""
    monkeypatch.setattr(
        mongomock.aggregate, "_parse_expression", emulation_aggregation._original_parse_expression
    )
    original_group = emulation_aggregation._original_group_stage
    monkeypatch.setitem(mongomock.aggregate._PIPELINE_HANDLERS, "$group", original_group)
    monkeypatch.setattr(
        mongomock.collection.Collection,
        "_iter_documents",
        emulation_lookups._original_iter_documents,
    )
    monkeypatch.setattr(mongomock.collection, "_copy_field", emulation_copies._original_copy_field)


def _comparable(value: Any) -> Any:
    """NaN as a marker (NaN != NaN), ObjectIds dropped ($$ROOT carries them; compared apart)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if not isinstance(v, ObjectId)}
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


async def test_split_and_whole_aggregations_that_group_answer_what_mongomock_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collection = await _collection(3_000)
    monkeypatch.setattr(emulation_split, "SPLIT_ABOVE", 0)  # every one in steps, grouped as read
    monkeypatch.setattr(emulation_split, "STEP_SECONDS", 0.0)
    split = await _answers(collection)
    monkeypatch.setattr(emulation_split, "SPLIT_ABOVE", 10**9)  # every one in one call
    whole = await _answers(collection)
    plain: Any = mongomock.MongoClient(tz_aware=True)["plain"]["events"]
    plain.insert_many(_events(3_000))
    _mongomock_alone(monkeypatch)
    expected = []
    for pipeline in PIPELINES:
        documents = list(plain.find(pipeline[0]["$match"]))
        rest = pipeline[1:]
        expected.append(list(mongomock.aggregate.process_pipeline(documents, None, rest, None)))
    for got in (split, whole):
        assert [_comparable(rows) for rows in got] == [_comparable(rows) for rows in expected]
        assert [type(row["_id"]) for row in got[2]] == [type(row["_id"]) for row in expected[2]]
    totals = split[0][0]["totals"][0]
    assert totals["count"] == 2_880  # 2 days of minutes, every odd document included
    assert len(split[3][0]["all"]) == 2_880


@pytest.mark.parametrize(
    "expression",
    [
        "$value",
        "$metadata.n",
        {"$max": [{"$min": ["$value", 1e15]}, -1e15]},
        {"$min": ["$value", "$metadata.n", 3]},
        {"$cond": [{"$eq": ["$type", "purchase"]}, "$value", 0]},
        {"$cond": {"if": "$value", "then": 1, "else": 0}},
        {"$subtract": ["$timestamp", {"$mod": [{"$subtract": ["$timestamp", T0]}, 3_600_000]}]},
    ],
)
def test_compiled_expressions_give_mongomock_s_value(expression: Any) -> None:
    function = compiled(expression)
    assert function is not None
    evaluate = emulation_aggregation._original_parse_expression
    compared = 0
    for document in _events(400):
        value = function(document)
        if value is FALLBACK:
            continue  # mongomock's own evaluation answers for this document
        assert _comparable(value) == _comparable(evaluate(expression, document))
        compared += 1
    assert compared >= 300


async def test_long_aggregations_take_turns_in_one_lane(monkeypatch: pytest.MonkeyPatch) -> None:
    collection = await _collection(2_000)
    monkeypatch.setattr(emulation_split, "SPLIT_ABOVE", 0)
    monkeypatch.setattr(emulation_split, "STEP_SECONDS", 0.0)  # many steps each
    steps: list[int] = []  # which aggregation each step served, in the order they ran
    step = emulation_split._step

    def recorded(collection: Any, spec: Any, documents: list[Any], start: int, take: Any) -> int:
        steps.append(id(take))
        return step(collection, spec, documents, start, take)

    monkeypatch.setattr(emulation_split, "_step", recorded)
    first, second = await asyncio.gather(
        collection.aggregate(PIPELINES[0]), collection.aggregate(PIPELINES[0])
    )
    assert _comparable(await first.to_list()) == _comparable(await second.to_list())
    turns = [key for at, key in enumerate(steps) if at == 0 or steps[at - 1] != key]
    assert len(steps) > 100
    assert len(turns) == 2  # all of one, then all of the other: never interleaved
