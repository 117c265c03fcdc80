"""Trade and equity statistics of a backtest, beyond returns and ratios: what backtesting
references report next to the equity curve. Pure functions of arrays; no I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TradeStatistics:
    calmar: float | None
    expectancy: float | None
    sqn: float | None
    exposure: float
    buy_and_hold_return: float
    total_fees: float
    max_drawdown_duration: int
    average_win: float | None
    average_loss: float | None
    best_trade: float | None
    worst_trade: float | None


def calmar(cagr: float | None, max_drawdown: float) -> float | None:
    """CAGR / max drawdown; None without a drawdown or a CAGR."""
    if cagr is None or max_drawdown <= 0:
        return None
    return cagr / max_drawdown


def sqn(pnls: np.ndarray) -> float | None:
    """System quality number: √n · mean / sample stdev of trade P&L; None under 2 trades or
    when every trade made the same."""
    if len(pnls) < 2:
        return None
    spread = float(np.std(pnls, ddof=1))
    if spread == 0:
        return None
    return math.sqrt(len(pnls)) * float(np.mean(pnls)) / spread


def max_drawdown_duration(times: np.ndarray, equity: np.ndarray) -> int:
    """Longest span, in seconds, from a close at an equity high to the next close back at or
    above it (or the last close if it never recovers); 0 without a drawdown."""
    if len(equity) == 0:
        return 0
    highs = np.flatnonzero(equity >= np.maximum.accumulate(equity))
    longest = 0
    gaps = np.flatnonzero(np.diff(highs) > 1)  # at least one close below the high between
    if len(gaps):
        longest = int(np.max(times[highs[gaps + 1]] - times[highs[gaps]]))
    if highs[-1] < len(equity) - 1:
        longest = max(longest, int(times[-1] - times[highs[-1]]))
    return longest


def buy_and_hold_return(first_open: float, last_close: float, fee: float) -> float:
    """All cash in at the first bar's open and out at the last close, paying the same fee."""
    return last_close * (1 - fee) / (first_open * (1 + fee)) - 1


def trade_statistics(
    *,
    times: np.ndarray,
    equity: np.ndarray,
    held: np.ndarray,
    pnls: np.ndarray,
    traded_value: float,
    fee: float,
    first_open: float,
    last_close: float,
    cagr: float | None,
    max_drawdown: float,
) -> TradeStatistics:
    """The statistics of one run. `held`: whether a position is held at each close;
    `traded_value`: the sum of quantity * price over every entry and exit."""
    wins = pnls[pnls > 0]
    losses = pnls[pnls < 0]
    has_trades = len(pnls) > 0
    return TradeStatistics(
        calmar=calmar(cagr, max_drawdown),
        expectancy=float(np.mean(pnls)) if has_trades else None,
        sqn=sqn(pnls),
        exposure=float(np.count_nonzero(held)) / len(held) if len(held) else 0.0,
        buy_and_hold_return=buy_and_hold_return(first_open, last_close, fee),
        total_fees=traded_value * fee,
        max_drawdown_duration=max_drawdown_duration(times, equity),
        average_win=float(np.mean(wins)) if len(wins) else None,
        average_loss=float(np.mean(losses)) if len(losses) else None,
        best_trade=float(np.max(pnls)) if has_trades else None,
        worst_trade=float(np.min(pnls)) if has_trades else None,
    )
