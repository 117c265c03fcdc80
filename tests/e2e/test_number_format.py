"""One number format: money and prices are Decimal strings with a fixed scale per field (prices
at the instrument's tick decimals, cash at the currency's), and event aggregates carry no
binary float artefacts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from tests.e2e.conftest import login_admin, server_settings
from tests.support.clients import GraphQLClient, send_webhook
from tests.support.trading import (
    CREATE_PORTFOLIO,
    DEPOSIT,
    create_instrument,
    funded_portfolio,
    place,
    publish_quote,
)
from tradegraph.server import start_server

QUOTE = 'query { quote(symbol: "PETR4") { bid ask mid last open high low } }'
PORTFOLIO = """query($id: ID!) { portfolio(id: $id) { cash availableCash equity unrealizedPnl
  realizedPnl dayPnl } }"""
SUMMARY = """query($from: DateTime!, $to: DateTime!) { eventSummary(from: $from, to: $to) {
  totalValue averageTicket byType { totalValue averageValue } series(bucket: DAY) { totalValue }
} }"""
RUN = """mutation($input: BacktestInput!) { runBacktest(input: $input) { initialCash } }"""
POSITIONS = """query($id: ID!) { portfolio(id: $id) {
  positions { averageCost marketPrice marketValue unrealizedPnl realizedPnl } } }"""
CANDLES = """query($from: DateTime!, $to: DateTime!) {
  candles(symbol: "PETR4", interval: ONE_MINUTE, from: $from, to: $to) { open high low close } }"""
ORDER = """query($id: ID!) { order(id: $id) { status averageFillPrice fills { price fee } } }"""
IMPORT = """mutation($candles: [CandleInput!]!) {
  importCandles(input: {symbol: "PETR4", interval: ONE_MINUTE, candles: $candles}) }"""


async def test_quote_prices_have_the_tick_decimals(gql: GraphQLClient, admin_token: str) -> None:
    await create_instrument(gql, admin_token)  # tick 0.01
    await publish_quote(gql, admin_token, "37.5", "37.5200")
    quote = (await gql.data(QUOTE, None, admin_token))["quote"]
    assert quote == {
        "bid": "37.50",
        "ask": "37.52",
        "mid": "37.510",  # a mid may fall between ticks: one more decimal
        "last": "37.510",
        "open": "37.51",
        "high": "37.51",
        "low": "37.51",
    }


async def test_cash_has_the_currency_decimals(gql: GraphQLClient, admin_token: str) -> None:
    brl = await gql.data(CREATE_PORTFOLIO, {"name": "B", "currency": "BRL"}, admin_token)
    usdt = await gql.data(CREATE_PORTFOLIO, {"name": "C", "currency": "USDT"}, admin_token)
    for created, amount, expected in (
        (brl, "9624.9", "9624.90"),
        (usdt, "12.5", "12.50000000"),
    ):
        portfolio_id = created["createPortfolio"]["id"]
        deposited = await gql.data(DEPOSIT, {"id": portfolio_id, "amount": amount}, admin_token)
        assert deposited["deposit"]["cash"] == expected
        found = (await gql.data(PORTFOLIO, {"id": portfolio_id}, admin_token))["portfolio"]
        assert found["cash"] == found["availableCash"] == found["equity"] == expected
        zero = "0." + "0" * (len(expected) - expected.index(".") - 1)
        assert found["unrealizedPnl"] == found["realizedPnl"] == found["dayPnl"] == zero


async def test_event_aggregates_have_no_float_artefacts(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    now = datetime.now(UTC)
    values = [0.1, 0.2, 0.7, 1.1, 2.2]  # summed as floats: 4.300000000000001
    events = [
        {"userId": "u1", "type": "purchase", "value": v, "timestamp": now.isoformat()}
        for v in values
    ]
    assert (await send_webhook(http, events, "artefacts")).json()["stored"] == len(values)
    window = {"from": (now - timedelta(days=1)).isoformat(), "to": (now + timedelta(1)).isoformat()}
    found = (await gql.data(SUMMARY, window, admin_token))["eventSummary"]
    assert found["totalValue"] == 4.3
    assert found["averageTicket"] == 0.86
    assert found["byType"] == [{"totalValue": 4.3, "averageValue": 0.86}]
    assert [p["totalValue"] for p in found["series"] if p["totalValue"]] == [4.3]


async def test_backtest_initial_cash_is_a_decimal_at_the_currency_scale(
    gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    start = datetime(2026, 11, 20, 10, tzinfo=UTC)
    candles = [
        {"start": (start + timedelta(minutes=i)).isoformat(), "open": "10", "high": "10",
         "low": "10", "close": "10"}
        for i in range(40)
    ]  # fmt: skip
    await gql.data(IMPORT, {"candles": candles}, admin_token)
    run = {
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        "from": start.isoformat(),
        "to": (start + timedelta(minutes=40)).isoformat(),
        "initialCash": "10000",
        "strategy": {"kind": "SMA_CROSSOVER", "fast": 2, "slow": 5},
    }
    assert (await gql.data(RUN, {"input": run}, admin_token))["runBacktest"] == {
        "initialCash": "10000.00"
    }


async def test_order_prices_have_the_tick_decimals(gql: GraphQLClient, admin_token: str) -> None:
    await create_instrument(gql, admin_token)
    await publish_quote(gql, admin_token, "37.5", "37.6")
    portfolio_id = await funded_portfolio(gql, admin_token, "10000")
    resting = await place(
        gql, admin_token, portfolio_id, "BUY", "10", type="LIMIT", limitPrice="30.1",
        timeInForce="GTC",
    )  # fmt: skip
    assert resting["limitPrice"] == "30.10"
    filled = await place(gql, admin_token, portfolio_id, "BUY", "10")
    assert filled["status"] == "FILLED"
    assert [fill["price"] for fill in filled["fills"]] == ["37.60"]
    assert filled["averageFillPrice"] == "37.60"


async def test_positions_and_candles_show_prices_at_the_tick_and_amounts_as_cash(
    gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)  # tick 0.01, BRL
    portfolio_id = await funded_portfolio(gql, admin_token, "10000")
    await publish_quote(gql, admin_token, "37.5", "37.6")
    await place(gql, admin_token, portfolio_id, "BUY", "1")
    await publish_quote(gql, admin_token, "37.5", "37.61")
    await place(gql, admin_token, portfolio_id, "BUY", "2")
    found = (await gql.data(POSITIONS, {"id": portfolio_id}, admin_token))["portfolio"]
    (position,) = found["positions"]
    assert position == {
        "averageCost": "37.61",  # 112.82 / 3 = 37.60666…, at the tick's 2 decimals
        "marketPrice": "37.555",  # the mid, one more decimal
        "marketValue": "112.66",  # 3 * 37.555 = 112.665, half-even
        "unrealizedPnl": "-0.16",  # 112.665 - 112.82 = -0.155, half-even
        "realizedPnl": "0.00",
    }
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=1)
    await gql.data(
        IMPORT,
        {"candles": [{"start": minute.isoformat(), "open": "10", "high": "10.5", "low": "9.995",
                      "close": "10.1"}]},
        admin_token,
    )  # fmt: skip
    window = {"from": minute.isoformat(), "to": (minute + timedelta(minutes=1)).isoformat()}
    (candle,) = (await gql.data(CANDLES, window, admin_token))["candles"]
    assert candle == {"open": "10.000", "high": "10.500", "low": "9.995", "close": "10.100"}


async def test_average_fill_prices_have_the_tick_and_fees_whole_units_of_cash() -> None:
    running = await start_server(server_settings(fee_bps=Decimal(10)))
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)  # tick 0.01, BRL
            portfolio_id = await funded_portfolio(gql, admin, "10000")
            await publish_quote(gql, admin, "37.5", "37.6", askSize="1")
            order = await place(
                gql, admin, portfolio_id, "BUY", "3", type="LIMIT", limitPrice="38",
                timeInForce="GTC",
            )  # fmt: skip
            assert order["status"] == "PARTIALLY_FILLED"
            await publish_quote(gql, admin, "37.5", "37.61", askSize="2")
            found = (await gql.data(ORDER, {"id": order["id"]}, admin))["order"]
    finally:
        await running.stop()
    assert found["status"] == "FILLED"
    # (37.60 + 2 * 37.61) / 3 = 37.60666…, shown at the tick's 2 decimals
    assert found["averageFillPrice"] == "37.61"
    # fees 10 bps: 0.0376 and 0.07522, charged in whole centavos (down), so cash stays exact
    assert [(f["price"], f["fee"]) for f in found["fills"]] == [
        ("37.60", "0.03"),
        ("37.61", "0.07"),
    ]
