"""Session statistics of each symbol (open, high, low, previous close, volume), kept in memory.

The session of an exchange-traded instrument starts at its previous session close in its own
time zone (the moment day P&L starts from); for crypto it is the last 24 hours. Statistics are
read once from the stored one-minute bars (one aggregation), then updated in memory as each
tick arrives, so a quote costs no query; they are read again when a new session starts, and
for the sliding 24-hour window of crypto at most once a minute.
"""

from __future__ import annotations

import time as clock
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from tradegraph.decimals import ZERO, to_decimal
from tradegraph.documents import AssetClass, CandleBar, CandleInterval, Instrument
from tradegraph.documents.markets import BUILT
from tradegraph.markets import bars, day_bars
from tradegraph.markets.bar_groups import BarGroup
from tradegraph.markets.candles import last_bar_before
from tradegraph.markets.day_columns import as_utc

ROLLING_REFRESH_SECONDS = 60.0  # a 24-hour window drops its oldest minute this often
PREVIOUS_CLOSE_LOOKBACK = timedelta(days=60)  # reaches past long weekends and holidays
ONE_MINUTE = CandleInterval.ONE_MINUTE.value


def session_start(instrument: Instrument, now: datetime) -> datetime:
    """The previous session close at or before `now` in the instrument's time zone; for
    crypto, 24 hours ago."""
    if instrument.asset_class is AssetClass.CRYPTO:
        return now - timedelta(hours=24)
    zone = ZoneInfo(instrument.timezone)
    local = now.astimezone(zone)
    close = datetime.combine(local.date(), instrument.close_time, tzinfo=zone)
    if close > local:
        close = datetime.combine(local.date() - timedelta(days=1), instrument.close_time, zone)
    return close.astimezone(UTC)


@dataclass(frozen=True)
class SessionStats:
    """One symbol's session so far, from mid prices (and trade prices when reported)."""

    start: datetime
    open: Decimal | None
    high: Decimal | None
    low: Decimal | None
    previous_close: Decimal | None
    volume: Decimal

    def with_price(self, price: Decimal, volume: Decimal | None) -> SessionStats:
        return replace(
            self,
            open=self.open if self.open is not None else price,
            high=price if self.high is None else max(self.high, price),
            low=price if self.low is None else min(self.low, price),
            volume=self.volume + (volume or ZERO),
        )


async def _built_part(symbol: str, start: datetime) -> BarGroup | None:
    """Bars stored one per document since `start`, as one group (None: no bar since)."""
    match = {"symbol": symbol, "interval": ONE_MINUTE, "source": BUILT, "start": {"$gte": start}}
    cursor = await CandleBar.get_pymongo_collection().aggregate(
        [
            {"$match": match},
            {"$sort": {"start": 1}},
            {
                "$group": {
                    "_id": None,
                    "open": {"$first": bars.OPEN},
                    "high": {"$max": "$high"},
                    "low": {"$min": "$low"},
                    "close": {"$last": bars.CLOSE},
                    "volume": {"$sum": "$volume"},
                    "first": {"$min": "$start"},
                    "last": {"$max": "$start"},
                }
            },
        ]
    )
    rows: list[dict[str, Any]] = await cursor.to_list()
    if not rows or rows[0]["open"] is None:
        return None
    row = rows[0]
    return BarGroup(
        start=start,
        first=as_utc(row["first"]),
        last=as_utc(row["last"]),
        **{key: to_decimal(row[key]) for key in ("open", "high", "low", "close")},
        volume=to_decimal(row["volume"] or 0),
    )


async def read_stats(symbol: str, start: datetime) -> SessionStats:
    """The session since `start` from stored bars (one per document, and seeded days); its
    previous close is the close of the last one-minute candle before `start`."""
    built = await _built_part(symbol, start)
    seeded = await day_bars.session_part(symbol, start)
    last = await last_bar_before(
        symbol, CandleInterval.ONE_MINUTE, start, not_before=start - PREVIOUS_CLOSE_LOOKBACK
    )
    previous = None if last is None else last.close
    parts = [part for part in (seeded, built) if part is not None]
    if not parts:
        return SessionStats(start, None, None, None, previous, ZERO)
    session = parts[0] if len(parts) == 1 else parts[0].merged(parts[1])
    return SessionStats(start, session.open, session.high, session.low, previous, session.volume)


class SessionBook:
    """The statistics of every symbol quoted in this process, one entry per symbol."""

    def __init__(self) -> None:
        self._stats: dict[str, tuple[float, SessionStats]] = {}

    def forget(self) -> None:
        """Drops every entry (tests that reset the store)."""
        self._stats.clear()

    def _current(self, instrument: Instrument, now: datetime) -> SessionStats | None:
        hit = self._stats.get(instrument.symbol)
        if hit is None:
            return None
        read_at, stats = hit
        if instrument.asset_class is AssetClass.CRYPTO:
            fresh = clock.monotonic() - read_at < ROLLING_REFRESH_SECONDS
            return stats if fresh else None
        return stats if stats.start == session_start(instrument, now) else None

    async def stats(self, instrument: Instrument, now: datetime) -> SessionStats:
        """The symbol's session: from memory, or read from the stored bars."""
        found = self._current(instrument, now)
        if found is None:
            found = await read_stats(instrument.symbol, session_start(instrument, now))
            self._stats[instrument.symbol] = (clock.monotonic(), found)
        return found

    async def on_tick(
        self,
        instrument: Instrument,
        now: datetime,
        moment: datetime,
        price: Decimal,
        volume: Decimal | None,
    ) -> SessionStats:
        """The session after a tick at `moment` whose bar is already stored: a read includes
        it, an entry in memory gains it (unless the tick is older than the session)."""
        found = self._current(instrument, now)
        if found is None:
            return await self.stats(instrument, now)
        if moment < found.start:
            return found
        updated = found.with_price(price, volume)
        self._stats[instrument.symbol] = (self._stats[instrument.symbol][0], updated)
        return updated
