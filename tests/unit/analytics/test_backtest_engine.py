"""analytics/backtest.py: which strategy parameters are possible and their defaults, and the
smallest backtest. (The engine against a bar-by-bar reference:
tests/e2e/test_backtest_engine.py.)"""

from __future__ import annotations

import numpy as np
import pytest

from tradegraph.analytics.backtest_engine import Bars, Strategy, StrategyKind, run_backtest
from tradegraph.errors import InvalidInput


@pytest.mark.parametrize(
    ("strategy", "field"),
    [
        (Strategy(StrategyKind.SMA_CROSSOVER, fast=10, slow=10), "fast"),
        (Strategy(StrategyKind.MACD_SIGNAL, fast=30), "fast"),  # default slow 26
        (Strategy(StrategyKind.SMA_CROSSOVER, fast=-1), "fast"),
        (Strategy(StrategyKind.RSI_REVERSION, period=-14), "period"),
        (Strategy(StrategyKind.RSI_REVERSION, lower=30, upper=30), "lower"),
        (Strategy(StrategyKind.RSI_REVERSION, lower=-1), "lower"),
        (Strategy(StrategyKind.RSI_REVERSION, upper=101), "lower"),
        (Strategy(StrategyKind.SMA_CROSSOVER, stop_loss_pct=100), "stopLossPct"),
        (Strategy(StrategyKind.SMA_CROSSOVER, take_profit_pct=-5), "takeProfitPct"),
        (Strategy(StrategyKind.SMA_CROSSOVER, take_profit_pct=float("nan")), "takeProfitPct"),
    ],
)
def test_impossible_strategies_are_refused_naming_the_parameter(
    strategy: Strategy, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        strategy.checked()
    assert refused.value.details == {"field": field}


@pytest.mark.parametrize("parameter", ["fast", "slow", "period"])
def test_a_parameter_of_zero_is_refused(parameter: str) -> None:
    with pytest.raises(InvalidInput):
        Strategy(StrategyKind.MACD_SIGNAL, **{parameter: 0}).checked()


@pytest.mark.parametrize(
    ("kind", "fast", "slow", "period"),
    [
        (StrategyKind.SMA_CROSSOVER, 10, 30, None),
        (StrategyKind.MACD_SIGNAL, 12, 26, 9),
        (StrategyKind.RSI_REVERSION, 10, 30, 14),
        (StrategyKind.BOLLINGER_REVERSION, 10, 30, 20),
    ],
)
def test_defaults_fill_in_per_strategy(
    kind: StrategyKind, fast: int, slow: int, period: int | None
) -> None:
    checked = Strategy(kind).checked()
    assert (checked.fast, checked.slow, checked.period) == (fast, slow, period)
    assert (checked.lower, checked.upper) == (30.0, 70.0)


def test_rsi_levels_may_span_0_to_100() -> None:
    checked = Strategy(StrategyKind.RSI_REVERSION, lower=0, upper=100).checked()
    assert (checked.lower, checked.upper) == (0, 100)


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_candles_cannot_be_backtested(count: int) -> None:
    bars = Bars(np.arange(count, dtype=np.int64) * 60, np.ones(count), np.ones(count))
    with pytest.raises(InvalidInput) as refused:
        run_backtest(bars, Strategy(StrategyKind.SMA_CROSSOVER), 1000.0, 0.0, 60)
    assert refused.value.details == {"field": "from"}


def test_two_flat_candles_trade_nothing_and_keep_the_cash() -> None:
    bars = Bars(np.array([0, 60]), np.array([5.0, 5.0]), np.array([5.0, 5.0]))
    result = run_backtest(bars, Strategy(StrategyKind.SMA_CROSSOVER, fast=1, slow=2), 1000.0, 0, 60)
    assert result.trade_count == 0
    assert result.final_equity == 1000.0
    assert result.max_drawdown == 0.0
    assert (result.win_rate, result.profit_factor, result.sharpe) == (None, None, None)
    assert result.equity_curve == [(0, 1000.0), (60, 1000.0)]
