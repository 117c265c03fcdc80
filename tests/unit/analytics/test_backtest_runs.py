"""analytics/backtest_runs.py and run_market.py: what a backtest request must satisfy before
it is stored."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tradegraph.analytics.backtest_engine import Strategy, StrategyKind
from tradegraph.analytics.backtest_runs import BacktestRequest
from tradegraph.analytics.run_market import MAX_BARS
from tradegraph.documents import CandleInterval
from tradegraph.errors import InvalidInput

T0 = datetime(2024, 1, 1, tzinfo=UTC)
REQUEST = BacktestRequest(
    symbol="AAPL",
    interval=CandleInterval.ONE_MINUTE,
    from_=T0,
    to=T0 + timedelta(days=30),
    initial_cash=10_000.0,
    fee_bps=10.0,
    strategy=Strategy(StrategyKind.SMA_CROSSOVER),
)


def refused_field(request: BacktestRequest) -> str:
    with pytest.raises(InvalidInput) as refused:
        request.checked()
    return refused.value.details["field"]


def test_a_sensible_request_passes_unchanged() -> None:
    assert REQUEST.checked() is REQUEST


@pytest.mark.parametrize("to", [T0, T0 - timedelta(minutes=1)])
def test_the_range_must_move_forward(to: datetime) -> None:
    assert refused_field(replace(REQUEST, to=to)) == "from"


def test_at_most_max_bars_candles_per_backtest() -> None:
    minute = timedelta(minutes=1)
    replace(REQUEST, to=T0 + MAX_BARS * minute).checked()
    assert refused_field(replace(REQUEST, to=T0 + (MAX_BARS + 1) * minute)) == "to"
    # The same span at a larger interval holds fewer candles.
    replace(REQUEST, interval=CandleInterval.ONE_HOUR, to=T0 + (MAX_BARS + 1) * minute).checked()


@pytest.mark.parametrize("cash", [0.0, -1.0, float("nan")])
def test_initial_cash_must_be_positive(cash: float) -> None:
    assert refused_field(replace(REQUEST, initial_cash=cash)) == "initialCash"


@pytest.mark.parametrize("fee", [0.0, 1000.0])
def test_fees_from_0_to_1000_bps_are_accepted(fee: float) -> None:
    replace(REQUEST, fee_bps=fee).checked()


@pytest.mark.parametrize("fee", [-0.5, 1000.5, float("nan")])
def test_fees_outside_0_to_1000_bps_are_refused(fee: float) -> None:
    assert refused_field(replace(REQUEST, fee_bps=fee)) == "feeBps"


def test_the_strategy_is_checked_too() -> None:
    bad = Strategy(StrategyKind.SMA_CROSSOVER, fast=30, slow=10)
    assert refused_field(replace(REQUEST, strategy=bad)) == "fast"
