"""analytics/risk.py: the risk score formula and daily returns. Concentration, weights, VaR
and beta are computed inside the async portfolio_risk() after candle reads; only its
early answer for a portfolio with nothing invested is reachable without the store."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from decimal import Decimal

import numpy as np
import pytest

from tests.support import unsaved
from tradegraph.analytics.risk import _returns, portfolio_risk, risk_score
from tradegraph.trading.valuation import PortfolioValue, value_position


@pytest.mark.parametrize(
    ("volatility", "concentration", "beta", "score"),
    [
        (None, 0.0, None, 0.0),  # unknown parts count as 0
        (0.4, 0.5, 1.0, 0.2 + 0.15 + 0.15),
        (0.8, 1.0, 2.0, 1.0),  # each part saturates at 1
        (3.0, 1.0, -5.0, 1.0),  # beyond saturation; |beta|
        (0.2, 0.25, -0.5, 0.1 + 0.075 + 0.075),
    ],
)
def test_the_score_weighs_volatility_concentration_and_beta_0_4_0_3_0_3(
    volatility: float | None, concentration: float, beta: float | None, score: float
) -> None:
    assert risk_score(volatility, concentration, beta) == pytest.approx(score, abs=1e-12)


def test_the_score_is_rounded_to_6_places() -> None:
    assert risk_score(0.1, 1 / 3, None) == 0.15


def test_daily_returns_follow_the_days_given() -> None:
    days = [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]
    closes = {days[0]: 100.0, days[1]: 110.0, days[2]: 99.0, datetime(2024, 1, 9): 1.0}
    assert np.allclose(_returns(closes, days), [0.1, -0.1])


def value(cash: str, *positions: tuple[str, str, str]) -> PortfolioValue:
    held = [
        value_position(
            unsaved.position(symbol=s, quantity=Decimal(q), cost_basis=Decimal(c)), "STOCK", None
        )
        for s, q, c in positions
    ]
    total = Decimal(cash) + sum((p.market_value for p in held), Decimal(0))
    return PortfolioValue("p", Decimal(cash), total, Decimal(0), Decimal(0), held, unsaved.T0)


def test_all_cash_has_no_risk_figures_and_no_concentration() -> None:
    risk = asyncio.run(portfolio_risk(value("1000"), "SPY"))
    assert (risk.volatility, risk.value_at_risk_95, risk.beta, risk.days) == (None, None, None, 0)
    assert (risk.concentration, risk.risk_score) == (0.0, 0.0)


def test_without_positive_equity_only_concentration_is_scored() -> None:
    # Holdings worth 300 and 100 against cash of -400: concentration 0.75² + 0.25².
    risk = asyncio.run(portfolio_risk(value("-400", ("A", "3", "300"), ("B", "1", "100")), "SPY"))
    assert risk.volatility is None
    assert risk.concentration == pytest.approx(0.625)
    assert risk.risk_score == pytest.approx(0.3 * 0.625)
