"""Per-portfolio and per-user reads on the embedded store, with and without the prefix tables
(emulation_prefixes.py: equality on any index's leading fields found by hash), in one run.

python -m bench lookups [--sizes 1000,8000,50000] [--rounds 100]   (times in ms)

For each size N: an `orders` collection with the Order document's indexes holding N orders of
N/50 portfolios, and an `events` collection with the Event document's indexes holding N
events, half of them one user's. A round is what a trading load does between two reads: one
order placed and one order's status changed (every write used to invalidate the whole
collection's cached sort), then the reads, each timed:
- orders page: `find({portfolio_id}).sort(created_at desc, _id desc).limit(20)`;
- orders count: `count_documents({portfolio_id})` (the page's totalCount);
- events page: the heavy user's `find({user_id}).sort(timestamp desc, _id desc).limit(20)`
  after another user's event is stored (a large bucket, paged from its cached order);
- events page, own write: the same after one of the heavy user's own events is stored (its
  bucket changed: the new event is merged into the cached order as the page is walked).
Events are stored, then numbered (`seq` set by an update), as events/sequence.py does.
The first call of each read with the tables on is reported apart: it builds the table.
Calls are the store thread's work, made directly (no event loop): the baseline is the same
calls with the tables switched off (`emulation_prefixes.ENABLED = False`), on the same data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock
from bson import Decimal128, ObjectId
from pymongo import DESCENDING

from tradegraph.documents import Order
from tradegraph.documents.events import Event
from tradegraph.store import emulation_prefixes
from tradegraph.store.emulation import emulated_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
PER_PORTFOLIO = 50
NEWEST = [("created_at", DESCENDING), ("_id", DESCENDING)]
NEWEST_EVENTS = [("timestamp", DESCENDING), ("_id", DESCENDING)]
STATUSES = ["NEW", "FILLED", "CANCELED", "PARTIALLY_FILLED"]


def _order(portfolio_id: ObjectId, number: int) -> dict[str, Any]:
    return {
        "portfolio_id": portfolio_id,
        "owner_id": str(portfolio_id),
        "client_order_id": f"c{number}",
        "symbol": f"SYM{number % 19:02d}",
        "side": "BUY" if number % 2 else "SELL",
        "status": STATUSES[number % len(STATUSES)],
        "quantity": Decimal128(str(1 + number % 9)),
        "release_pending": False,
        "events_pending": False,
        "fills": [],
        "unsettled": [],
        "created_at": T0 + timedelta(seconds=number),
        "updated_at": T0 + timedelta(seconds=number),
    }


def _event(user_id: str, number: int) -> dict[str, Any]:
    return {
        "idempotency_key": f"k{number}",
        "user_id": user_id,
        "type": "order",
        "value": Decimal128(f"{number % 97}.5"),
        "timestamp": T0 + timedelta(seconds=number),
        "received_at": T0 + timedelta(seconds=number),
        "seq": number,
    }


class Workload:
    """The two collections of one size, and the writes and reads of a round."""

    def __init__(self, stored: int) -> None:
        database: Any = mongomock.MongoClient(tz_aware=True)[f"lookups{stored}"]
        self.orders: Any = database["orders"]
        self.events: Any = database["events"]
        self.orders.create_indexes(Order.Settings.indexes)
        self.events.create_indexes(Event.Settings.indexes)
        self.stored = stored
        self.portfolios = [ObjectId() for _ in range(max(1, stored // PER_PORTFOLIO))]
        self.rng = random.Random(stored)
        self.numbers = iter(range(stored, 10**9))
        self.orders.insert_many(
            [_order(self.portfolios[n % len(self.portfolios)], n) for n in range(stored)]
        )
        self.heavy = "heavy-user"
        self.events.insert_many(
            [_event(self.heavy if n % 2 else f"user{n % 97}", n) for n in range(stored)]
        )

    def write(self) -> None:
        number = next(self.numbers)
        self.orders.insert_one(_order(self.rng.choice(self.portfolios), number))
        changed = self.rng.randrange(self.stored)
        self.orders.update_one(
            {
                "portfolio_id": self.portfolios[changed % len(self.portfolios)],
                "client_order_id": f"c{changed}",
            },
            {"$set": {"status": "FILLED", "updated_at": T0 + timedelta(seconds=number)}},
        )

    def orders_page(self) -> None:
        portfolio = self.rng.choice(self.portfolios)
        assert len(list(self.orders.find({"portfolio_id": portfolio}).sort(NEWEST).limit(20)))

    def orders_count(self) -> None:
        assert self.orders.count_documents({"portfolio_id": self.rng.choice(self.portfolios)})

    def events_page(self) -> None:
        self._store_event(f"user{self.rng.randrange(97)}")
        self._heavy_page()

    def events_page_own_write(self) -> None:
        self._store_event(self.heavy)
        self._heavy_page()

    def _store_event(self, user_id: str) -> None:
        """Stored, then numbered, as events/sequence.py does."""
        number = next(self.numbers)
        event = _event(user_id, number)
        del event["seq"]
        stored = self.events.insert_one(event).inserted_id
        self.events.update_one({"_id": stored}, {"$set": {"seq": number}})

    def _heavy_page(self) -> None:
        page = list(self.events.find({"user_id": self.heavy}).sort(NEWEST_EVENTS).limit(20))
        assert len(page) == 20


def _timed(call: Callable[[], None]) -> float:
    started = time.perf_counter()
    call()
    return 1000 * (time.perf_counter() - started)


def _reads(workload: Workload) -> dict[str, Callable[[], None]]:
    return {
        "orders page": workload.orders_page,
        "orders count": workload.orders_count,
        "events page": workload.events_page,
        "events page, own write": workload.events_page_own_write,
    }


def _rounds(workload: Workload, rounds: int) -> tuple[dict[str, float], dict[str, list[float]]]:
    """The first call of each read (it builds the tables it uses), then `rounds` rounds."""
    first = {name: _timed(read) for name, read in _reads(workload).items()}
    times: dict[str, list[float]] = {name: [] for name in first}
    for _ in range(rounds):
        workload.write()
        for name, read in _reads(workload).items():
            times[name].append(_timed(read))
    return first, times


def _p(values: list[float], quantile: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * quantile))]


def run(sizes: list[int], rounds: int) -> None:
    emulated_client()  # the emulation's patches, as the server runs them
    print(f"{rounds} rounds per size and side; ms; first: the first call (builds the table)")
    print("| stored | read | scan p50 | scan p99 | first | tables p50 | tables p99 | p50 ratio |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for stored in sizes:
        workload = Workload(stored)
        emulation_prefixes.ENABLED = False
        try:
            _, before = _rounds(workload, rounds)
        finally:
            emulation_prefixes.ENABLED = True
        first, after = _rounds(workload, rounds)
        for name, old in before.items():
            new = after[name]
            print(
                f"| {stored:,} | {name} | {_p(old, 0.5):.2f} | {_p(old, 0.99):.2f} "
                f"| {first[name]:.1f} | {_p(new, 0.5):.3f} | {_p(new, 0.99):.3f} "
                f"| {_p(old, 0.5) / _p(new, 0.5):,.0f}x |"
            )
