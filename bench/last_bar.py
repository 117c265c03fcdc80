"""A position's previous close on the embedded store: the last bar before a moment
(markets/candles.py::last_bar_before) against the candle windows it replaced, in one run.

python -m bench lastbar [--days 30] [--rounds 100] [--candles 200000]
(times in ms per previous close; then bench/sorted_limit.py's finds over --candles bars)

A server seeded `--days` of one-minute bars (a UTC day per document, as `serve --seed` stores
them) two days ago and fed since: two days of live bars (one tick a minute, one document per
bar, as the feed stores them) with a 30-minute pause 12 hours ago. Each round asks the
previous close of four day starts, uncached:
- crypto: 24 hours ago, a day of live bars before it (a crypto position's `portfolio` query);
- after a pause: 12 hours ago, the end of the pause (nothing in the 10-minute near window:
  the replaced code read a whole day of one-minute bars);
- seeded: three days ago, inside the seeded days (`--days` >= 4);
- weekend: a symbol whose history stopped 2.5 days ago (a stock on a Monday morning): the
  one-minute reach finds nothing and the hourly one does.
Compared, on the same data: `previous_close` now (DayPnlService, cache cleared:
last_bar_before's plain sorted, limited finds, which the store walks along its index), the
growing search window it replaced (16 buckets back, then 16x as far each time), with the
emulation's range reads it was written for and on today's walks, the candle windows before
that (each interval's near window, then its wide one, through `candles`), and the wide
windows alone (what the near windows were added to avoid).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from beanie import PydanticObjectId, init_beanie

from bench import sorted_limit
from tradegraph.documents import ALL_DOCUMENTS, AssetClass, CandleInterval, Instrument
from tradegraph.markets import bars, day_bars
from tradegraph.markets import candles as candles_module
from tradegraph.markets.candles import candles
from tradegraph.markets.history import history_columns
from tradegraph.markets.instruments import Instruments
from tradegraph.store import emulation_range_walks
from tradegraph.store.emulation import emulated_client
from tradegraph.trading.day_pnl import DayPnlService

SYMBOL = "BENCH"
GAP_SYMBOL = "GAPPED"  # its history stops 2.5 days before the weekend start
# The windows of the code replaced: each interval's near window, then its wide one.
WINDOWS = (
    (CandleInterval.ONE_MINUTE, (timedelta(minutes=10), timedelta(days=1))),
    (CandleInterval.ONE_HOUR, (timedelta(hours=6), timedelta(days=7))),
    (CandleInterval.ONE_DAY, (timedelta(days=5), timedelta(days=60))),
)
LIVE = timedelta(days=2)  # fed since it was seeded: a day of live bars before 24 h ago
PAUSE = (timedelta(hours=12), timedelta(hours=12, minutes=30))  # ago: no live bar then
Lookup = Callable[[Instrument, datetime], Awaitable[Decimal | None]]
SEARCH_GROWTH = 16  # the replaced search: 16 buckets back, then 16x as far each time
newest_start = candles_module._newest_start  # today's, kept before _growing_window swaps it


async def _growing_newest_start(
    symbol: str, interval: CandleInterval, source: str, first: datetime, to: datetime
) -> datetime | None:
    """markets/candles.py::_newest_start as it was: a growing window, newest first (each
    window one call of today's _newest_start, the same find over a narrower range)."""
    width = timedelta(seconds=interval.seconds * SEARCH_GROWTH)
    while to > first:
        low = max(first, to - width)
        found = await newest_start(symbol, interval, source, low, to)
        if found is not None:
            return found
        to, width = low, width * SEARCH_GROWTH
    return None


@asynccontextmanager
async def _growing_window(walks: bool) -> AsyncIterator[None]:
    """last_bar_before with the replaced search; `walks` False: on range reads, as it ran."""
    current = candles_module._newest_start
    candles_module._newest_start = _growing_newest_start
    emulation_range_walks.ENABLED = walks
    try:
        yield
    finally:
        candles_module._newest_start = current
        emulation_range_walks.ENABLED = True


def _instrument(symbol: str) -> Instrument:
    return Instrument.model_construct(
        id=PydanticObjectId(),
        symbol=symbol,
        name=symbol,
        asset_class=AssetClass.CRYPTO,
        exchange="X",
        currency="USD",
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.001"),
    )


async def _windows(instrument: Instrument, start: datetime, near_first: bool) -> Decimal | None:
    """The previous close as the replaced code read it (near_first) or by wide windows only."""
    for interval, (near, wide) in WINDOWS:
        for back in (near, wide) if near_first else (wide,):
            found = await candles(instrument.symbol, interval, start - back, start)
            if found:
                return found[-1].close
    return None


async def _store(days: int, now: datetime) -> None:
    for symbol, end in ((SYMBOL, now - LIVE), (GAP_SYMBOL, now - timedelta(days=2, hours=12))):
        columns = history_columns(
            _instrument(symbol), Decimal("100"), end, days * 1440, 0.05, 0.5, 1
        )
        await day_bars.store_days(symbol, columns)
    for minute in range(LIVE // timedelta(minutes=1)):  # the feed's bars, paused 12 h ago
        if PAUSE[0] <= timedelta(minutes=minute) < PAUSE[1]:
            continue
        moment = now - timedelta(minutes=minute, seconds=7)
        await bars.record_tick(SYMBOL, moment, Decimal("100") + minute % 7, Decimal("1"))


async def _timed(
    lookup: Lookup, instrument: Instrument, start: datetime, rounds: int
) -> list[float]:
    times = []
    for _ in range(rounds):
        began = time.perf_counter()
        await lookup(instrument, start)
        times.append(1000 * (time.perf_counter() - began))
    return times


async def main(days: int, rounds: int, candles_stored: int) -> None:
    await init_beanie(
        database=emulated_client()[f"lastbar_{uuid.uuid4().hex[:8]}"], document_models=ALL_DOCUMENTS
    )
    now = datetime.now(UTC)
    await _store(days, now)
    service = DayPnlService(Instruments())

    async def current(instrument: Instrument, start: datetime) -> Decimal | None:
        service._closes.clear()  # every call reads, as a new day start does
        return await service.previous_close(instrument, start)

    async def growing(instrument: Instrument, start: datetime) -> Decimal | None:
        async with _growing_window(walks=False):
            return await current(instrument, start)

    async def growing_walked(instrument: Instrument, start: datetime) -> Decimal | None:
        async with _growing_window(walks=True):
            return await current(instrument, start)

    async def replaced(instrument: Instrument, start: datetime) -> Decimal | None:
        return await _windows(instrument, start, near_first=True)

    async def wide(instrument: Instrument, start: datetime) -> Decimal | None:
        return await _windows(instrument, start, near_first=False)

    cases = [
        ("crypto (live bars)", _instrument(SYMBOL), now - timedelta(hours=24)),
        ("after a 30-minute pause", _instrument(SYMBOL), now - timedelta(hours=12)),
        ("seeded days", _instrument(SYMBOL), now - timedelta(days=3)),
        ("weekend (hourly reach)", _instrument(GAP_SYMBOL), now),
    ]
    print(f"{days} seeded days, then 2 days of live bars; {rounds} rounds; ms per close")
    print("| day start | lookup | p50 | p99 | max | p50 vs now |")
    print("|---|---|---:|---:|---:|---:|")
    for label, instrument, start in cases:
        lookups = (current, growing, growing_walked, replaced, wide)
        answers = {await lookup(instrument, start) for lookup in lookups}
        assert len(answers) == 1, (label, answers)  # the same close, however it is read
        baseline = 0.0
        for name, lookup in (
            ("now: last_bar_before", current),
            ("growing window, range reads (before)", growing),
            ("growing window, walked", growing_walked),
            ("near then wide", replaced),
            ("wide windows only", wide),
        ):
            times = sorted(await _timed(lookup, instrument, start, rounds))
            p50 = statistics.median(times)
            baseline = baseline or p50
            p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
            print(
                f"| {label} | {name} | {p50:.2f} | {p99:.2f} | {times[-1]:.2f} "
                f"| {p50 / baseline:.1f}x |"
            )
    if candles_stored:
        sorted_limit.run(candles_stored, rounds)
