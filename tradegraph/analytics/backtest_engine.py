"""Long-only backtests on candles, vectorised: signals for every bar at once, then one short
step per trade (numpy searches), never a Python loop over bars.

Rules (so results are reproducible): signals are evaluated on a bar's close and executed at
the next bar's open; a signal on the last bar is not executed; a position still open at the
end is closed at the last close. An entry invests all cash: quantity = cash / (price*(1+fee));
a sale yields quantity*price*(1-fee); fee = feeBps / 10,000. Stop-loss and take-profit are
checked on closes, like every signal, and exit at the next open.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from tradegraph.analytics import indicators
from tradegraph.analytics.statistics import TradeStatistics, trade_statistics
from tradegraph.errors import InvalidInput

MAX_CURVE_POINTS = 1000
BOLLINGER_WIDTH = 2.0
Progress = Callable[[float], None]


class StrategyKind(StrEnum):
    SMA_CROSSOVER = "SMA_CROSSOVER"
    RSI_REVERSION = "RSI_REVERSION"
    MACD_SIGNAL = "MACD_SIGNAL"
    BOLLINGER_REVERSION = "BOLLINGER_REVERSION"


@dataclass(frozen=True)
class Strategy:
    kind: StrategyKind
    fast: int | None = None
    slow: int | None = None
    period: int | None = None
    lower: float | None = None
    upper: float | None = None
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None

    def checked(self) -> Strategy:
        """With defaults: SMA 10/30, MACD 12/26 signal 9 (period), RSI 14 30/70, Bollinger 20."""
        kind = self.kind
        macd = kind is StrategyKind.MACD_SIGNAL
        fast = self.fast if self.fast is not None else (12 if macd else 10)
        slow = self.slow if self.slow is not None else (26 if macd else 30)
        period = (
            self.period
            if self.period is not None
            else {
                StrategyKind.RSI_REVERSION: 14,
                StrategyKind.MACD_SIGNAL: 9,
                StrategyKind.BOLLINGER_REVERSION: 20,
            }.get(kind)
        )
        lower = 30.0 if self.lower is None else self.lower
        upper = 70.0 if self.upper is None else self.upper
        for name, value in (("fast", fast), ("slow", slow), ("period", period)):
            if value is not None and value <= 0:
                raise InvalidInput(f"strategy {name} must be greater than 0", field=name)
        if kind in (StrategyKind.SMA_CROSSOVER, StrategyKind.MACD_SIGNAL) and fast >= slow:
            raise InvalidInput(f"fast ({fast}) must be less than slow ({slow})", field="fast")
        if kind is StrategyKind.RSI_REVERSION and not 0 <= lower < upper <= 100:
            raise InvalidInput("RSI levels need 0 <= lower < upper <= 100", field="lower")
        for name, pct in (
            ("stopLossPct", self.stop_loss_pct),
            ("takeProfitPct", self.take_profit_pct),
        ):
            if pct is not None and not 0 < pct < 100:
                raise InvalidInput(f"{name} must be between 0 and 100 (a percentage)", field=name)
        return Strategy(
            kind, fast, slow, period, lower, upper, self.stop_loss_pct, self.take_profit_pct
        )


@dataclass(frozen=True)
class Bars:
    times: np.ndarray  # int64 epoch seconds of each bar's start
    opens: np.ndarray
    closes: np.ndarray


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


def _crosses(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(up, down): a crosses above b (previous ≤, now >), and below (previous ≥, now <)."""
    up = np.zeros(len(a), dtype=bool)
    down = np.zeros(len(a), dtype=bool)
    with np.errstate(invalid="ignore"):
        up[1:] = (a[:-1] <= b[:-1]) & (a[1:] > b[1:])
        down[1:] = (a[:-1] >= b[:-1]) & (a[1:] < b[1:])
    return up, down


