"""The one place a backtest's performance is computed, for a single backtest and for every
combination of a grid alike: from the bars and the bars its trades start and end on.

The equity is never built bar by bar. It is the initial cash until the first entry, quantity *
close while a position is held, and the sale's cash from a sale's bar to the next entry. So a
per-bar return inside a held stretch is the close's own return (prefix sums over the bars give
their sums), flat bars return 0, and only the bars around an entry or a sale need their own
term. The drawdown needs the closes of the held stretches only.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

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
    def log_closes(self) -> tuple[np.ndarray, float]:
        """log(close), and a step larger than their range: stretch k of a run shifted by k
        steps lies above stretch k - 1, so one running maximum serves every stretch."""
        logs = np.log(self.closes)
        return logs, float(np.ptp(logs)) + 1.0 if len(logs) else 1.0


@dataclass(frozen=True)
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
    s, t, q = trades.starts[held], trades.sales[held], quantities[held]
    highest = np.full(len(cash), -np.inf)
    lowest = np.zeros(len(cash))
    within = np.zeros(len(cash))
    if len(s):
        edges = np.empty(2 * len(s), dtype=np.int64)
        edges[0::2], edges[1::2] = s, t
        highest[held] = q * np.maximum.reduceat(bars.closes, edges)[0::2]
        lowest[held] = q * np.minimum.reduceat(bars.closes, edges)[0::2]
        within[held] = _falls_within(bars, s, t)
    # peaks: before each stretch, and at its sale (the stretch's high may be a new one)
    steps = np.empty(2 * len(cash) + 1)
    steps[0], steps[1::2], steps[2::2] = initial, highest, cash
    peaks = np.maximum.accumulate(steps)
    before, at_sale = peaks[0:-1:2], peaks[1::2]
    falls = np.concatenate((within, 1 - lowest[held] / before[held], 1 - cash / at_sale, [0.0]))
    return float(falls.max())


def _falls_within(bars: Bars, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Per stretch [s, t): the closes' largest fall from their running high inside it."""
    logs, step = bars.log_closes
    lengths = t - s
    first = np.cumsum(lengths) - lengths  # where each stretch begins in the gathered bars
    index = np.arange(int(lengths.sum())) + np.repeat(s - first, lengths)
    shifted = logs[index]
    shifted += np.repeat(np.arange(len(s)) * step, lengths)
    falls = np.maximum.accumulate(shifted)
    falls -= shifted
    return -np.expm1(-np.maximum.reduceat(falls, first))
