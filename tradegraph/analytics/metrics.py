"""The one place a backtest's performance is computed, for a single backtest and for every
combination of a grid alike: from the bars and the bars its trades start and end on.

The equity is never built bar by bar. It is the initial cash until the first entry, quantity *
close while a position is held, and the sale's cash from a sale's bar to the next entry. So a
per-bar return inside a held stretch is the close's own return (prefix sums over the bars give
their sums), flat bars return 0, and only the bars around an entry or a sale need their own
term. The drawdown needs, per held stretch, its highest and lowest close and its own largest
fall, which close_ranges.py answers for long stretches without reading their bars.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from tradegraph.analytics.close_ranges import BLOCK, CloseRanges
from tradegraph.analytics.statistics import calmar, sqn
from tradegraph.analytics.trade_finder import TradeBars

SECONDS_PER_YEAR = 365 * 86400


@dataclass(frozen=True)
class Bars:
    times: np.ndarray  # int64 epoch seconds of each bar's start
    opens: np.ndarray
    closes: np.ndarray

    @cached_property
    def return_sums(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prefix sums (length n, starting at 0) of each close-to-close return, of its square,
        and of its negative part squared."""
        returns = self.closes[1:] / self.closes[:-1] - 1
        downside = np.minimum(returns, 0)
        return tuple(  # type: ignore[return-value]
            np.concatenate(([0.0], np.cumsum(values)))
            for values in (returns, returns * returns, downside * downside)
        )

    @cached_property
    def close_ranges(self) -> CloseRanges:
        """Highest, lowest close and largest fall of any range of these bars."""
        return CloseRanges(self.closes)


@dataclass
class Metrics:
    """What an optimisation ranks by and reports per combination (the one list of them)."""

    total_return: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    sqn: float | None
    profit_factor: float | None
    max_drawdown: float
    win_rate: float | None
    trade_count: int


METRIC_NAMES = tuple(field.name for field in fields(Metrics))


@dataclass(frozen=True)
class Performance:
    metrics: Metrics
    final_equity: float
    cagr: float | None
    quantities: np.ndarray  # per trade
    exit_prices: np.ndarray
    pnls: np.ndarray
    cash: np.ndarray  # after each trade's sale


def performance(
    bars: Bars, trades: TradeBars, initial_cash: float, fee: float, bar_seconds: int
) -> Performance:
    """Every statistic of the run `trades` describes on `bars` (at least 2)."""
    starts, sales = trades.starts, trades.sales
    entry_prices = bars.opens[starts]
    exit_prices = bars.opens[sales]
    if trades.at_end and len(sales):
        exit_prices[-1] = bars.closes[-1]
    growth = exit_prices * (1 - fee) / (entry_prices * (1 + fee))
    cash = initial_cash * np.cumprod(growth)
    before = np.concatenate(([initial_cash], cash[:-1]))
    quantities = before / (entry_prices * (1 + fee))
    pnls = cash - before
    final = float(cash[-1]) if len(cash) else initial_cash
    sharpe, sortino = _ratios(bars, trades, entry_prices, exit_prices, growth, fee, bar_seconds)
    drawdown = _max_drawdown(bars, trades, quantities, cash, initial_cash)
    years = (int(bars.times[-1]) - int(bars.times[0]) + bar_seconds) / SECONDS_PER_YEAR
    cagr = None
    if years > 0 and final > 0:
        with contextlib.suppress(OverflowError):  # minutes compounded to a year can overflow
            cagr = (final / initial_cash) ** (1 / years) - 1
    wins, losses = pnls[pnls > 0], pnls[pnls < 0]
    metrics = Metrics(
        total_return=final / initial_cash - 1,
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar(cagr, drawdown),
        sqn=sqn(pnls),
        profit_factor=float(wins.sum() / -losses.sum()) if len(losses) else None,
        max_drawdown=drawdown,
        win_rate=len(wins) / len(pnls) if len(pnls) else None,
        trade_count=len(pnls),
    )
    return Performance(metrics, final, cagr, quantities, exit_prices, pnls, cash)