def signals(strategy: Strategy, closes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(entry, exit) flags per bar, evaluated on closes (NaN comparisons are False)."""
    s = strategy
    if s.kind is StrategyKind.SMA_CROSSOVER:
        return _crosses(indicators.sma(closes, s.fast or 0), indicators.sma(closes, s.slow or 0))
    if s.kind is StrategyKind.MACD_SIGNAL:
        line, signal_line, _ = indicators.macd(closes, s.fast or 0, s.slow or 0, s.period or 0)
        return _crosses(line, signal_line)
    with np.errstate(invalid="ignore"):
        if s.kind is StrategyKind.RSI_REVERSION:
            values = indicators.rsi(closes, s.period or 0)
            return values < (s.lower or 0), values > (s.upper or 0)
        _, middle, lower = indicators.bollinger(closes, s.period or 0, BOLLINGER_WIDTH)
        return closes < lower, closes >= middle


def _first_at_or_after(indexes: np.ndarray, start: int) -> int | None:
    k = int(np.searchsorted(indexes, start))
    return int(indexes[k]) if k < len(indexes) else None


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


def run_backtest(
    bars: Bars,
    strategy: Strategy,
    initial_cash: float,
    fee_bps: float,
    bar_seconds: int,
    progress: Progress | None = None,
) -> BacktestResult:
    strategy = strategy.checked()
    n = len(bars.closes)
    if n < 2:
        raise InvalidInput(
            "the range holds fewer than 2 candles: nothing to backtest", field="from"
        )
    fee = fee_bps / 10_000
    entry_flags, exit_flags = signals(strategy, bars.closes)
    entries = np.flatnonzero(entry_flags[:-1])  # a signal on the last bar is not executed
    exits = np.flatnonzero(exit_flags)
    holding = np.zeros(n)  # quantity held at each close
    cash_after = np.full(n, np.nan)  # cash from a sale, from its bar on
    trades: list[Trade] = []
    cash, position, open_at_end = initial_cash, 0, False
    while (signal := _first_at_or_after(entries, position)) is not None:
        start = signal + 1
        price = float(bars.opens[start])
        quantity = cash / (price * (1 + fee))
        exit_signal = _first_at_or_after(exits, start)
        last = n - 1 if exit_signal is None else exit_signal
        stop = _stop_exit(strategy, bars.closes, start, last, price)
        signal_bar = stop if stop is not None else exit_signal
        if signal_bar is None or signal_bar >= n - 1:  # still open at the end
            sold_at, exit_price, sold_bar = n - 1, float(bars.closes[-1]), n - 1
            open_at_end = True
            holding[start : n - 1] = quantity
        else:
            sold_at, exit_price, sold_bar = (
                signal_bar + 1,
                float(bars.opens[signal_bar + 1]),
                (signal_bar + 1),
            )
            holding[start:sold_bar] = quantity
        proceeds = quantity * exit_price * (1 - fee)
        trades.append(
            Trade(
                int(bars.times[start]),
                price,
                int(bars.times[sold_at]),
                exit_price,
                quantity,
                proceeds - cash,
            )
        )
        cash = proceeds
        cash_after[sold_bar] = cash
        position = sold_bar  # flat from this bar's open: its close may signal again
        if progress is not None:
            progress(sold_bar / n)
    equity = _equity(bars.closes, holding, cash_after, initial_cash)
    held = holding > 0
    held[-1] = open_at_end  # closed at the last close: held through that bar
    return _result(bars, equity, trades, initial_cash, bar_seconds, held, fee)


def _equity(
    closes: np.ndarray, holding: np.ndarray, cash_after: np.ndarray, initial_cash: float
) -> np.ndarray:
    """Equity at each close: the position at the close, else the cash of the last sale."""
    cash = cash_after.copy()
    cash[0] = initial_cash if np.isnan(cash[0]) else cash[0]
    filled = np.where(~np.isnan(cash), np.arange(len(cash)), 0)  # forward-fill the cash
    cash = cash[np.maximum.accumulate(filled)]
    return np.where(holding > 0, holding * closes, cash)


def _result(
    bars: Bars,
    equity: np.ndarray,
    trades: list[Trade],
    initial_cash: float,
    bar_seconds: int,
    held: np.ndarray,
    fee: float,
) -> BacktestResult:
    final = float(equity[-1])
    peaks = np.maximum.accumulate(equity)
    drawdown = float(np.max((peaks - equity) / peaks)) if len(equity) else 0.0
    returns = np.diff(equity) / equity[:-1]
    per_year = 365 * 86400 / bar_seconds
    sharpe = sortino = None
    if len(returns) >= 2 and returns.std(ddof=1) > 0:
        sharpe = float(returns.mean() / returns.std(ddof=1) * math.sqrt(per_year))
    downside = math.sqrt(float(np.mean(np.minimum(returns, 0) ** 2))) if len(returns) else 0.0
    if downside > 0:
        sortino = float(returns.mean() / downside * math.sqrt(per_year))
    years = (int(bars.times[-1]) - int(bars.times[0]) + bar_seconds) / (365 * 86400)
    cagr = None
    if years > 0 and final > 0:
        with contextlib.suppress(OverflowError):  # minutes compounded to a year can overflow
            cagr = (final / initial_cash) ** (1 / years) - 1
    wins = [t.pnl for t in trades if t.pnl > 0]
    losses = [-t.pnl for t in trades if t.pnl < 0]
    step = max(1, math.ceil(len(equity) / MAX_CURVE_POINTS))
    picks = list(range(0, len(equity), step))
    if picks[-1] != len(equity) - 1:
        picks.append(len(equity) - 1)
    return BacktestResult(
        final_equity=final,
        total_return=final / initial_cash - 1,
        cagr=cagr,
        max_drawdown=drawdown,
        sharpe=sharpe,
        sortino=sortino,
        win_rate=len(wins) / len(trades) if trades else None,
        profit_factor=sum(wins) / sum(losses) if losses else None,
        trade_count=len(trades),
        trades=trades,
        equity_curve=[(int(bars.times[i]), float(equity[i])) for i in picks],
        statistics=trade_statistics(
            times=bars.times,
            equity=equity,
            held=held,
            pnls=np.array([t.pnl for t in trades], dtype=float),
            traded_value=sum(t.quantity * (t.entry_price + t.exit_price) for t in trades),
            fee=fee,
            first_open=float(bars.opens[0]),
            last_close=float(bars.closes[-1]),
            cagr=cagr,
            max_drawdown=drawdown,
        ),
    )
