"""Candles: read from stored bars (markets/bars.py), imported history, the forming bar."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

from tradegraph import time_buckets
from tradegraph.decimals import ZERO
from tradegraph.documents import CandleBar, CandleInterval
from tradegraph.documents.markets import BUILT, IMPORTED
from tradegraph.errors import InvalidInput
from tradegraph.markets import bars, day_bars
from tradegraph.markets.bar_groups import BarGroup, merge_groups
from tradegraph.markets.day_columns import as_utc, groups
from tradegraph.markets.instruments import Instruments
from tradegraph.time_buckets import EPOCH

MAX_CANDLES = 5000
MAX_IMPORT = 10_000
ONE_MINUTE = CandleInterval.ONE_MINUTE  # the width of built bars


class PriceTick(Protocol):
    """What the forming candle takes from a quote (markets/quotes.py::Quote, which this module
    does not import: quotes -> sessions -> candles, for previous closes)."""

    @property
    def mid(self) -> Decimal: ...

    @property
    def volume(self) -> Decimal | None: ...


@dataclass(frozen=True)
class Candle:
    start: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def with_quote(self, quote: PriceTick) -> Candle:
        mid = quote.mid
        return replace(
            self,
            high=max(self.high, mid),
            low=min(self.low, mid),
            close=mid,
            volume=self.volume + (quote.volume or ZERO),
        )


def bucket_start(moment: datetime, interval: CandleInterval) -> datetime:
    return time_buckets.bucket_start(moment, interval.seconds)


def candle_range(
    from_: datetime | None, to: datetime | None, interval: CandleInterval
) -> tuple[datetime, datetime]:
    """[from, to) with the defaults (the last day) and a bound on how many candles it spans."""
    to = to or datetime.now(UTC)
    from_ = from_ or to - timedelta(days=1)
    if from_ >= to:
        raise InvalidInput("from must be before to", field="from")
    if (to - from_).total_seconds() / interval.seconds > MAX_CANDLES:
        raise InvalidInput(
            f"at most {MAX_CANDLES} {interval.value} candles per request: shorten the range "
            "or use a larger interval",
            field="interval",
        )
    return from_, to


async def candles(
    symbol: str, interval: CandleInterval, from_: datetime, to: datetime
) -> list[Candle]:
    """Candles over [from, to), oldest first, from stored bars (markets/bars.py) and seeded
    days (markets/day_bars.py), combined per bucket; an imported candle replaces them for its
    bucket. A bar is whole: the last one holds every tick of its minute stored so far."""
    first = bucket_start(from_, interval)
    return _combined(
        await day_bars.day_groups(symbol, first, to, interval),
        await bars.built_groups(symbol, first, to, interval),
        await bars.imported_rows(symbol, first, to, interval),
    )


def _combined(
    seeded: dict[datetime, BarGroup],
    built: dict[datetime, BarGroup],
    imported: list[dict[str, Any]],
) -> list[Candle]:
    """Candles by start, oldest first: seeded and built bars combined per bucket (seeded
    wins ties, markets/bar_groups.py), an imported candle replacing them for its bucket."""
    merged = {start: group.row() for start, group in merge_groups(seeded, built).items()}
    for row in imported:
        merged[row["start"]] = row
    return [Candle(**merged[start]) for start in sorted(merged)]


async def last_bar_before(
    symbol: str,
    interval: CandleInterval,
    moment: datetime,
    *,
    not_before: datetime | None = None,
) -> Candle | None:
    """The candle with the greatest start before `moment`, as `candles(symbol, interval,
    not_before, moment)[-1]` is (its bucket holds the bars starting before `moment`);
    not_before None reaches back to the first bar. Reads the latest seeded day before
    `moment`, the newest built bar and imported candle before it, then only that bucket."""
    first = EPOCH if not_before is None else bucket_start(not_before, interval)
    newest: datetime | None = None  # the latest bucket holding a bar found so far
    # A bar older than one already found cannot be the last: each search stops at its bucket.
    seeded = await day_bars.latest_day_bars(symbol, first, moment)
    if seeded is not None:
        newest = bucket_start(seeded.start(len(seeded) - 1), interval)
    built = await _newest_start(symbol, ONE_MINUTE, BUILT, newest or first, moment)
    if built is not None:
        newest = bucket_start(built, interval)
    imported = await _newest_start(symbol, interval, IMPORTED, newest or first, moment)
    if imported is not None:
        newest = bucket_start(imported, interval)
    if newest is None:
        return None
    return _combined(
        {} if seeded is None else groups(seeded.between(newest, moment), interval.seconds // 60),
        {}
        if built is None or built < newest
        else await bars.built_groups(symbol, newest, moment, interval),
        [] if imported is None else await bars.imported_rows(symbol, newest, moment, interval),
    )[-1]


async def _newest_start(
    symbol: str, interval: CandleInterval, source: str, first: datetime, to: datetime
) -> datetime | None:
    """The start of the newest bar of `source` starting in [first, to): MongoDB walks the
    (symbol, interval, start, source) index back from `to` and stops at the first, and so
    does the emulation (store/emulation_range_walks.py)."""
    found = await CandleBar.get_pymongo_collection().find_one(
        {
            "symbol": symbol,
            "interval": interval.value,
            "start": {"$gte": first, "$lt": to},
            "source": source,
        },
        projection={"start": True, "_id": False},
        sort=[("start", -1)],
    )
    return None if found is None else as_utc(found["start"])


def check_candle(candle: Candle, interval: CandleInterval, index: int) -> None:
    field = f"candles[{index}]"
    if candle.start.tzinfo is None:
        raise InvalidInput(f"{field}.start needs a time zone", field=field)
    if bucket_start(candle.start.astimezone(UTC), interval) != candle.start.astimezone(UTC):
        raise InvalidInput(f"{field}.start is not aligned to {interval.value}", field=field)
    if min(candle.open, candle.high, candle.low, candle.close) <= 0 or candle.volume < 0:
        raise InvalidInput(f"{field}: prices must be > 0 and volume >= 0", field=field)
    if (
        not candle.low
        <= min(candle.open, candle.close)
        <= max(candle.open, candle.close)
        <= (candle.high)
    ):
        raise InvalidInput(f"{field}: low <= open, close <= high must hold", field=field)


async def import_candles(symbol: str, interval: CandleInterval, rows: list[Candle]) -> int:
    """Stores candles per (symbol, interval, start), replacing an earlier import of the same
    bucket; returns how many were new or changed, so a repeated import returns 0.
    Every row is checked first: one bad row stores nothing."""
    if len(rows) > MAX_IMPORT:
        raise InvalidInput(f"at most {MAX_IMPORT} candles per import", field="candles")
    seen: set[datetime] = set()
    for index, row in enumerate(rows):
        check_candle(row, interval, index)
        if row.start.astimezone(UTC) in seen:
            raise InvalidInput(
                f"candles[{index}] repeats start {row.start.isoformat()}", field="candles"
            )
        seen.add(row.start.astimezone(UTC))
    if not rows:
        return 0
    writes = [bars.import_write(symbol, interval, _row_of(row)) for row in rows]
    result = await CandleBar.get_pymongo_collection().bulk_write(writes, ordered=False)
    return result.upserted_count


def _row_of(candle: Candle) -> dict[str, Any]:
    return {
        "start": candle.start,
        "open": candle.open,
        "high": candle.high,
        "low": candle.low,
        "close": candle.close,
        "volume": candle.volume,
    }


class Candles:
    """Candle reads and imports as the API offers them: a known symbol, a bounded range."""

    def __init__(self, instruments: Instruments) -> None:
        self.instruments = instruments

    async def history(
        self,
        symbol: str,
        interval: CandleInterval,
        from_: datetime | None,
        to: datetime | None,
    ) -> list[Candle]:
        """Candles over [from, to) (default: the last day); NOT_FOUND for an unknown symbol."""
        found = await self.instruments.require(symbol)
        start, end = candle_range(from_, to, interval)
        return await candles(found.symbol, interval, start, end)

    async def import_history(
        self, symbol: str, interval: CandleInterval, rows: list[Candle]
    ) -> int:
        found = await self.instruments.require(symbol)
        return await import_candles(found.symbol, interval, rows)
