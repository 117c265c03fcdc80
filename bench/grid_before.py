"""The optimisation grid as it was before issue 23 (commit 75417af), frozen as the baseline of
`python -m bench optimize`: one worker job per chunk carrying the bars, the indicators computed
per chunk, and per combination the equity built at every bar. Not used by the server."""

from __future__ import annotations

import contextlib
import math
from bisect import bisect_left
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from tradegraph.analytics import indicators
from tradegraph.analytics.backtest_engine import Bars, Strategy, StrategyKind
from tradegraph.analytics.parameter_grid import strategy_of
from tradegraph.analytics.statistics import calmar, sqn

BOLLINGER_WIDTH = 2.0


def _crosses(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(up, down): a crosses above b (previous ≤, now >), and below (previous ≥, now <)."""
    up = np.zeros(len(a), dtype=bool)
    down = np.zeros(len(a), dtype=bool)
    with np.errstate(invalid="ignore"):
        up[1:] = (a[:-1] <= b[:-1]) & (a[1:] > b[1:])
        down[1:] = (a[:-1] >= b[:-1]) & (a[1:] < b[1:])
    return up, down


def _stop_exit(
    strategy: Strategy, closes: np.ndarray, entry: int, until: int, price: float
) -> int | None:
    """The first bar in [entry, until] whose close hits the stop-loss or take-profit."""
    window = closes[entry : until + 1]
    hits = np.zeros(len(window), dtype=bool)
    if strategy.stop_loss_pct:
        hits |= window <= price * (1 - strategy.stop_loss_pct / 100)
    if strategy.take_profit_pct:
        hits |= window >= price * (1 + strategy.take_profit_pct / 100)
    return entry + int(np.argmax(hits)) if hits.any() else None


@dataclass(frozen=True)
class Metrics:
    total_return: float
    sharpe: float | None
    sortino: float | None
    calmar: float | None
    sqn: float | None
    profit_factor: float | None
    max_drawdown: float
    win_rate: float | None
    trade_count: int


@dataclass
class IndicatorCache:
    """Indicator arrays of one set of closes, by (indicator, parameters)."""

    closes: np.ndarray
    arrays: dict[tuple[object, ...], tuple[np.ndarray, ...]] = field(default_factory=dict)

    def get(self, key: tuple[object, ...]) -> tuple[np.ndarray, ...]:
        if key not in self.arrays:
            self.arrays[key] = self._compute(key)
        return self.arrays[key]

    def _compute(self, key: tuple[object, ...]) -> tuple[np.ndarray, ...]:
        name, *args = key
        c = self.closes
        if name == "sums":
            return (np.cumsum(np.concatenate(([0.0], c))),)
        if name == "sma":  # indicators.sma, sharing the running sums between windows
            n = int(args[0])  # type: ignore[call-overload]
            out = np.full(len(c), np.nan)
            if len(c) >= n:
                (sums,) = self.get(("sums",))
                out[n - 1 :] = (sums[n:] - sums[:-n]) / n
            return (out,)
        if name == "rsi":
            return (indicators.rsi(c, int(args[0])),)  # type: ignore[call-overload]
        if name == "macd":
            line, signal, _ = indicators.macd(c, *(int(a) for a in args))  # type: ignore[call-overload]
            return line, signal
        _, middle, lower = indicators.bollinger(c, int(args[0]), BOLLINGER_WIDTH)  # type: ignore[call-overload]
        return middle, lower


def _signals(s: Strategy, cache: IndicatorCache) -> tuple[np.ndarray, np.ndarray]:
    """(entry, exit) flags, as backtest_engine.signals, from cached indicators."""
    if s.kind is StrategyKind.SMA_CROSSOVER:
        (fast,) = cache.get(("sma", s.fast))
        (slow,) = cache.get(("sma", s.slow))
        return _crosses(fast, slow)
    if s.kind is StrategyKind.MACD_SIGNAL:
        line, signal = cache.get(("macd", s.fast, s.slow, s.period))
        return _crosses(line, signal)
    with np.errstate(invalid="ignore"):
        if s.kind is StrategyKind.RSI_REVERSION:
            (values,) = cache.get(("rsi", s.period))
            return values < (s.lower or 0), values > (s.upper or 0)
        middle, lower = cache.get(("bollinger", s.period))
        return cache.closes < lower, cache.closes >= middle


def _trades(
    s: Strategy, closes: np.ndarray, opens: np.ndarray, entry: np.ndarray, exit_: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """(start bars, sale bars, whether the last is still open at the end), as run_backtest."""
    entries = np.flatnonzero(entry[:-1])  # a signal on the last bar is not executed
    exits = np.flatnonzero(exit_)
    if not (s.stop_loss_pct or s.take_profit_pct) and not _coincide(entries, exits):
        return _trades_without_stops(len(closes), entries, exits)
    return _trades_one_by_one(s, closes, opens, entries.tolist(), exits.tolist())


def _coincide(entries: np.ndarray, exits: np.ndarray) -> bool:
    """Whether some bar signals both an entry and an exit (no built-in strategy does)."""
    if not len(exits) or not len(entries):
        return False
    found = np.minimum(np.searchsorted(exits, entries), len(exits) - 1)
    return bool(np.any(exits[found] == entries))


def _trades_without_stops(
    n: int, entries: np.ndarray, exits: np.ndarray
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Entries grouped by the exit signal that follows them: each group is one trade, entered
    on its first signal (the others fall while the position is open). This holds when no bar
    signals both, so the sale bar (exit + 1) never carries an entry of the next group."""
    group = np.searchsorted(exits, entries + 1)
    first = np.ones(len(group), dtype=bool)
    first[1:] = group[1:] != group[:-1]
    starts, group = entries[first] + 1, group[first]
    if not len(starts):
        return starts, starts, False
    closed = group < len(exits)
    signal = np.where(closed, exits[np.minimum(group, len(exits) - 1)], n - 1)
    at_end = bool(signal[-1] >= n - 1)
    sales = signal + 1
    if at_end:
        sales[-1] = n - 1
    return starts, sales, at_end


def _trades_one_by_one(
    s: Strategy, closes: np.ndarray, opens: np.ndarray, entries: list[int], exits: list[int]
) -> tuple[np.ndarray, np.ndarray, bool]:
    n = len(closes)
    starts: list[int] = []
    sales: list[int] = []
    at_end = False
    k = 0
    while k < len(entries):
        start = entries[k] + 1
        j = bisect_left(exits, start)
        exit_signal = exits[j] if j < len(exits) else None
        last = n - 1 if exit_signal is None else exit_signal
        stop = _stop_exit(s, closes, start, last, float(opens[start]))
        signal_bar = stop if stop is not None else exit_signal
        starts.append(start)
        if signal_bar is None or signal_bar >= n - 1:
            sales.append(n - 1)
            at_end = True
            break
        sales.append(signal_bar + 1)
        k = bisect_left(entries, signal_bar + 1, k + 1)
    return np.array(starts, dtype=np.int64), np.array(sales, dtype=np.int64), at_end


def _equity(
    bars: Bars, starts: np.ndarray, sales: np.ndarray, at_end: bool, initial: float, fee: float
) -> tuple[np.ndarray, np.ndarray]:
    """(equity at each close, pnl of each trade). The bars alternate between flat stretches
    (equity = the cash of the last sale) and held ones (equity = quantity * close): one
    coefficient per stretch, repeated over its bars."""
    n = len(bars.closes)
    entry_prices = bars.opens[starts]
    exit_prices = bars.opens[sales]
    if at_end:
        exit_prices[-1] = bars.closes[-1]
    growth = exit_prices * (1 - fee) / (entry_prices * (1 + fee))
    cash = initial * np.cumprod(growth)
    before = np.concatenate(([initial], cash[:-1]))
    quantity = before / (entry_prices * (1 + fee))
    m = len(starts)
    edges = np.empty(2 * m + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, n
    edges[1:-1:2], edges[2:-1:2] = starts, sales
    coefficients = np.empty(2 * m + 1)
    coefficients[0] = initial
    coefficients[1::2], coefficients[2::2] = quantity, cash
    lengths = np.diff(edges)
    equity = np.repeat(coefficients, lengths)
    held = np.repeat(np.arange(2 * m + 1) % 2 == 1, lengths)
    np.multiply(equity, bars.closes, out=equity, where=held)
    return equity, cash - before


def evaluate(
    bars: Bars,
    strategy: Strategy,
    cache: IndicatorCache,
    initial_cash: float,
    fee_bps: float,
    bar_seconds: int,
) -> Metrics:
    """The metrics run_backtest reports for this strategy (which must be checked())."""
    fee = fee_bps / 10_000
    entry, exit_ = _signals(strategy, cache)
    starts, sales, at_end = _trades(strategy, bars.closes, bars.opens, entry, exit_)
    equity, pnls = _equity(bars, starts, sales, at_end, initial_cash, fee)
    return _metrics(bars, equity, pnls, initial_cash, bar_seconds)


def _metrics(
    bars: Bars, equity: np.ndarray, pnls: np.ndarray, initial: float, bar_seconds: int
) -> Metrics:
    final = float(equity[-1])
    drawdown = 1.0 - float(np.min(equity / np.maximum.accumulate(equity)))
    returns = np.diff(equity)
    returns /= equity[:-1]
    per_year = 365 * 86400 / bar_seconds
    sharpe = sortino = None
    count = len(returns)
    mean = float(returns.sum()) / count if count else 0.0
    if count >= 2:
        centred = returns - mean
        centred *= centred  # not np.dot: threaded BLAS stalls on a busy machine
        spread = math.sqrt(float(centred.sum()) / (count - 1))
        if spread > 0:
            sharpe = mean / spread * math.sqrt(per_year)
    np.minimum(returns, 0, out=returns)
    returns *= returns
    downside = math.sqrt(float(returns.sum()) / count) if count else 0.0
    if downside > 0:
        sortino = mean / downside * math.sqrt(per_year)
    years = (int(bars.times[-1]) - int(bars.times[0]) + bar_seconds) / (365 * 86400)
    cagr = None
    if years > 0 and final > 0:
        with contextlib.suppress(OverflowError):
            cagr = (final / initial) ** (1 / years) - 1
    wins = pnls[pnls > 0]
    losses = pnls[pnls < 0]
    return Metrics(
        total_return=final / initial - 1,
        sharpe=sharpe,
        sortino=sortino,
        calmar=calmar(cagr, drawdown),
        sqn=sqn(pnls),
        profit_factor=float(wins.sum() / -losses.sum()) if len(losses) else None,
        max_drawdown=drawdown,
        win_rate=len(wins) / len(pnls) if len(pnls) else None,
        trade_count=len(pnls),
    )


@dataclass(frozen=True)
class GridJob:
    """What one worker needs: the bars (sent with every chunk) and its combinations."""

    times: np.ndarray
    opens: np.ndarray
    closes: np.ndarray
    kind: StrategyKind
    combinations: list[dict[str, float]]
    initial_cash: float
    fee_bps: float
    bar_seconds: int


def run_grid_chunk(job: GridJob) -> list[dict[str, Any]]:
    bars = Bars(job.times, job.opens, job.closes)
    cache = IndicatorCache(job.closes)
    rows = []
    for params in job.combinations:
        strategy = strategy_of(job.kind, params).checked()
        metrics = evaluate(bars, strategy, cache, job.initial_cash, job.fee_bps, job.bar_seconds)
        rows.append({"parameters": params, "metrics": asdict(metrics)})
    return rows


MAX_CHUNK = 40


def chunks(combinations: list[dict[str, float]], workers: int) -> list[list[dict[str, float]]]:
    count = max(
        1, min(len(combinations), max(workers * 8, math.ceil(len(combinations) / MAX_CHUNK)))
    )
    size = math.ceil(len(combinations) / count)
    return [combinations[i : i + size] for i in range(0, len(combinations), size)]
