"""Equality on any index's leading fields found by hash (emulation_prefixes.py): the same
answers as mongomock's scan, without the scan."""

from __future__ import annotations

import functools
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
import mongomock.collection
import mongomock.filtering
import pytest
from bson import Decimal128, ObjectId
from pymongo import ASCENDING, DESCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from tradegraph.store import (
    emulation_indexes,
    emulation_lookups,
    emulation_prefixes,
    emulation_sorting,
)

emulation_indexes.install()
T0 = datetime(2026, 1, 1, tzinfo=UTC)
DAY = timedelta(days=1)
PORTFOLIOS = [ObjectId() for _ in range(4)]
NUMBERS: list[Any] = [1, 1.0, Decimal128("1"), Decimal128("1.00"), 2, 2.5, Decimal128("2.5")]
NUMBERS += [True, float("nan"), Decimal128("NaN")]
STATUSES: list[Any] = ["NEW", "FILLED", None, ["NEW", "FILLED"]]
SORT = [("created_at", DESCENDING), ("_id", DESCENDING)]


def _orders() -> Any:
    orders: Any = mongomock.MongoClient(tz_aware=True)["db"]["orders"]
    orders.create_indexes(
        [
            IndexModel(
                [("portfolio_id", ASCENDING), ("client_order_id", ASCENDING)],
                unique=True,
                name="portfolio_client_order_unique",
            ),
            IndexModel(
                [("portfolio_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)],
                name="portfolio_created",
            ),
            IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)], name="expiry"),
            IndexModel([("n", ASCENDING)], name="n"),
            IndexModel([("meta.kind", ASCENDING)], sparse=True, name="kind"),
            IndexModel([("created_at", ASCENDING)], name="created"),
        ]
    )
    return orders


def _order(rng: random.Random, number: int) -> dict[str, Any]:
    order: dict[str, Any] = {
        "portfolio_id": rng.choice(PORTFOLIOS),
        "client_order_id": f"c{number}",
        "created_at": T0 + timedelta(seconds=rng.randrange(40)),  # ties: _id decides
        "n": rng.choice(NUMBERS),
    }
    status = rng.choice([*STATUSES, "missing"])
    if status != "missing":
        order["status"] = status
    if rng.random() < 0.5:
        order["meta"] = rng.choice([{"kind": "a"}, {"kind": "b"}, [{"kind": "a"}], {}, 7])
    return order


def _change(rng: random.Random, orders: Any, number: int) -> None:
    """One random write: insert, key change, array or null key, delete, replace, reinsert."""
    ids = [d["_id"] for d in orders.find({}, {"_id": 1})]
    victim = {"_id": rng.choice(ids)} if ids else {}
    action = rng.randrange(8)
    if action <= 1 or not ids:
        stored = orders.insert_one(_order(rng, number)).inserted_id
        if action == 1:  # numbered once stored, as events are: its sort key changes
            moment = T0 + timedelta(seconds=rng.randrange(40))
            orders.update_one({"_id": stored}, {"$set": {"created_at": moment}})
    elif action == 2:
        orders.update_one(victim, {"$set": {"portfolio_id": rng.choice(PORTFOLIOS)}})
    elif action == 3:
        orders.update_many(
            {"portfolio_id": rng.choice(PORTFOLIOS), "n": rng.choice(NUMBERS)},
            {"$set": {"status": rng.choice(STATUSES), "n": rng.choice(NUMBERS)}},
        )
    elif action == 4:
        orders.update_one(victim, {"$unset": {"status": ""}, "$set": {"meta": {"kind": "b"}}})
    elif action == 5:
        orders.delete_one(victim)
    elif action == 6:
        replacement = _order(rng, number)
        orders.replace_one(victim, replacement)
    else:  # deleted, then stored again under the same _id
        document = orders.find_one(victim)
        orders.delete_one(victim)
        document["created_at"] = T0 + timedelta(seconds=rng.randrange(40))
        orders.insert_one(document)


def _queries(rng: random.Random) -> list[dict[str, Any]]:
    portfolio = rng.choice(PORTFOLIOS)
    return [
        {"portfolio_id": portfolio},
        {"portfolio_id": portfolio, "status": "NEW"},
        {"portfolio_id": {"$in": [portfolio, rng.choice(PORTFOLIOS)]}},
        {"portfolio_id": {"$eq": portfolio}, "created_at": {"$gte": T0 + timedelta(seconds=20)}},
        {"n": 1},
        {"n": Decimal128("2.5")},
        {"n": {"$in": [2, 1.0]}},
        {"n": float("nan")},
        {"status": None},
        {"status": "FILLED"},
        {"status": {"$in": ["NEW", None]}},
        {"status": "NEW", "expires_at": None},
        {"meta.kind": "a"},
        {"meta.kind": None},
        {"created_at": T0 + timedelta(seconds=3)},
        {"created_at": (T0 + timedelta(seconds=3)).replace(tzinfo=None)},
        {"portfolio_id": ObjectId()},  # nobody's
    ]


