"""Entry and exit signals of a strategy on closes, from indicators computed once per distinct
window: SMA(50) serves every pair of a grid that uses it, and every SMA comes from one running
sum of the closes. The engine and the grid both read their signals here."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tradegraph.analytics import indicators
from tradegraph.analytics.strategy import Strategy, StrategyKind

BOLLINGER_WIDTH = 2.0


@dataclass
class IndicatorCache:
    """Indicator arrays of one set of closes, by (indicator, parameters)."""

    closes: np.ndarray
    arrays: dict[tuple[object, ...], tuple[np.ndarray, ...]] = field(default_factory=dict)

    def get(self, key: tuple[object, ...]) -> tuple[np.ndarray, ...]:
        if key not in self.arrays:
            self.arrays[key] = self._compute(key)
        return self.arrays[key]

    def sma(self, n: int) -> np.ndarray:
        return self.get(("sma", n))[0]

    def _compute(self, key: tuple[object, ...]) -> tuple[np.ndarray, ...]:
        name, *args = key
        c = self.closes
        window = int(args[0]) if args else 0  # type: ignore[call-overload]
        if name == "sums":
            return (np.cumsum(np.concatenate(([0.0], c))),)
        if name == "sma":  # indicators.sma, sharing the running sums between windows
            out = np.empty(len(c))
            out[: window - 1] = np.nan
            if len(c) >= window:
                (sums,) = self.get(("sums",))
                np.subtract(sums[window:], sums[:-window], out=out[window - 1 :])
                out[window - 1 :] /= window
            return (out,)
        if name == "rsi":
            return (indicators.rsi(c, window),)
        if name == "macd":
            line, signal, _ = indicators.macd(c, *(int(a) for a in args))  # type: ignore[call-overload]
            return line, signal
        _, middle, lower = indicators.bollinger(c, window, BOLLINGER_WIDTH)
        return middle, lower


def crossings(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(up, down) bar indexes, ascending: a crosses above b (previous <=, now >), and below
    (previous >=, now <). Bars where either is NaN never cross."""
    with np.errstate(invalid="ignore"):
        above = a > b
        below = a < b
    up = np.flatnonzero(above[1:] > above[:-1]) + 1  # now above, before not
    down = np.flatnonzero(below[1:] > below[:-1]) + 1
    # "not above" is "<=" only where both are defined: drop crossings out of a NaN bar
    up = up[~(np.isnan(a[up - 1]) | np.isnan(b[up - 1]))]
    down = down[~(np.isnan(a[down - 1]) | np.isnan(b[down - 1]))]
    return up, down


def signals(strategy: Strategy, cache: IndicatorCache) -> tuple[np.ndarray, np.ndarray]:
    """(entry, exit) bar indexes, ascending, evaluated on closes (NaN comparisons are False)."""
    s = strategy
    if s.kind is StrategyKind.SMA_CROSSOVER:
        return crossings(cache.sma(s.fast or 0), cache.sma(s.slow or 0))
    if s.kind is StrategyKind.MACD_SIGNAL:
        line, signal_line = cache.get(("macd", s.fast, s.slow, s.period))
        return crossings(line, signal_line)
    with np.errstate(invalid="ignore"):
        if s.kind is StrategyKind.RSI_REVERSION:
            (values,) = cache.get(("rsi", s.period))
            return np.flatnonzero(values < (s.lower or 0)), np.flatnonzero(values > (s.upper or 0))
        middle, lower = cache.get(("bollinger", s.period))
        closes = cache.closes
        return np.flatnonzero(closes < lower), np.flatnonzero(closes >= middle)
