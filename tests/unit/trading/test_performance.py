"""trading/performance.py: the moments an equity history is sampled at, the range defaults,
and period returns net of deposits. The measures themselves (total and time-weighted return,
drawdown, volatility, Sharpe, win rate) are computed inside the async `performance()` after
store reads, and equity_history's fold of the ledger likewise: not reachable here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from tests.support import unsaved
from tradegraph.documents import CandleInterval
from tradegraph.errors import InvalidInput
from tradegraph.trading.performance import (
    MAX_POINTS,
    EquityPoint,
    _moments,
    _period_returns,
    _range,
)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2024, 3, 1, hour, minute, tzinfo=UTC)


def point(equity: str, net_deposits: str) -> EquityPoint:
    return EquityPoint(unsaved.T0, Decimal(0), Decimal(equity), Decimal(net_deposits))


def test_moments_are_from_each_interval_end_in_between_and_to() -> None:
    assert _moments(at(10, 30), at(13), CandleInterval.ONE_HOUR) == [
        at(10, 30),
        at(11),
        at(12),
        at(13),
    ]


def test_moments_within_one_interval_are_just_from_and_to() -> None:
    assert _moments(at(10, 5), at(10, 50), CandleInterval.ONE_HOUR) == [at(10, 5), at(10, 50)]


def test_at_most_max_points_intervals_are_sampled() -> None:
    step = timedelta(minutes=1)
    assert len(_moments(at(0), at(0) + MAX_POINTS * step, CandleInterval.ONE_MINUTE)) == (
        MAX_POINTS + 1
    )
    with pytest.raises(InvalidInput) as refused:
        _moments(at(0), at(0) + (MAX_POINTS + 1) * step, CandleInterval.ONE_MINUTE)
    assert refused.value.details == {"field": "interval"}


def test_the_range_starts_at_the_portfolios_creation_by_default() -> None:
    portfolio = unsaved.portfolio(created_at=at(9))
    assert _range(portfolio, None, at(12)) == (at(9), at(12))


def test_a_range_that_does_not_move_forward_is_refused() -> None:
    portfolio = unsaved.portfolio()
    for from_ in (at(12), at(13)):
        with pytest.raises(InvalidInput) as refused:
            _range(portfolio, from_, at(12))
        assert refused.value.details == {"field": "from"}


def test_period_returns_leave_out_deposits_and_withdrawals() -> None:
    points = [point("100", "100"), point("160", "150"), point("120", "100")]
    # (160 - 50) / 100 - 1 = 0.1; then a withdrawal of 50: (120 + 50) / 160 - 1 = 0.0625.
    assert _period_returns(points) == [Decimal("0.1"), Decimal("0.0625")]


def test_no_return_is_measured_from_a_period_that_began_without_equity() -> None:
    points = [point("0", "0"), point("100", "100"), point("110", "100")]
    assert _period_returns(points) == [Decimal("0.1")]


@pytest.mark.parametrize("count", [0, 1])
def test_fewer_than_two_points_have_no_returns(count: int) -> None:
    assert _period_returns([point("100", "100")] * count) == []
