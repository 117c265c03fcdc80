"""GraphQL types for indicators: what to compute and the series it gives."""

from __future__ import annotations

from datetime import datetime

import strawberry

from tradegraph.analytics import indicator_series, indicators

strawberry.enum(indicators.IndicatorKind, name="IndicatorKind")
IndicatorKind = indicators.IndicatorKind


@strawberry.input(description="One indicator to compute; unused parameters are ignored.")
class IndicatorSpec:
    kind: IndicatorKind
    period: int | None = strawberry.field(
        default=None, description="SMA/EMA: required; RSI default 14; BOLLINGER default 20."
    )
    fast: int | None = strawberry.field(default=None, description="MACD, default 12.")
    slow: int | None = strawberry.field(default=None, description="MACD, default 26.")
    signal: int | None = strawberry.field(default=None, description="MACD, default 9.")
    stddev: float | None = strawberry.field(default=None, description="BOLLINGER, default 2.")

    def to_value(self) -> indicators.IndicatorSpec:
        return indicators.IndicatorSpec(
            self.kind, self.period, self.fast, self.slow, self.signal, self.stddev
        )


@strawberry.type(description="An indicator at one candle; fields its kind does not use are null.")
class IndicatorPoint:
    time: datetime = strawberry.field(description="The candle's start.")
    value: float | None = strawberry.field(description="SMA, EMA, RSI; MACD: the MACD line.")
    upper: float | None = strawberry.field(description="BOLLINGER: middle + k*stddev.")
    middle: float | None = strawberry.field(description="BOLLINGER: SMA(n).")
    lower: float | None = strawberry.field(description="BOLLINGER: middle - k*stddev.")
    signal: float | None = strawberry.field(description="MACD: EMA(signal) of the line.")
    histogram: float | None = strawberry.field(description="MACD: line - signal.")


@strawberry.type
class IndicatorSeries:
    name: str = strawberry.field(description='e.g. "SMA(20)", "MACD(12,26,9)".')
    points: list[IndicatorPoint] = strawberry.field(
        description="From the first candle where the indicator is defined (no warm-up nulls)."
    )

    @classmethod
    def from_value(cls, series: indicator_series.IndicatorSeries) -> IndicatorSeries:
        points = [IndicatorPoint(**vars(point)) for point in series.points]
        return cls(name=series.name, points=points)
