"""analytics/statistics.py through the engine: every statistic of a run against the plain
computation on the bar-by-bar reference backtest (tests/support/reference_statistics.py)."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from tests.support.reference_backtest import backtest as reference_backtest
from tests.support.reference_statistics import reference_statistics
from tradegraph.analytics import statistics
from tradegraph.analytics.backtest_engine import Bars, Strategy, StrategyKind, run_backtest

CAMEL = {
    "calmar": "calmar",
    "expectancy": "expectancy",
    "sqn": "sqn",
    "exposure": "exposure",
    "buy_and_hold_return": "buyAndHoldReturn",
    "total_fees": "totalFees",
    "max_drawdown_duration": "maxDrawdownDuration",
    "average_win": "averageWin",
    "average_loss": "averageLoss",
    "best_trade": "bestTrade",
    "worst_trade": "worstTrade",
}


def frame_of(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0.0002, 0.01, n)))
    opens = np.concatenate(([100.0], closes[:-1])) * np.exp(rng.normal(0, 0.002, n))
    return pd.DataFrame({"time": np.arange(n, dtype=np.int64) * 60, "open": opens, "close": closes})


CASES = [
    ("SMA_CROSSOVER", {"fast": 5, "slow": 20}, 10),
    ("SMA_CROSSOVER", {"fast": 3, "slow": 12, "stopLossPct": 1.5, "takeProfitPct": 2}, 25),
    ("RSI_REVERSION", {"period": 10, "lower": 35, "upper": 60}, 0),
    ("MACD_SIGNAL", {"fast": 6, "slow": 13, "period": 5}, 5),
    ("BOLLINGER_REVERSION", {"period": 15}, 30),
]


@pytest.mark.parametrize(("kind", "params", "fee_bps"), CASES)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_statistic_matches_the_reference_computation(
    kind: str, params: dict, fee_bps: float, seed: int
) -> None:
    frame = frame_of(700, seed)
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    strategy = Strategy(
        StrategyKind(kind),
        fast=params.get("fast"),
        slow=params.get("slow"),
        period=params.get("period"),
        lower=params.get("lower"),
        upper=params.get("upper"),
        stop_loss_pct=params.get("stopLossPct"),
        take_profit_pct=params.get("takeProfitPct"),
    )
    result = run_backtest(bars, strategy, 10_000, fee_bps, 60)
    trades, equity = reference_backtest(frame, kind, params, 10_000, fee_bps)
    expected = reference_statistics(frame, trades, equity, 10_000, fee_bps, 60)
    assert len(trades) == result.trade_count >= 2
    found = {CAMEL[k]: v for k, v in asdict(result.statistics).items()}
    assert found.keys() == expected.keys()
    for name, value in expected.items():
        if value is None:
            assert found[name] is None, name
        else:
            assert found[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


def test_a_position_open_at_the_end_counts_as_held_on_the_last_bar() -> None:
    frame = pd.DataFrame(
        {"time": np.arange(6) * 60, "open": [10.0] * 6, "close": [10, 9, 8, 9, 11, 12.0]}
    )
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    result = run_backtest(bars, Strategy(StrategyKind.SMA_CROSSOVER, fast=1, slow=2), 100, 0, 60)
    trades, equity = reference_backtest(frame, "SMA_CROSSOVER", {"fast": 1, "slow": 2}, 100, 0)
    assert trades[-1]["closed_at_end"]
    expected = reference_statistics(frame, trades, equity, 100, 0, 60)
    assert result.statistics.exposure == expected["exposure"] == 2 / 6


def test_without_trades_the_trade_statistics_are_null_and_nothing_is_paid() -> None:
    times = np.arange(50, dtype=np.int64) * 60
    closes = np.linspace(100, 90, 50)
    result = run_backtest(
        Bars(times, closes, closes), Strategy(StrategyKind.SMA_CROSSOVER, 2, 5), 1000, 10, 60
    )
    s = result.statistics
    assert result.trade_count == 0
    assert (s.expectancy, s.sqn, s.average_win, s.average_loss, s.best_trade) == (None,) * 5
    assert (s.calmar, s.exposure, s.total_fees, s.max_drawdown_duration) == (None, 0.0, 0.0, 0)
    assert s.buy_and_hold_return == pytest.approx(90 * 0.999 / (100 * 1.001) - 1)


def test_drawdown_duration_runs_from_the_high_to_the_recovery_or_the_end() -> None:
    times = np.array([0, 60, 120, 180, 240, 300, 360])
    recovered = np.array([1.0, 2.0, 1.0, 1.5, 2.0, 1.9, 2.1])
    assert statistics.max_drawdown_duration(times, recovered) == 180  # 60 → 240
    never = np.array([1.0, 2.0, 1.8, 2.5, 2.4, 2.3, 2.2])
    assert statistics.max_drawdown_duration(times, never) == 180  # 180 → the end
    never_long = np.array([3.0, 2.0, 1.0, 1.5, 2.5, 2.4, 2.3])
    assert statistics.max_drawdown_duration(times, never_long) == 360
    rising = np.arange(7, dtype=float)
    assert statistics.max_drawdown_duration(times, rising) == 0


def test_sqn_needs_two_trades_that_differ() -> None:
    assert statistics.sqn(np.array([5.0])) is None
    assert statistics.sqn(np.array([5.0, 5.0])) is None
    assert statistics.sqn(np.array([1.0, 3.0])) == pytest.approx(2**0.5 * 2 / 2**0.5)
