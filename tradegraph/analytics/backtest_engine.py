"""Long-only backtests on candles, vectorised: signals for every bar at once, trades found with
integer searches (analytics/trade_finder.py), statistics from analytics/metrics.py, which the
optimisation grid uses too.

Rules (so results are reproducible): signals are evaluated on a bar's close and executed at
the next bar's open; a signal on the last bar is not executed; a position still open at the
end is closed at the last close. An entry invests all cash: quantity = cash / (price*(1+fee));
a sale yields quantity*price*(1-fee); fee = feeBps / 10,000. Stop-loss and take-profit are
checked on closes, like every signal, and exit at the next open.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tradegraph.analytics.metrics import Bars, Performance, performance
from tradegraph.analytics.signals import IndicatorCache, signals
from tradegraph.analytics.statistics import TradeStatistics, trade_statistics
from tradegraph.analytics.strategy import Strategy, StrategyKind
from tradegraph.analytics.trade_finder import TradeBars, find_trades
from tradegraph.errors import InvalidInput

MAX_CURVE_POINTS = 1000
Progress = Callable[[float], None]

__all__ = ["BacktestResult", "Bars", "Strategy", "StrategyKind", "Trade", "run_backtest"]


@dataclass(frozen=True)
class Trade:
    entry_time: int
    entry_price: float
    exit_time: int
    exit_price: float
    quantity: float
    pnl: float


@dataclass(frozen=True)
class BacktestResult:
    final_equity: float
    total_return: float
    cagr: float | None
    max_drawdown: float
    sharpe: float | None
    sortino: float | None
    win_rate: float | None
    profit_factor: float | None
    trade_count: int
    trades: list[Trade]
    equity_curve: list[tuple[int, float]]  # at most MAX_CURVE_POINTS, evenly spaced
    statistics: TradeStatistics


def run_backtest(
    bars: Bars,
    strategy: Strategy,
    initial_cash: float,
    fee_bps: float,
    bar_seconds: int,
    progress: Progress | None = None,
) -> BacktestResult:
    """The full result of one backtest; `progress(fraction)` is called between its steps (it
    may raise to stop the run)."""
    strategy = strategy.checked()
    if len(bars.closes) < 2:
        raise InvalidInput(
            "the range holds fewer than 2 candles: nothing to backtest", field="from"
        )
    fee = fee_bps / 10_000
    entries, exits = signals(strategy, IndicatorCache(bars.closes))
    if progress is not None:
        progress(0.3)
    trades = find_trades(strategy, bars.closes, bars.opens, entries, exits)
    if progress is not None:
        progress(0.6)
    found = performance(bars, trades, initial_cash, fee, bar_seconds)
    return _result(bars, trades, found, initial_cash, fee)


def equity_at_closes(
    bars: Bars, trades: TradeBars, found: Performance, initial_cash: float
) -> tuple[np.ndarray, np.ndarray]:
    """(equity at each close, whether a position is held at it): the initial cash, then
    quantity * close while held and the sale's cash from its bar to the next entry."""
    n = len(bars.closes)
    m = len(trades.starts)
    edges = np.empty(2 * m + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, n
    edges[1:-1:2], edges[2:-1:2] = trades.starts, trades.sales
    coefficients = np.empty(2 * m + 1)
    coefficients[0] = initial_cash
    coefficients[1::2] = found.quantities
    coefficients[2::2] = found.cash
    lengths = np.diff(edges)
    equity = np.repeat(coefficients, lengths)
    held = np.repeat(np.arange(2 * m + 1) % 2 == 1, lengths)
    np.multiply(equity, bars.closes, out=equity, where=held)
    held[-1] = trades.at_end  # closed at the last close: held through that bar
    return equity, held


def _result(
    bars: Bars, trades: TradeBars, found: Performance, initial_cash: float, fee: float
) -> BacktestResult:
    metrics = found.metrics
    starts, sales = trades.starts, trades.sales
    entry_prices = bars.opens[starts]
    listed = [
        Trade(int(bars.times[s]), float(p), int(bars.times[t]), float(x), float(q), float(pnl))
        for s, p, t, x, q, pnl in zip(
            starts,
            entry_prices,
            sales,
            found.exit_prices,
            found.quantities,
            found.pnls,
            strict=True,
        )
    ]
    equity, held = equity_at_closes(bars, trades, found, initial_cash)
    step = max(1, math.ceil(len(equity) / MAX_CURVE_POINTS))
    picks = list(range(0, len(equity), step))
    if picks[-1] != len(equity) - 1:
        picks.append(len(equity) - 1)
    traded = found.quantities * (entry_prices + found.exit_prices)
    return BacktestResult(
        final_equity=found.final_equity,
        total_return=metrics.total_return,
        cagr=found.cagr,
        max_drawdown=metrics.max_drawdown,
        sharpe=metrics.sharpe,
        sortino=metrics.sortino,
        win_rate=metrics.win_rate,
        profit_factor=metrics.profit_factor,
        trade_count=metrics.trade_count,
        trades=listed,
        equity_curve=[(int(bars.times[i]), float(equity[i])) for i in picks],
        statistics=trade_statistics(
            times=bars.times,
            equity=equity,
            held=held,
            pnls=found.pnls,
            traded_value=float(traded.sum()),
            fee=fee,
            first_open=float(bars.opens[0]),
            last_close=float(bars.closes[-1]),
            cagr=found.cagr,
            max_drawdown=metrics.max_drawdown,
        ),
    )