def _scan(orders: Any, spec: dict[str, Any]) -> list[Any]:
    """mongomock's own answer: a scan of every stored document."""
    spec = mongomock.helpers.patch_datetime_awareness_in_document(spec)  # as find does
    return list(emulation_lookups._original_iter_documents(orders, spec))


def _ids(documents: Any) -> list[str]:
    return [str(d["_id"]) for d in documents]


def _reference_sorted(orders: Any, spec: dict[str, Any], limit: int) -> list[str]:
    """mongomock's stable sort, key by key, as it sorts a find."""
    found = _scan(orders, spec)
    for key, direction in reversed(SORT):
        found.sort(key=functools.partial(_sort_key, key), reverse=direction < 0)
    return _ids(found[:limit])


def _sort_key(key: str, document: Any) -> Any:
    return mongomock.filtering.resolve_sort_key(key, document)


@pytest.mark.parametrize("sorted_above", [emulation_prefixes.SORTED_ABOVE, 3])
def test_prefix_lookups_answer_what_a_scan_answers_through_random_writes(
    sorted_above: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(emulation_prefixes, "SORTED_ABOVE", sorted_above)  # 3: cached walks
    orders = _orders()
    rng = random.Random(21)
    orders.insert_many([_order(rng, n) for n in range(150)])
    for step in range(50):
        _change(rng, orders, 1000 + step)
        for spec in _queries(rng):
            expected = sorted(_ids(_scan(orders, spec)))
            assert sorted(_ids(orders.find(spec))) == expected, (step, spec)
            assert orders.count_documents(spec) == len(expected), (step, spec)
            for limit in (7, 1000):
                page = _ids(orders.find(spec).sort(SORT).limit(limit))
                assert page == _reference_sorted(orders, spec, limit), (step, spec, limit)
    tables = orders._store.__dict__["_tradegraph_prefixes"]
    assert {("portfolio_id",), ("n",), ("status",), ("status", "expires_at"), ("meta.kind",)} <= (
        set(tables)
    )


def test_results_match_the_store_without_prefix_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    orders = _orders()
    rng = random.Random(8)
    orders.insert_many([_order(rng, n) for n in range(400)])
    pipeline_of = [{"$group": {"_id": "$status", "count": {"$sum": 1}}}, {"$sort": {"_id": 1}}]

    def answers() -> list[Any]:
        found = []
        for spec in _queries(random.Random(2)):
            found.append(_ids(orders.find(spec).sort(SORT).limit(20)))
            found.append(orders.count_documents(spec))
            found.append(list(orders.aggregate([{"$match": spec}, *pipeline_of])))
        return found

    with_tables = answers()
    monkeypatch.setattr(emulation_prefixes, "ENABLED", False)
    assert answers() == with_tables


def _many_orders(mine: int, others: int) -> tuple[Any, ObjectId]:
    orders = _orders()
    portfolio = ObjectId()
    orders.insert_many(
        [
            {"portfolio_id": ObjectId(), "client_order_id": "x", "created_at": T0, "status": "NEW"}
            for _ in range(others)
        ]
    )
    orders.insert_many(
        [
            {
                "portfolio_id": portfolio,
                "client_order_id": f"mine{n}",
                "created_at": T0 + timedelta(seconds=n),
                "status": "NEW",
            }
            for n in range(mine)
        ]
    )
    return orders, portfolio


def test_a_find_by_a_non_unique_prefix_reads_only_its_bucket(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    orders, portfolio = _many_orders(mine=30, others=5000)
    orders.find_one({"portfolio_id": portfolio})  # the table is built on first use

    def no_scan(*_: Any) -> Any:
        raise AssertionError("scanned the whole collection")

    monkeypatch.setattr(emulation_lookups, "_original_iter_documents", no_scan)
    monkeypatch.setattr(emulation_sorting, "_sorted_documents", no_scan)
    filtered: list[Any] = []

    def counted(spec: Any, document: Any) -> bool:
        filtered.append(document)
        return bool(mongomock.filtering.filter_applies(spec, document))

    monkeypatch.setattr(emulation_lookups, "filter_applies", counted)
    newest = list(orders.find({"portfolio_id": portfolio}).sort(SORT).limit(20))
    assert [d["client_order_id"] for d in newest] == [f"mine{n}" for n in range(29, 9, -1)]
    assert orders.count_documents({"portfolio_id": portfolio, "status": "NEW"}) == 30
    assert orders.count_documents({"portfolio_id": portfolio, "status": {"$ne": "NEW"}}) == 0
    grouped = list(
        orders.aggregate(
            [{"$match": {"portfolio_id": portfolio}}, {"$group": {"_id": None, "n": {"$sum": 1}}}]
        )
    )
    assert grouped == [{"_id": None, "n": 30}]
    some = {"portfolio_id": portfolio, "client_order_id": {"$in": ["mine1", "mine7", "none"]}}
    assert sorted(d["client_order_id"] for d in orders.find(some)) == ["mine1", "mine7"]
    assert len(filtered) <= 3 * 30  # the bucket's documents, not the collection's
    found = emulation_lookups.candidates(orders, {"portfolio_id": portfolio})
    assert found is not None
    assert len(found) == 30


def test_a_large_bucket_pages_from_its_cached_order_until_it_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulation_prefixes, "SORTED_ABOVE", 10)
    orders, portfolio = _many_orders(mine=200, others=100)
    sorts: list[int] = []
    original = emulation_sorting._sort_dataset

    def counted(documents: list[Any], pairs: list[tuple[str, int]]) -> list[Any]:
        if len(documents) > 10:  # a bucket, not the few inserted since
            sorts.append(len(documents))
        return original(documents, pairs)

    monkeypatch.setattr(emulation_sorting, "_sort_dataset", counted)

    def newest() -> list[str]:
        cursor = orders.find({"portfolio_id": portfolio}).sort(SORT).limit(3)
        return [d["client_order_id"] for d in cursor]

    assert newest() == ["mine199", "mine198", "mine197"]
    assert newest() == ["mine199", "mine198", "mine197"]
    assert sorts == [200]  # sorted once, then walked
    orders.delete_one({"client_order_id": "mine199"})  # passed over: no new sort needed
    assert newest() == ["mine198", "mine197", "mine196"]
    for name, seconds in (("new-last", -1), ("new-first", 500), ("new-tie", 197)):
        orders.insert_one(  # merged in as the walk goes: no new sort either
            {
                "_id": ObjectId("f" * 24) if name == "new-tie" else ObjectId(),
                "portfolio_id": portfolio,
                "client_order_id": name,
                "created_at": T0 + timedelta(seconds=seconds),
            }
        )
    assert newest() == ["new-first", "mine198", "new-tie"]  # the tie: the larger _id first
    orders.update_one(  # changed since inserted (as an event gets its seq): still merged
        {"client_order_id": "new-first"}, {"$set": {"created_at": T0 + timedelta(seconds=2)}}
    )
    orders.update_one({"client_order_id": "new-last"}, {"$set": {"status": "FILLED"}})
    assert newest() == ["mine198", "new-tie", "mine197"]
    assert sorts == [200]
    orders.delete_one({"client_order_id": "new-first"})
    orders.delete_one({"client_order_id": "new-tie"})
    assert newest() == ["mine198", "mine197", "mine196"]
    orders.update_one(
        {"client_order_id": "mine5"}, {"$set": {"created_at": T0 + timedelta(days=1)}}
    )
    assert newest() == ["mine5", "mine198", "mine197"]
    orders.update_one({"client_order_id": "mine198"}, {"$set": {"portfolio_id": ObjectId()}})
    assert newest() == ["mine5", "mine197", "mine196"]
    assert sorts == [200, 200]  # a key moving away is passed over by the filter


def test_stale_ids_do_not_pile_up_under_keys_nobody_reads() -> None:
    orders = _orders()
    orders.insert_one({"portfolio_id": PORTFOLIOS[0], "client_order_id": "keep", "status": "NEW"})
    assert orders.count_documents({"status": "GONE"}) == 0  # builds the status table
    for n in range(3000):
        orders.insert_one({"portfolio_id": PORTFOLIOS[1], "client_order_id": f"{n}", "status": "X"})
        orders.delete_one({"client_order_id": f"{n}"})
    table = orders._store.__dict__["_tradegraph_prefixes"][("status",)]
    assert table.entries <= 2 * len(orders._store._documents) + 1024
    assert orders.count_documents({"status": "NEW"}) == 1


def test_rolled_back_writes_leave_a_cached_bucket_order_exact(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(emulation_prefixes, "SORTED_ABOVE", 10)
    orders, portfolio = _many_orders(mine=50, others=10)

    def newest() -> list[str]:
        cursor = orders.find({"portfolio_id": portfolio}).sort(SORT).limit(4)
        return [d["client_order_id"] for d in cursor]

    assert newest() == ["mine49", "mine48", "mine47", "mine46"]
    with pytest.raises(DuplicateKeyError):  # an insert refused by the unique index
        orders.insert_one(
            {"portfolio_id": portfolio, "client_order_id": "mine3", "created_at": T0 + DAY}
        )
    with pytest.raises(DuplicateKeyError):  # an update refused, then rolled back
        orders.update_one(
            {"portfolio_id": portfolio, "client_order_id": "mine48"},
            {"$set": {"client_order_id": "mine2", "created_at": T0 + DAY}},
        )
    assert newest() == ["mine49", "mine48", "mine47", "mine46"]
    orders.update_one(
        {"portfolio_id": portfolio, "client_order_id": "mine48"}, {"$set": {"status": "DONE"}}
    )
    assert newest() == ["mine49", "mine48", "mine47", "mine46"]  # once, not twice
    orders.insert_one({"portfolio_id": portfolio, "client_order_id": "late", "created_at": T0})
    orders.update_one(
        {"portfolio_id": portfolio, "client_order_id": "mine47"},
        {"$set": {"created_at": T0 + DAY}},
    )
    assert newest() == ["mine47", "mine49", "mine48", "mine46"]
    assert orders.count_documents({"portfolio_id": portfolio}) == 51
