"""portfolioRisk on imported daily history, against numpy computations of the definitions."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.e2e.conftest import register
from tests.support.clients import GraphQLClient, error_code
from tests.support.number_format import near
from tests.support.trading import create_instrument, funded_portfolio, place, publish_quote

IMPORT = """mutation($symbol: String!, $candles: [CandleInput!]!) {
  importCandles(input: {symbol: $symbol, interval: ONE_DAY, candles: $candles})
}"""
RISK = """query($id: ID!) { portfolioRisk(portfolioId: $id) {
  volatility valueAtRisk95 beta concentration riskScore days
} }"""
DAYS = 60


def closes(seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return np.round(50 * np.exp(np.cumsum(rng.normal(0, 0.02, DAYS))), 2).tolist()


async def import_daily(gql: GraphQLClient, admin: str, symbol: str, values: list[float]) -> None:
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    candles = [
        {
            "start": (today - timedelta(days=DAYS - i)).isoformat(),
            "open": str(v),
            "high": str(v),
            "low": str(v),
            "close": str(v),
        }
        for i, v in enumerate(values)
    ]
    assert (await gql.data(IMPORT, {"symbol": symbol, "candles": candles}, admin))[
        "importCandles"
    ] == DAYS


async def test_risk_of_the_holdings_follows_the_documented_formulas(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale")
    await create_instrument(gql, admin_token, symbol="BOVA11", name="Ibovespa", assetClass="ETF")
    series = {"PETR4": closes(1), "VALE3": closes(2), "BOVA11": closes(3)}
    for symbol, values in series.items():
        await import_daily(gql, admin_token, symbol, values)
    pid = await funded_portfolio(gql, token, "10000")
    await publish_quote(gql, admin_token, "20.00", "20.00")
    await publish_quote(gql, admin_token, "40.00", "40.00", symbol="VALE3")
    await place(gql, token, pid, "BUY", "150")  # 3,000 in PETR4
    await place(gql, token, pid, "BUY", "25", symbol="VALE3")  # 1,000 in VALE3
    risk = (await gql.data(RISK, {"id": pid}, token))["portfolioRisk"]

    def returns(values: list[float]) -> np.ndarray:
        prices = np.array(values)
        return prices[1:] / prices[:-1] - 1

    # Today's bar comes from today's quotes (ticks); the benchmark has none today.
    petr4, vale3 = [*series["PETR4"], 20.0], [*series["VALE3"], 40.0]
    own = 0.3 * returns(petr4) + 0.1 * returns(vale3)  # weights of equity; cash earns 0
    volatility = float(np.std(own, ddof=1)) * math.sqrt(365)
    common = 0.3 * returns(series["PETR4"]) + 0.1 * returns(series["VALE3"])
    bench = returns(series["BOVA11"])
    beta = float(np.cov(common, bench)[0, 1] / np.var(bench, ddof=1))
    concentration = 0.75**2 + 0.25**2
    assert risk["days"] == DAYS + 1
    assert risk["volatility"] == pytest.approx(volatility)
    # money: a Decimal string at BRL's 2 decimals
    assert near(risk["valueAtRisk95"], 2, -np.quantile(own, 0.05) * 10000)
    assert risk["beta"] == pytest.approx(beta)
    assert risk["concentration"] == pytest.approx(concentration)
    assert risk["riskScore"] == pytest.approx(
        0.4 * min(volatility / 0.8, 1) + 0.3 * concentration + 0.3 * min(abs(beta) / 2, 1), abs=1e-6
    )
    assert 0 <= risk["riskScore"] <= 1

    stranger = (await register(gql, "stranger@example.com"))["accessToken"]
    assert error_code(await gql.error(RISK, {"id": pid}, stranger)) == "NOT_FOUND"


async def test_an_empty_portfolio_has_no_risk_figures(gql: GraphQLClient, trader: dict) -> None:
    pid = await funded_portfolio(gql, trader["accessToken"], "100")
    risk = (await gql.data(RISK, {"id": pid}, trader["accessToken"]))["portfolioRisk"]
    assert risk == {
        "volatility": None,
        "valueAtRisk95": None,
        "beta": None,
        "concentration": 0.0,
        "riskScore": 0.0,
        "days": 0,
    }
