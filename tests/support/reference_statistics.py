"""The backtest statistics computed the plain way, from the reference backtest's trades and
equity (tests/support/reference_backtest.py), independently of tradegraph/analytics."""

from __future__ import annotations

import math
import statistics

import pandas as pd


def _max_drawdown_duration(times: list[int], equity: list[float]) -> int:
    peak, peak_time, falling, longest = equity[0], times[0], False, 0
    for time, value in zip(times, equity, strict=True):
        if value >= peak:
            if falling:
                longest = max(longest, time - peak_time)
            peak, peak_time, falling = value, time, False
        else:
            falling = True
    if falling:
        longest = max(longest, times[-1] - peak_time)
    return longest


def _held_bars(times: list[int], trades: list[dict]) -> int:
    held = 0
    for time in times:
        for trade in trades:
            ends_here = trade.get("closed_at_end") and time == trade["exit_time"]
            if trade["entry_time"] <= time < trade["exit_time"] or ends_here:
                held += 1
                break
    return held


def reference_statistics(
    frame: pd.DataFrame,
    trades: list[dict],
    equity: list[float],
    initial_cash: float,
    fee_bps: float,
    bar_seconds: int,
) -> dict[str, float | int | None]:
    """camelCase keys, as in the GraphQL BacktestResult."""
    fee = fee_bps / 10_000
    times = [int(t) for t in frame["time"]]
    curve = pd.Series(equity)
    max_drawdown = float(((curve.cummax() - curve) / curve.cummax()).max())
    years = (times[-1] - times[0] + bar_seconds) / (365 * 86400)
    try:
        cagr: float | None = (float(equity[-1]) / initial_cash) ** (1 / years) - 1
    except OverflowError:
        cagr = None
    pnls = [t["pnl"] for t in trades]
    wins = [p for p in pnls if p > 0]
    losses = [p for p in pnls if p < 0]
    fees = 0.0
    for t in trades:
        quantity = t["spent"] / (t["entry_price"] * (1 + fee))
        fees += quantity * t["entry_price"] * fee + quantity * t["exit_price"] * fee
    sqn = None
    if len(pnls) >= 2 and statistics.stdev(pnls) > 0:
        sqn = math.sqrt(len(pnls)) * statistics.mean(pnls) / statistics.stdev(pnls)
    first_open, last_close = float(frame["open"].iloc[0]), float(frame["close"].iloc[-1])
    return {
        "calmar": cagr / max_drawdown if max_drawdown > 0 and cagr is not None else None,
        "expectancy": statistics.mean(pnls) if pnls else None,
        "sqn": sqn,
        "exposure": _held_bars(times, trades) / len(times),
        "buyAndHoldReturn": (last_close * (1 - fee)) / (first_open * (1 + fee)) - 1,
        "totalFees": fees,
        "maxDrawdownDuration": _max_drawdown_duration(times, equity),
        "averageWin": statistics.mean(wins) if wins else None,
        "averageLoss": statistics.mean(losses) if losses else None,
        "bestTrade": max(pnls) if pnls else None,
        "worstTrade": min(pnls) if pnls else None,
    }
