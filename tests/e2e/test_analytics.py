"""Indicators and backtests over GraphQL, on imported candles."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from tests.e2e.conftest import register
from tests.support import reference_indicators as reference
from tests.support.clients import GraphQLClient, connected, error_code
from tests.support.number_format import at_scale, near
from tests.support.reference_backtest import backtest as reference_backtest
from tests.support.reference_statistics import reference_statistics
from tests.support.trading import create_instrument
from tradegraph.server import RunningServer

IMPORT = """mutation($candles: [CandleInput!]!) {
  importCandles(input: {symbol: "PETR4", interval: ONE_MINUTE, candles: $candles})
}"""
INDICATORS = """query($from: DateTime, $to: DateTime, $specs: [IndicatorSpec!]!) {
  indicators(symbol: "PETR4", interval: ONE_MINUTE, from: $from, to: $to, specs: $specs) {
    name points { time value upper middle lower signal histogram }
  }
}"""
RUN = """mutation($input: BacktestInput!) { runBacktest(input: $input) { id status progress } }"""
PROGRESS = """subscription($id: ID!) { backtestProgress(id: $id) {
  status progress error bars
  result { finalEquity totalReturn tradeCount maxDrawdown sharpe sortino winRate profitFactor
           calmar expectancy sqn exposure buyAndHoldReturn totalFees maxDrawdownDuration
           averageWin averageLoss bestTrade worstTrade
           trades { entryTime entryPrice exitTime exitPrice pnl } equityCurve { time equity } }
} }"""
START = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
MONEY_STATISTICS = (
    "expectancy",
    "totalFees",
    "averageWin",
    "averageLoss",
    "bestTrade",
    "worstTrade",
)


def walk(n: int, seed: int = 3) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    closes = np.round(100 * np.exp(np.cumsum(rng.normal(0, 0.01, n))), 2)
    opens = np.round(np.concatenate(([100.0], closes[:-1])), 2)
    return opens.tolist(), closes.tolist()


async def load(gql: GraphQLClient, admin: str, opens: list[float], closes: list[float]) -> None:
    await create_instrument(gql, admin)
    candles = [
        {
            "start": (START + timedelta(minutes=i)).isoformat(),
            "open": str(o),
            "high": str(max(o, c)),
            "low": str(min(o, c)),
            "close": str(c),
        }
        for i, (o, c) in enumerate(zip(opens, closes, strict=True))
    ]
    assert (await gql.data(IMPORT, {"candles": candles}, admin))["importCandles"] == len(candles)


def window(n: int) -> dict[str, str]:
    return {"from": START.isoformat(), "to": (START + timedelta(minutes=n)).isoformat()}


async def test_indicators_follow_their_definitions_and_start_where_defined(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    opens, closes = walk(80)
    await load(gql, admin_token, opens, closes)
    specs = [
        {"kind": "SMA", "period": 5},
        {"kind": "EMA", "period": 10},
        {"kind": "RSI", "period": 14},
        {"kind": "MACD", "fast": 5, "slow": 10, "signal": 4},
        {"kind": "BOLLINGER", "period": 20, "stddev": 2},
    ]
    series = (await gql.data(INDICATORS, {**window(80), "specs": specs}, trader["accessToken"]))[
        "indicators"
    ]
    assert [s["name"] for s in series] == [
        "SMA(5)",
        "EMA(10)",
        "RSI(14)",
        "MACD(5,10,4)",
        "BOLLINGER(20,2)",
    ]
    sma, ema, rsi, macd, bands = (s["points"] for s in series)
    expected_sma = [v for v in reference.sma(closes, 5) if v is not None]
    assert [p["value"] for p in sma] == pytest.approx(expected_sma)
    assert datetime.fromisoformat(sma[0]["time"]) == START + timedelta(minutes=4)
    assert (sma[0]["upper"], sma[0]["signal"]) == (None, None)
    assert [p["value"] for p in ema] == pytest.approx(
        [v for v in reference.ema(closes, 10) if v is not None]
    )
    assert [p["value"] for p in rsi] == pytest.approx(
        [v for v in reference.rsi(closes, 14) if v is not None]
    )
    expected_macd = [v for v in reference.macd(closes, 5, 10, 4) if v is not None]
    for index, key in enumerate(("value", "signal", "histogram")):
        assert [p[key] for p in macd] == pytest.approx([row[index] for row in expected_macd])
    assert len(macd) == 80 - (10 + 4 - 2)
    expected_bands = [v for v in reference.bollinger(closes, 20, 2.0) if v is not None]
    for index, key in enumerate(("upper", "middle", "lower")):
        assert [p[key] for p in bands] == pytest.approx([row[index] for row in expected_bands])
    assert bands[0]["value"] is None

    for bad in ({"kind": "SMA", "period": 0}, {"kind": "MACD", "fast": 26, "slow": 12}):
        error = await gql.error(INDICATORS, {**window(80), "specs": [bad]}, trader["accessToken"])
        assert error_code(error) == "BAD_USER_INPUT"


async def follow(server: RunningServer, token: str, run_id: str) -> list[dict]:
    client = await connected(server.url, token)
    await client.subscribe("p", PROGRESS, {"id": run_id})
    updates = []
    async with asyncio.timeout(30):
        while (message := await client.receive())["type"] == "next":
            assert "errors" not in message["payload"], message
            updates.append(message["payload"]["data"]["backtestProgress"])
    assert message == {"id": "p", "type": "complete"}
    await client.close()
    return updates


async def test_backtest_runs_in_the_background_and_matches_the_reference(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    opens, closes = walk(600)
    await load(gql, admin_token, opens, closes)
    token = trader["accessToken"]
    strategy = {"kind": "SMA_CROSSOVER", "fast": 5, "slow": 20, "stopLossPct": 3}
    started = (
        await gql.data(
            RUN,
            {
                "input": {
                    "symbol": "PETR4",
                    "interval": "ONE_MINUTE",
                    **window(600),
                    "initialCash": "10000",
                    "feeBps": 10,
                    "strategy": strategy,
                }
            },
            token,
        )
    )["runBacktest"]
    assert started["status"] in ("QUEUED", "RUNNING", "COMPLETED")
    updates = await follow(server, token, started["id"])
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress)
    final = updates[-1]
    assert (final["status"], final["progress"], final["bars"]) == ("COMPLETED", 1.0, 600)

    frame = pd.DataFrame(
        {
            "time": [int((START + timedelta(minutes=i)).timestamp()) for i in range(600)],
            "open": opens,
            "close": closes,
        }
    )
    trades, equity = reference_backtest(
        frame, "SMA_CROSSOVER", {"fast": 5, "slow": 20, "stopLossPct": 3}, 10_000, 10
    )
    result = final["result"]
    assert result["tradeCount"] == len(trades) > 3
    # money as Decimal strings at BRL's 2 decimals, prices at the 0.01 tick's 2
    assert near(result["finalEquity"], 2, equity[-1])
    for found, reference_trade in zip(result["trades"], trades, strict=True):
        assert near(found["pnl"], 2, reference_trade["pnl"])
        assert at_scale(found["entryPrice"], 2) == Decimal(repr(reference_trade["entry_price"]))
        assert at_scale(found["exitPrice"], 2) == Decimal(repr(reference_trade["exit_price"]))
    assert all(at_scale(point["equity"], 2) > 0 for point in result["equityCurve"])
    assert near(result["equityCurve"][-1]["equity"], 2, equity[-1])
    expected = reference_statistics(frame, trades, equity, 10_000, 10, 60)
    money = {name: expected.pop(name) for name in MONEY_STATISTICS}
    assert all(
        value is not None and near(result[name], 2, value) for name, value in money.items()
    ), money
    assert {name: result[name] for name in expected} == pytest.approx(expected)

    listed = await gql.data(
        "{ backtests { edges { cursor node { id status } } pageInfo { hasNextPage endCursor }"
        " totalCount } }",
        token=token,
    )
    (edge,) = listed["backtests"]["edges"]
    assert edge["node"] == {"id": started["id"], "status": "COMPLETED"}
    assert listed["backtests"]["pageInfo"] == {"hasNextPage": False, "endCursor": edge["cursor"]}
    assert listed["backtests"]["totalCount"] == 1
    stranger = (await register(gql, "stranger@example.com"))["accessToken"]
    hidden = await gql.error(f'{{ backtest(id: "{started["id"]}") {{ status }} }}', token=stranger)
    assert error_code(hidden) == "NOT_FOUND"


async def test_a_backtest_without_candles_fails_with_a_reason_and_bad_input_is_refused(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await create_instrument(gql, admin_token)
    token = trader["accessToken"]
    base = {
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        **window(60),
        "initialCash": "1000",
        "strategy": {"kind": "RSI_REVERSION"},
    }
    run = (await gql.data(RUN, {"input": base}, token))["runBacktest"]
    final = (await follow(server, token, run["id"]))[-1]
    assert final["status"] == "FAILED"
    assert "fewer than 2 candles" in final["error"]
    for change in (
        {"initialCash": "0"},
        {"feeBps": -1},
        {"strategy": {"kind": "SMA_CROSSOVER", "fast": 30, "slow": 10}},
        {"from": window(60)["to"], "to": window(60)["from"]},
    ):
        error = await gql.error(RUN, {"input": {**base, **change}}, token)
        assert error_code(error) == "BAD_USER_INPUT", change
