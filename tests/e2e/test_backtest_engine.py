"""The vectorised backtest engine against the bar-by-bar reference, on random walks."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tests.support.reference_backtest import backtest as reference_backtest
from tradegraph.analytics.backtest_engine import Bars, Strategy, StrategyKind, run_backtest
from tradegraph.errors import InvalidInput


def random_bars(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.01, n)))
    opens = np.concatenate(([100.0], closes[:-1])) * np.exp(rng.normal(0, 0.002, n))
    return pd.DataFrame({"time": np.arange(n) * 60, "open": opens, "close": closes})


CASES = [
    ("SMA_CROSSOVER", {"fast": 5, "slow": 20}),
    ("SMA_CROSSOVER", {"fast": 3, "slow": 8, "stopLossPct": 1.5, "takeProfitPct": 2.0}),
    ("RSI_REVERSION", {"period": 14, "lower": 35, "upper": 60}),
    ("MACD_SIGNAL", {"fast": 6, "slow": 13, "period": 5}),
    ("BOLLINGER_REVERSION", {"period": 20}),
]


@pytest.mark.parametrize(("kind", "params"), CASES)
@pytest.mark.parametrize("seed", [1, 2])
def test_engine_matches_the_bar_by_bar_reference(kind: str, params: dict, seed: int) -> None:
    frame = random_bars(2000, seed)
    expected_trades, expected_equity = reference_backtest(frame, kind, params, 10_000, 10)
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
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    result = run_backtest(bars, strategy, 10_000, 10, 60)
    assert result.trade_count == len(expected_trades) > 3
    for got, want in zip(result.trades, expected_trades, strict=True):
        assert (got.entry_time, got.exit_time) == (want["entry_time"], want["exit_time"])
        assert got.entry_price == pytest.approx(want["entry_price"])
        assert got.exit_price == pytest.approx(want["exit_price"])
        assert got.pnl == pytest.approx(want["pnl"])
    assert result.final_equity == pytest.approx(expected_equity[-1])
    peaks = np.maximum.accumulate(expected_equity)
    assert result.max_drawdown == pytest.approx(float(np.max((peaks - expected_equity) / peaks)))
    returns = np.diff(expected_equity) / np.array(expected_equity[:-1])
    per_year = 365 * 24 * 60
    assert result.sharpe == pytest.approx(
        returns.mean() / returns.std(ddof=1) * math.sqrt(per_year)
    )


def test_fees_and_the_forced_close_follow_the_documented_formulas() -> None:
    # Rising prices: SMA(1) crosses above SMA(2) at bar 2's close; entry at bar 3's open.
    frame = pd.DataFrame(
        {
            "time": [0, 60, 120, 180, 240],
            "open": [10.0, 9.0, 8.0, 9.0, 10.0],
            "close": [10.0, 8.0, 9.0, 10.0, 11.0],
        }
    )
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    result = run_backtest(bars, Strategy(StrategyKind.SMA_CROSSOVER, fast=1, slow=2), 1000, 100, 60)
    (trade,) = result.trades
    assert (trade.entry_time, trade.entry_price) == (180, 9.0)
    assert trade.quantity == pytest.approx(1000 / (9.0 * 1.01))
    assert (trade.exit_time, trade.exit_price) == (240, 11.0)  # still open: the last close
    assert result.final_equity == pytest.approx(trade.quantity * 11.0 * 0.99)
    assert result.total_return == pytest.approx(result.final_equity / 1000 - 1)


def test_a_signal_on_the_last_bar_is_not_executed() -> None:
    frame = pd.DataFrame(
        {"time": [0, 60, 120], "open": [10.0, 9.0, 8.0], "close": [10.0, 8.0, 9.0]}
    )  # the cross happens at the last close
    bars = Bars(frame["time"].to_numpy(), frame["open"].to_numpy(), frame["close"].to_numpy())
    result = run_backtest(bars, Strategy(StrategyKind.SMA_CROSSOVER, fast=1, slow=2), 1000, 0, 60)
    assert result.trade_count == 0
    assert result.final_equity == 1000


@pytest.mark.parametrize(
    "strategy",
    [
        Strategy(StrategyKind.SMA_CROSSOVER, fast=30, slow=10),
        Strategy(StrategyKind.RSI_REVERSION, lower=70, upper=30),
        Strategy(StrategyKind.SMA_CROSSOVER, stop_loss_pct=0),
    ],
)
def test_impossible_strategies_are_bad_user_input(strategy: Strategy) -> None:
    with pytest.raises(InvalidInput):
        strategy.checked()
