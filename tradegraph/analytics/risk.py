"""Portfolio risk from current holdings and the daily closes of what is held.

Holdings-based (like a risk desk's VaR): today's weights applied to each instrument's daily
returns over the lookback, so a new portfolio has a risk profile from its first trade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

from tradegraph.documents import CandleInterval, Portfolio
from tradegraph.markets.candles import candles
from tradegraph.trading.portfolios import Portfolios
from tradegraph.trading.valuation import PortfolioValue

LOOKBACK = timedelta(days=365)
DAYS_PER_YEAR = 365
MIN_DAYS = 2


@dataclass(frozen=True)
class Risk:
    volatility: float | None
    value_at_risk_95: float | None
    beta: float | None
    concentration: float
    risk_score: float
    days: int


async def _daily_closes(symbol: str, from_: datetime, to: datetime) -> dict[datetime, float]:
    rows = await candles(symbol, CandleInterval.ONE_DAY, from_, to)
    return {row.start: float(row.close) for row in rows}


def _returns(closes: dict[datetime, float], days: list[datetime]) -> np.ndarray:
    prices = np.array([closes[day] for day in days])
    returns: np.ndarray = prices[1:] / prices[:-1] - 1
    return returns


def risk_score(volatility: float | None, concentration: float, beta: float | None) -> float:
    """0.4 * min(volatility / 0.8, 1) + 0.3 * concentration + 0.3 * min(|beta| / 2, 1); an
    unknown part counts as 0."""
    vol_part = min((volatility or 0.0) / 0.8, 1.0)
    beta_part = min(abs(beta or 0.0) / 2, 1.0)
    return round(0.4 * vol_part + 0.3 * concentration + 0.3 * beta_part, 6)


async def portfolio_risk(
    value: PortfolioValue, benchmark: str, now: datetime | None = None
) -> Risk:
    to = now or datetime.now(UTC)
    from_ = to - LOOKBACK
    held = [p for p in value.positions if p.market_value > 0]
    invested = sum(float(p.market_value) for p in held)
    concentration = sum((float(p.market_value) / invested) ** 2 for p in held) if invested else 0.0
    equity = float(value.equity)
    if not held or equity <= 0:
        return Risk(None, None, None, concentration, risk_score(None, concentration, None), 0)
    closes = {p.symbol: await _daily_closes(p.symbol, from_, to) for p in held}
    days = sorted(set.intersection(*(set(c) for c in closes.values())))
    if len(days) < MIN_DAYS + 1:
        return Risk(
            None, None, None, concentration, risk_score(None, concentration, None), len(days)
        )
    weights = {p.symbol: float(p.market_value) / equity for p in held}  # cash returns 0
    returns = sum(weights[s] * _returns(closes[s], days) for s in weights)
    volatility = float(np.std(returns, ddof=1) * math.sqrt(DAYS_PER_YEAR))
    var95 = float(max(-np.quantile(returns, 0.05), 0.0) * equity)
    beta = None
    bench = await _daily_closes(benchmark, from_, to)
    common = [day for day in days if day in bench]
    if len(common) >= MIN_DAYS + 1:
        # Returns between consecutive days both series have.
        own = sum(weights[s] * _returns(closes[s], common) for s in weights)
        theirs = _returns(bench, common)
        variance = float(np.var(theirs, ddof=1))
        if variance > 0:
            beta = float(np.cov(own, theirs, ddof=1)[0, 1] / variance)
    return Risk(
        volatility,
        var95,
        beta,
        concentration,
        risk_score(volatility, concentration, beta),
        len(days),
    )


class RiskAnalysis:
    """portfolioRisk: the holdings of a portfolio valued now, measured against the benchmark."""

    def __init__(self, portfolios: Portfolios, benchmark: str) -> None:
        self.portfolios = portfolios
        self.benchmark = benchmark

    async def assess(self, portfolio: Portfolio) -> Risk:
        return await portfolio_risk(await self.portfolios.value(portfolio), self.benchmark)
