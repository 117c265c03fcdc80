"""One-minute bars as integer columns, and their day documents (no store access here).

A day of a symbol's bars is one document (`candle_days`, documents/markets.py::CandleDay):
each column a BSON binary of little-endian integers, prices in units of `price_unit` (10^-d,
d the decimals of the tick size) and volumes in units of `volume_unit` (the lot size). BSON
binary is stored by MongoDB as it is given, so a day costs 1440 x 42 bytes however it is
kept, and a price comes back as exactly the Decimal it was: integer x unit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
from bson import Binary, Decimal128

from tradegraph.decimals import to_decimal
from tradegraph.documents import CandleInterval
from tradegraph.markets.bar_groups import BarGroup
from tradegraph.time_buckets import EPOCH

MINUTES_PER_DAY = 24 * 60
PRICES = ("open", "high", "low", "close")
COLUMNS = (*PRICES, "volume")
PRICE_TYPE = np.dtype("<i8")
MINUTE_TYPE = np.dtype("<i2")


@dataclass(frozen=True)
class BarColumns:
    """One symbol's one-minute bars, oldest first: `minutes` (int64) since the Unix epoch are
    their starts, unique; the other columns are int64 in units of `price_unit` (open, high,
    low, close) and `volume_unit` (volume)."""

    minutes: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    price_unit: Decimal
    volume_unit: Decimal

    def __len__(self) -> int:
        return len(self.minutes)

    def where(self, keep: np.ndarray) -> BarColumns:
        """The bars where `keep` (a boolean or index array) selects."""
        picked: dict[str, Any] = {name: getattr(self, name)[keep] for name in ("minutes", *COLUMNS)}
        return replace(self, **picked)

    def between(self, first: datetime, to: datetime | None) -> BarColumns:
        """The bars starting in [first, to) (to: no end)."""
        starts_ms = self.minutes * 60_000
        keep = starts_ms >= _epoch_ms(first)
        return self.where(keep if to is None else keep & (starts_ms < _epoch_ms(to)))

    def price(self, name: str, index: int) -> Decimal:
        return Decimal(int(getattr(self, name)[index])) * self.price_unit

    def start(self, index: int) -> datetime:
        return EPOCH + timedelta(minutes=int(self.minutes[index]))


def _epoch_ms(moment: datetime) -> int:
    return int((as_utc(moment) - EPOCH) / timedelta(milliseconds=1))


def as_utc(moment: datetime) -> datetime:
    """A stored datetime as aware UTC (the emulation and PyMongo may hand back naive UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def day_start(moment: datetime) -> datetime:
    """UTC midnight at or before `moment`: the day document holding its bar."""
    return as_utc(moment).replace(hour=0, minute=0, second=0, microsecond=0)


def day_documents(symbol: str, bars: BarColumns) -> list[dict[str, Any]]:
    """The `candle_days` documents of `bars`, one per UTC day they touch."""
    days = bars.minutes // MINUTES_PER_DAY
    edges = np.flatnonzero(np.diff(days)) + 1
    documents = []
    for piece in np.split(np.arange(len(bars)), edges):
        if not len(piece):
            continue
        part = bars.where(piece)
        day = int(days[piece[0]])
        minute = (part.minutes - day * MINUTES_PER_DAY).astype(MINUTE_TYPE)
        documents.append(
            {
                "symbol": symbol,
                "interval": CandleInterval.ONE_MINUTE.value,
                "day": EPOCH + timedelta(days=day),
                "bars": len(part),
                "price_unit": Decimal128(part.price_unit),
                "volume_unit": Decimal128(part.volume_unit),
                "minute": Binary(minute.tobytes()),
                **{name: _packed(getattr(part, name)) for name in COLUMNS},
            }
        )
    return documents


def _packed(column: np.ndarray) -> Binary:
    return Binary(column.astype(PRICE_TYPE).tobytes())


def day_columns(document: dict[str, Any]) -> BarColumns:
    """The bars of one `candle_days` document."""
    first = (day_start(document["day"]) - EPOCH) // timedelta(minutes=1)
    minutes = np.frombuffer(document["minute"], MINUTE_TYPE).astype(np.int64) + first
    columns = {name: np.frombuffer(document[name], PRICE_TYPE) for name in COLUMNS}
    return BarColumns(
        minutes=minutes,
        **columns,
        price_unit=to_decimal(document["price_unit"]),
        volume_unit=to_decimal(document["volume_unit"]),
    )


def joined(kept: BarColumns, added: BarColumns) -> BarColumns | None:
    """Both sets of bars in one (a bar of `kept` wins over one of `added` in the same minute);
    None when their units differ and no common form holds both exactly."""
    if (kept.price_unit, kept.volume_unit) != (added.price_unit, added.volume_unit):
        return None
    fresh = ~np.isin(added.minutes, kept.minutes)
    both: dict[str, Any] = {
        name: np.concatenate((getattr(kept, name), getattr(added, name)[fresh]))
        for name in ("minutes", *COLUMNS)
    }
    return replace(kept, **both).where(np.argsort(both["minutes"], kind="stable"))


def groups(bars: BarColumns, width_minutes: int) -> dict[datetime, BarGroup]:
    """The bars grouped into buckets `width_minutes` wide (aligned to the epoch), by start."""
    if not len(bars):
        return {}
    buckets = bars.minutes // width_minutes
    heads = np.concatenate(([0], np.flatnonzero(np.diff(buckets)) + 1))
    tails = np.concatenate((heads[1:] - 1, [len(bars) - 1]))
    highs = np.maximum.reduceat(bars.high, heads).tolist()
    lows = np.minimum.reduceat(bars.low, heads).tolist()
    volumes = np.add.reduceat(bars.volume, heads).tolist()
    unit, lot = bars.price_unit, bars.volume_unit
    found = {}
    for i, (head, tail) in enumerate(zip(heads.tolist(), tails.tolist(), strict=True)):
        start = EPOCH + timedelta(minutes=int(buckets[head]) * width_minutes)
        found[start] = BarGroup(
            start=start,
            first=bars.start(head),
            last=bars.start(tail),
            open=Decimal(int(bars.open[head])) * unit,
            high=Decimal(highs[i]) * unit,
            low=Decimal(lows[i]) * unit,
            close=Decimal(int(bars.close[tail])) * unit,
            volume=Decimal(volumes[i]) * lot,
        )
    return found


def whole(bars: BarColumns) -> BarGroup:
    """All of `bars` (at least one) as one group, starting at the first bar."""
    last = len(bars) - 1
    return BarGroup(
        start=bars.start(0),
        first=bars.start(0),
        last=bars.start(last),
        open=bars.price("open", 0),
        high=Decimal(int(bars.high.max())) * bars.price_unit,
        low=Decimal(int(bars.low.min())) * bars.price_unit,
        close=bars.price("close", last),
        volume=Decimal(int(bars.volume.sum())) * bars.volume_unit,
    )
