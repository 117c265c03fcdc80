"""A position's previous close on the embedded store: the last bar before a moment
(markets/candles.py::last_bar_before) against the candle windows it replaced, in one run.

python -m bench lastbar [--days 30] [--rounds 100]   (times in ms per previous close)

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
Compared, on the same data: `previous_close` now (DayPnlService, cache cleared), the code it
replaced (each interval's near window, then its wide one, through `candles`), and the wide
windows alone (what the near windows were added to avoid).
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from beanie import PydanticObjectId, init_beanie

from tradegraph.documents import ALL_DOCUMENTS, AssetClass, CandleInterval, Instrument
from tradegraph.markets import bars, day_bars
from tradegraph.markets.candles import candles
from tradegraph.markets.history import history_columns
from tradegraph.markets.instruments import Instruments
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


async def main(days: int, rounds: int) -> None:
    await init_beanie(
        database=emulated_client()[f"lastbar_{uuid.uuid4().hex[:8]}"], document_models=ALL_DOCUMENTS
    )
    now = datetime.now(UTC)
    await _store(days, now)
    service = DayPnlService(Instruments())

    async def current(instrument: Instrument, start: datetime) -> Decimal | None:
        service._closes.clear()  # every call reads, as a new day start does
        return await service.previous_close(instrument, start)

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
        answers = {await lookup(instrument, start) for lookup in (current, replaced, wide)}
        assert len(answers) == 1, (label, answers)  # the same close, however it is read
        baseline = 0.0
        for name, lookup in (
            ("now: last_bar_before", current),
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
