"""Technical indicators on candle closes, vectorised.

Every function returns arrays aligned with `closes`, NaN where the indicator is not yet
defined. EMA-style recursions run in pandas' compiled `ewm(adjust=False)`, seeded with the
simple mean of the first n values by replacing the head of the series with that mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from tradegraph.errors import InvalidInput

FloatArray = np.ndarray


class IndicatorKind(StrEnum):
    SMA = "SMA"
    EMA = "EMA"
    RSI = "RSI"
    MACD = "MACD"
    BOLLINGER = "BOLLINGER"


@dataclass(frozen=True)
class IndicatorSpec:
    kind: IndicatorKind
    period: int | None = None
    fast: int | None = None
    slow: int | None = None
    signal: int | None = None
    stddev: float | None = None

    def checked(self) -> IndicatorSpec:
        """The spec with defaults filled in; InvalidInput when a parameter is impossible."""
        defaults = {IndicatorKind.RSI: 14, IndicatorKind.BOLLINGER: 20}
        period = self.period if self.period is not None else defaults.get(self.kind)
        if self.kind is IndicatorKind.MACD:
            fast, slow, signal = self.fast or 12, self.slow or 26, self.signal or 9
            for name, value in (("fast", self.fast), ("slow", self.slow), ("signal", self.signal)):
                if value is not None and value <= 0:
                    raise InvalidInput(f"MACD {name} must be greater than 0", field=name)
            if fast >= slow:
                raise InvalidInput(
                    f"MACD fast ({fast}) must be less than slow ({slow})", field="fast"
                )
            return IndicatorSpec(self.kind, fast=fast, slow=slow, signal=signal)
        if period is None:
            raise InvalidInput(f"{self.kind.value} needs a period", field="period")
        if period <= 0:
            raise InvalidInput(f"{self.kind.value} period must be greater than 0", field="period")
        if self.kind is IndicatorKind.BOLLINGER:
            stddev = self.stddev if self.stddev is not None else 2.0
            if stddev <= 0:
                raise InvalidInput("BOLLINGER stddev must be greater than 0", field="stddev")
            return IndicatorSpec(self.kind, period=period, stddev=stddev)
        return IndicatorSpec(self.kind, period=period)

    @property
    def name(self) -> str:
        if self.kind is IndicatorKind.MACD:
            return f"MACD({self.fast},{self.slow},{self.signal})"
        if self.kind is IndicatorKind.BOLLINGER:
            return f"BOLLINGER({self.period},{self.stddev:g})"
        return f"{self.kind.value}({self.period})"


def sma(closes: FloatArray, n: int) -> FloatArray:
    out = np.full(len(closes), np.nan)
    if len(closes) >= n:
        sums = np.cumsum(np.concatenate(([0.0], closes)))
        out[n - 1 :] = (sums[n:] - sums[:-n]) / n
    return out


def seeded_ema(values: FloatArray, n: int, alpha: float) -> FloatArray:
    """EMA with smoothing `alpha`, seeded with the mean of the first n non-NaN values; NaN
    before the n-th value. `values` may start with NaNs (another indicator's warm-up)."""
    out = np.full(len(values), np.nan)
    start = int(np.argmax(~np.isnan(values))) if (~np.isnan(values)).any() else len(values)
    if len(values) - start < n:
        return out
    seed_at = start + n - 1
    series = values[seed_at:].copy()
    series[0] = values[start : seed_at + 1].mean()
    out[seed_at:] = pd.Series(series).ewm(alpha=alpha, adjust=False).mean().to_numpy()
    return out


def ema(closes: FloatArray, n: int) -> FloatArray:
    return seeded_ema(closes, n, 2 / (n + 1))


def rsi(closes: FloatArray, n: int) -> FloatArray:
    """Wilder's RSI: first averages are simple means of n gains/losses, then (prev*(n-1)+x)/n."""
    out = np.full(len(closes), np.nan)
    if len(closes) <= n:
        return out
    change = np.diff(closes)
    gains = seeded_ema(np.clip(change, 0, None), n, 1 / n)
    losses = seeded_ema(np.clip(-change, 0, None), n, 1 / n)
    with np.errstate(divide="ignore", invalid="ignore"):
        values = np.where(losses == 0, 100.0, 100 - 100 / (1 + gains / losses))
    out[1:] = np.where(np.isnan(gains), np.nan, values)
    return out


def macd(
    closes: FloatArray, fast: int, slow: int, signal: int
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(line, signal, histogram); the line is NaN until EMA(slow) exists."""
    line = ema(closes, fast) - ema(closes, slow)
    signal_line = seeded_ema(line, signal, 2 / (signal + 1))
    return line, signal_line, line - signal_line


def bollinger(closes: FloatArray, n: int, k: float) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(upper, middle, lower) with the population standard deviation of the last n closes."""
    middle = sma(closes, n)
    deviation = pd.Series(closes).rolling(n).std(ddof=0).to_numpy()
    return middle + k * deviation, middle, middle - k * deviation


@dataclass(frozen=True)
class Columns:
    """An indicator's columns aligned with the closes; absent ones are None."""

    value: FloatArray | None = None
    upper: FloatArray | None = None
    middle: FloatArray | None = None
    lower: FloatArray | None = None
    signal: FloatArray | None = None
    histogram: FloatArray | None = None

    def defined(self) -> FloatArray:
        """Where every present column is defined (points start at the first such candle)."""
        present = [c for c in vars(self).values() if c is not None]
        defined: FloatArray = np.logical_and.reduce([~np.isnan(c) for c in present])
        return defined


def compute(spec: IndicatorSpec, closes: FloatArray) -> Columns:
    spec = spec.checked()
    if spec.kind is IndicatorKind.SMA:
        return Columns(value=sma(closes, spec.period or 0))
    if spec.kind is IndicatorKind.EMA:
        return Columns(value=ema(closes, spec.period or 0))
    if spec.kind is IndicatorKind.RSI:
        return Columns(value=rsi(closes, spec.period or 0))
    if spec.kind is IndicatorKind.MACD:
        line, signal, histogram = macd(closes, spec.fast or 0, spec.slow or 0, spec.signal or 0)
        return Columns(value=line, signal=signal, histogram=histogram)
    upper, middle, lower = bollinger(closes, spec.period or 0, spec.stddev or 0.0)
    return Columns(upper=upper, middle=middle, lower=lower)