def _ratios(
    bars: Bars,
    trades: TradeBars,
    entry_prices: np.ndarray,
    exit_prices: np.ndarray,
    growth: np.ndarray,
    fee: float,
    bar_seconds: int,
) -> tuple[float | None, float | None]:
    """(Sharpe, Sortino) of the per-bar equity returns, annualised, zero risk-free rate."""
    closes, starts, sales = bars.closes, trades.starts, trades.sales
    held = sales > starts
    s, t = starts[held], sales[held]
    # the returns around each held stretch: into the position, and out of it at the sale
    entering = closes[s] / (entry_prices[held] * (1 + fee)) - 1
    leaving = exit_prices[held] * (1 - fee) / closes[t - 1] - 1
    edges = np.concatenate((entering, leaving, growth[~held] - 1))  # bought and sold at once
    sums = [float((prefix[t - 1] - prefix[s]).sum()) for prefix in bars.return_sums]
    total = sums[0] + float(edges.sum())
    squares = sums[1] + float((edges * edges).sum())
    downside = np.minimum(edges, 0)
    negative_squares = sums[2] + float((downside * downside).sum())
    count = len(closes) - 1
    mean = total / count
    per_year = SECONDS_PER_YEAR / bar_seconds
    sharpe = sortino = None
    if count >= 2:
        spread = math.sqrt(max(squares - count * mean * mean, 0.0) / (count - 1))
        if spread > 0:
            sharpe = mean / spread * math.sqrt(per_year)
    deviation = math.sqrt(negative_squares / count)
    if deviation > 0:
        sortino = mean / deviation * math.sqrt(per_year)
    return sharpe, sortino


def _max_drawdown(
    bars: Bars, trades: TradeBars, quantities: np.ndarray, cash: np.ndarray, initial: float
) -> float:
    """Largest fall of the equity from its running peak, a fraction. In a held stretch the
    fall at a close is the larger of the fall from the peak before the stretch and the
    closes' own fall within the stretch (equity there is quantity * close)."""
    if not len(cash):
        return 0.0
    held = trades.sales > trades.starts
    highest = np.full(len(cash), -np.inf)
    lowest = np.zeros(len(cash))
    within = np.zeros(len(cash))
    if held.any():
        high, low, fall = _held_stretches(bars, trades.starts[held], trades.sales[held])
        highest[held] = quantities[held] * high
        lowest[held] = quantities[held] * low
        within[held] = fall
    # peaks: before each stretch, and at its sale (the stretch's high may be a new one)
    steps = np.empty(2 * len(cash) + 1)
    steps[0], steps[1::2], steps[2::2] = initial, highest, cash
    peaks = np.maximum.accumulate(steps)
    before, at_sale = peaks[0:-1:2], peaks[1::2]
    falls = np.concatenate((within, 1 - lowest[held] / before[held], 1 - cash / at_sale, [0.0]))
    return float(falls.max())


def _held_stretches(
    bars: Bars, s: np.ndarray, t: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per stretch [s, t): its highest and lowest close, and the closes' largest fall from
    their running high inside it. Stretches over several blocks of bars read precomputed
    figures (close_ranges.py); the others read their few bars, in rows of equal width."""
    high, low, fall = np.empty(len(s)), np.empty(len(s)), np.empty(len(s))
    spans = s // BLOCK < (t - 1) // BLOCK
    if spans.any():
        found = bars.close_ranges.of(s[spans], t[spans])
        high[spans], low[spans], fall[spans] = found.high, found.low, found.fall
    lengths = t - s
    width = 1
    while width < BLOCK:  # rows of width 2, 4 … BLOCK: never more than twice the bars read
        width *= 2
        short = ~spans & (lengths <= width) & (lengths > width // 2 if width > 2 else True)
        if short.any():
            high[short], low[short], fall[short] = _in_rows(bars.closes, s[short], t[short], width)
    return high, low, fall


def _in_rows(
    closes: np.ndarray, s: np.ndarray, t: np.ndarray, width: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The figures of ranges at most `width` long, each read as one row (its last close
    repeated to the width: repeats change none of the figures)."""
    rows = closes[np.minimum(s[:, None] + np.arange(width), (t - 1)[:, None])]
    running = np.maximum.accumulate(rows, axis=1)
    fall = (1 - rows / running).max(axis=1)
    return running[:, -1], rows.min(axis=1), fall
