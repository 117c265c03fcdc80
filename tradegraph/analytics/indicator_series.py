"""The indicators query: candles in, one series of defined points per indicator spec out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tradegraph.analytics.indicators import Columns, FloatArray, IndicatorSpec, compute
from tradegraph.documents import CandleInterval
from tradegraph.errors import InvalidInput
from tradegraph.markets.candles import Candles

MAX_SPECS = 10


@dataclass(frozen=True)
class IndicatorPoint:
    """One candle's values; a column the indicator does not have is None."""

    time: datetime
    value: float | None
    upper: float | None
    middle: float | None
    lower: float | None
    signal: float | None
    histogram: float | None


@dataclass(frozen=True)
class IndicatorSeries:
    name: str
    points: list[IndicatorPoint]


def series_of(spec: IndicatorSpec, times: list[datetime], closes: FloatArray) -> IndicatorSeries:
    """Points from the first candle where every column of the indicator is defined."""
    checked = spec.checked()
    columns: Columns = compute(checked, closes)

    def at(column: FloatArray | None, i: int) -> float | None:
        return None if column is None else float(column[i])

    points = [
        IndicatorPoint(
            time=times[i],
            value=at(columns.value, i),
            upper=at(columns.upper, i),
            middle=at(columns.middle, i),
            lower=at(columns.lower, i),
            signal=at(columns.signal, i),
            histogram=at(columns.histogram, i),
        )
        for i in map(int, np.flatnonzero(columns.defined()))
    ]
    return IndicatorSeries(name=checked.name, points=points)


class IndicatorSeriesService:
    def __init__(self, candles: Candles) -> None:
        self.candles = candles

    async def compute(
        self,
        symbol: str,
        interval: CandleInterval,
        specs: list[IndicatorSpec],
        from_: datetime | None,
        to: datetime | None,
    ) -> list[IndicatorSeries]:
        """One series per spec, in order, on the closes of candles(symbol, interval, from, to).
        Every spec is checked before any candle is read."""
        if not 0 < len(specs) <= MAX_SPECS:
            raise InvalidInput(f"give 1 to {MAX_SPECS} specs", field="specs")
        for spec in specs:
            spec.checked()
        rows = await self.candles.history(symbol, interval, from_, to)
        times = [row.start for row in rows]
        closes = np.array([float(row.close) for row in rows])
        return [series_of(spec, times, closes) for spec in specs]
