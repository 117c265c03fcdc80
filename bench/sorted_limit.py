"""Sorted, limited finds over a large candle collection on the embedded store, walked along the
index from the requested end (emulation_range_walks.py) and, as before, read over their whole
range and sorted; in one run, on the same data.

python -m bench lastbar [--candles 200000] [--rounds 100]   (times in ms per find)

`--candles` one-minute bars of one symbol in a collection with CandleBar's index (symbol,
interval, start, source): every 100th an imported one, the others built. Each timed find asks
at a random moment in the later half of the collection (so a range read holds ~N/2 bars):
- last built bar before t: `find({symbol, interval, start < t, source: ticks})
  .sort(start, -1).limit(1)`, as last_bar_before asks;
- last imported bar before t: the same for `source: import` (the walk passes up to 99 built
  bars first);
- first bar at or after t: `start >= t`, ascending, limit 1;
- 20 newest bars: no range, `sort(start, -1).limit(20)`.
Calls are the store thread's work, made directly (no event loop). The baseline is the same
find with the walks switched off (`emulation_range_walks.ENABLED = False`): fewer rounds
(`--rounds` / 10, at least 3), each reads half the collection. Both answers are asserted equal.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import mongomock

from tradegraph.documents import CandleBar
from tradegraph.documents.markets import BUILT, IMPORTED
from tradegraph.store import emulation_range_walks
from tradegraph.store.emulation import emulated_client

T0 = datetime(2026, 1, 1, tzinfo=UTC)
Find = Callable[[datetime], list[Any]]


def _candles(count: int) -> Any:
    emulated_client()  # the server's patches
    bars: Any = mongomock.MongoClient(tz_aware=True)["sortedlimit"]["candles"]
    bars.create_indexes(CandleBar.Settings.indexes)
    bars.insert_many(
        [
            {
                "symbol": "BENCH",
                "interval": "1m",
                "start": T0 + timedelta(minutes=minute),
                "source": IMPORTED if minute % 100 == 0 else BUILT,
                "high": 101.0,
                "low": 99.0,
                "volume": 1.0,
                "ticks": 3,
            }
            for minute in range(count)
        ]
    )
    return bars


def _finds(bars: Any) -> list[tuple[str, Find]]:
    key = {"symbol": "BENCH", "interval": "1m"}

    def last_before(source: str) -> Find:
        return lambda t: list(
            bars.find({**key, "start": {"$lt": t}, "source": source}).sort("start", -1).limit(1)
        )

    return [
        ("last built bar before t", last_before(BUILT)),
        ("last imported bar before t", last_before(IMPORTED)),
        (
            "first bar at or after t",
            lambda t: list(bars.find({**key, "start": {"$gte": t}}).sort("start", 1).limit(1)),
        ),
        ("20 newest bars", lambda t: list(bars.find(key).sort("start", -1).limit(20))),
    ]


def _timed(find: Find, moments: list[datetime], walks: bool) -> tuple[list[float], list[Any]]:
    emulation_range_walks.ENABLED = walks
    times, answers = [], []
    try:
        for moment in moments:
            began = time.perf_counter()
            found = find(moment)
            times.append(1000 * (time.perf_counter() - began))
            answers.append([bar["_id"] for bar in found])
    finally:
        emulation_range_walks.ENABLED = True
    return sorted(times), answers


def run(count: int, rounds: int) -> None:
    began = time.perf_counter()
    bars = _candles(count)
    stored = time.perf_counter() - began
    rng = random.Random(7)
    moments = [T0 + timedelta(minutes=rng.randrange(count // 2, count)) for _ in range(rounds)]
    print(f"\n{count} candles (stored in {stored:.1f} s); ms per find")
    print("| find | walked p50 | walked p99 | range read p50 | range read p99 | speed-up |")
    print("|---|---:|---:|---:|---:|---:|")
    for label, find in _finds(bars):
        find(moments[0])  # the first call builds the range table (both ways use it)
        walked, answers = _timed(find, moments, walks=True)
        few = moments[: max(3, rounds // 10)]
        read, before = _timed(find, few, walks=False)
        assert before == answers[: len(few)], label  # the same bars either way
        p50, p50_before = statistics.median(walked), statistics.median(read)
        print(
            f"| {label} | {p50:.3f} | {_p99(walked):.3f} | {p50_before:.1f} "
            f"| {_p99(read):.1f} | {p50_before / p50:.0f}x |"
        )


def _p99(times: list[float]) -> float:
    return times[min(len(times) - 1, int(0.99 * len(times)))]
