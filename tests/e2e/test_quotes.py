"""Quotes a widget can use: session statistics, the `quotes` snapshot query, a subscription that
starts from the latest quote, and new instruments priced by the simulated feed at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx

from tests.e2e.conftest import login_admin, server_settings
from tests.support.clients import GraphQLClient, connected, error_code
from tests.support.trading import create_instrument, dec, publish_quote
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

SESSION = """symbol bid ask mid last open high low previousClose change changePercent volume
  instrument { symbol currency }"""
QUOTES = f"query($symbols: [String!]!) {{ quotes(symbols: $symbols) {{ {SESSION} }} }}"
QUOTE = f"query($symbol: String!) {{ quote(symbol: $symbol) {{ {SESSION} }} }}"
LIVE = f"subscription($symbols: [String!]!) {{ quotes(symbols: $symbols) {{ {SESSION} }} }}"
BTC = {
    "symbol": "BTCUSDT",
    "name": "Bitcoin",
    "assetClass": "CRYPTO",
    "exchange": "BINANCE",
    "currency": "USDT",
    "timezone": "UTC",
    "sessionClose": "00:00:00",
}


def ago(**delta: float) -> str:
    return (datetime.now(UTC) - timedelta(**delta)).isoformat()


async def quote_at(gql: GraphQLClient, admin: str, mid: int, **when: float) -> None:
    """A one-cent-wide quote around `mid`, `when` ago."""
    await publish_quote(
        gql, admin, f"{mid - 0.01:.2f}", f"{mid + 0.01:.2f}", "BTCUSDT", timestamp=ago(**when)
    )


async def test_crypto_quote_reports_the_last_24_hours(gql: GraphQLClient, admin_token: str) -> None:
    await create_instrument(gql, admin_token, **BTC)
    await quote_at(gql, admin_token, 90, hours=25)  # before the window: the previous close
    await quote_at(gql, admin_token, 100, hours=2)
    await quote_at(gql, admin_token, 110, hours=1)
    await quote_at(gql, admin_token, 95, minutes=30)
    await quote_at(gql, admin_token, 105, seconds=1)

    quote = (await gql.data(QUOTE, {"symbol": "BTCUSDT"}, admin_token))["quote"]
    assert dec(quote["last"]) == dec(quote["mid"]) == 105
    assert (dec(quote["open"]), dec(quote["high"]), dec(quote["low"])) == (100, 110, 95)
    assert dec(quote["previousClose"]) == 90
    assert dec(quote["change"]) == 15
    assert quote["changePercent"] == "16.67"
    assert quote["instrument"] == {"symbol": "BTCUSDT", "currency": "USDT"}


async def test_a_trade_price_is_last_and_session_survives_a_fresh_read(
    gql: GraphQLClient, admin_token: str, services: Services
) -> None:
    await create_instrument(gql, admin_token, **BTC)
    await quote_at(gql, admin_token, 100, hours=3)
    await publish_quote(gql, admin_token, "101.00", "101.02", "BTCUSDT", last="101.01")
    services.market.sessions.forget()  # read again from the stored bars
    [quote] = (await gql.data(QUOTES, {"symbols": ["btcusdt"]}, admin_token))["quotes"]
    assert dec(quote["last"]) == dec("101.01")
    assert (dec(quote["open"]), dec(quote["high"]), dec(quote["low"])) == (100, dec("101.01"), 100)
    assert quote["previousClose"] is None
    assert quote["change"] is None


async def test_quotes_query_keeps_order_and_refuses_unknown_or_too_many(
    gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    await create_instrument(gql, admin_token, symbol="ITUB4", name="Itau PN")  # never quoted
    await publish_quote(gql, admin_token, "10.00", "10.02")
    await publish_quote(gql, admin_token, "60.00", "60.02", "VALE3")

    found = await gql.data(QUOTES, {"symbols": ["VALE3", "ITUB4", "PETR4"]}, admin_token)
    assert [q["symbol"] for q in found["quotes"]] == ["VALE3", "PETR4"]
    assert found["quotes"][1]["instrument"]["currency"] == "BRL"

    unknown = await gql.error(QUOTES, {"symbols": ["PETR4", "NOPE"]}, admin_token)
    assert error_code(unknown) == "NOT_FOUND"
    assert error_code(await gql.error(QUOTES, {"symbols": []}, admin_token)) == "BAD_USER_INPUT"
    many = [f"S{i}" for i in range(101)]
    assert error_code(await gql.error(QUOTES, {"symbols": many}, admin_token)) == "BAD_USER_INPUT"


async def test_subscription_sends_the_latest_quote_first_then_live_ones(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    await publish_quote(gql, admin_token, "10.00", "10.02")
    client = await connected(server.url, admin_token)
    await client.subscribe("1", LIVE, {"symbols": ["PETR4", "VALE3"]})
    first = await client.receive()
    assert first["type"] == "next", first
    snapshot = first["payload"]["data"]["quotes"]
    assert snapshot["symbol"] == "PETR4"  # VALE3 has no quote yet
    assert dec(snapshot["bid"]) == 10
    assert dec(snapshot["open"]) == dec("10.01")
    await publish_quote(gql, admin_token, "60.00", "60.02", "VALE3")
    live = (await client.receive())["payload"]["data"]["quotes"]
    assert live["symbol"] == "VALE3"
    assert dec(live["last"]) == dec("60.01")
    await publish_quote(gql, admin_token, "11.00", "11.02")
    live = (await client.receive())["payload"]["data"]["quotes"]
    assert (live["symbol"], dec(live["high"]), dec(live["low"])) == (
        "PETR4",
        dec("11.01"),
        dec("10.01"),
    )
    await client.close()


async def test_simulated_feed_prices_a_new_instrument_without_waiting_for_the_catalogue() -> None:
    # Ticks every 30 s and a catalogue read every 10 s: only the creation notice prices the
    # instrument within the 5 s this test waits.
    running = await start_server(
        server_settings(market_feed="simulated", simulated_tick_seconds=30)
    )
    try:
        async with httpx.AsyncClient(base_url=running.url) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin, symbol="NEW3", name="New ON")
            client = await connected(running.url, admin)
            await client.subscribe("1", LIVE, {"symbols": ["NEW3"]})
            message = await client.receive(timeout=5)
            assert message["type"] == "next", message
            assert message["payload"]["data"]["quotes"]["symbol"] == "NEW3"
            await client.close()
    finally:
        await running.stop()
