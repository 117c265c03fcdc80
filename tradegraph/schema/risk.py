"""GraphQL type for a portfolio's risk figures."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from tradegraph import decimals
from tradegraph.analytics import risk as risk_rules


@strawberry.type(
    description="Risk of the current holdings over the last year of daily closes: today's "
    "weights applied to each held instrument's daily returns (cash returns 0)."
)
class PortfolioRisk:
    volatility: float | None = strawberry.field(
        description="Sample standard deviation of daily returns * sqrt(365); null with fewer "
        "than 3 common days."
    )
    value_at_risk_95: Decimal | None = strawberry.field(
        name="valueAtRisk95",
        description="Historical 1-day VaR at 95%, in the base currency at its cash decimals: "
        "-(5th percentile of daily returns) * equity, floored at 0.",
    )
    beta: float | None = strawberry.field(
        description="cov(portfolio, benchmark) / var(benchmark) of daily returns; the "
        "benchmark is TRADEGRAPH_RISK_BENCHMARK_SYMBOL."
    )
    concentration: float = strawberry.field(
        description="Herfindahl index of the positions' weights (sum of squared shares of the "
        "invested value): 1 = one position, 1/n = n equal positions, 0 = no positions."
    )
    risk_score: float = strawberry.field(
        description="In [0, 1]: 0.4 * min(volatility / 0.8, 1) + 0.3 * concentration + "
        "0.3 * min(|beta| / 2, 1); an unknown part counts as 0."
    )
    days: int = strawberry.field(description="Days of history the figures use.")

    @classmethod
    def from_value(cls, risk: risk_rules.Risk, currency: str) -> PortfolioRisk:
        """The figures, with the VaR (money in `currency`) at that currency's scale."""
        var = risk.value_at_risk_95
        cash = decimals.Scales.of(None, currency).cash
        return cls(**{**vars(risk), "value_at_risk_95": None if var is None else cash(var)})
