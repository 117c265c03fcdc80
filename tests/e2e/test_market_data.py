"""Instruments, the quote path, candles and the live quote feed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx

from tests.support.clients import GraphQLClient, connected, error_code, wait_for_subscribers
from tests.support.trading import (
    CREATE_INSTRUMENT,
    PETR4,
    PUBLISH_QUOTE,
    create_instrument,
    dec,
    publish_quote,
)
from tradegraph.markets.quotes import Quote, decode_quote, encode_quote
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import quote_channel
from tradegraph.server import RunningServer
from tradegraph.subscriptions.markets import quotes as live_quotes

INSTRUMENTS = """query($search: String, $assetClass: AssetClass) {
  instruments(search: $search, assetClass: $assetClass) { symbol }
}"""
CANDLES = """query($from: DateTime, $to: DateTime) {
  candles(symbol: "PETR4", interval: ONE_MINUTE, from: $from, to: $to) {
    start open high low close volume
  }
}"""
IMPORT = """mutation($candles: [CandleInput!]!) {
  importCandles(input: {symbol: "PETR4", interval: ONE_MINUTE, candles: $candles})
}"""
QUOTES = """subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol bid ask } }"""


async def test_instruments_are_admin_managed_unique_and_searchable(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await create_instrument(gql, admin_token)
    await create_instrument(
        gql, admin_token, symbol="hglg11", name="CSHG Logística", assetClass="REIT"
    )
    duplicate = await gql.error(CREATE_INSTRUMENT, {"input": PETR4}, admin_token)
    assert error_code(duplicate) == "CONFLICT"
    forbidden = await gql.error(
        CREATE_INSTRUMENT, {"input": {**PETR4, "symbol": "X"}}, trader["accessToken"]
    )
    assert error_code(forbidden) == "FORBIDDEN"
    bad = await gql.error(
        CREATE_INSTRUMENT, {"input": {**PETR4, "symbol": "Y", "tickSize": "0"}}, admin_token
    )
    assert error_code(bad) == "BAD_USER_INPUT"

    async def symbols(**variables: object) -> list[str]:
        data = await gql.data(INSTRUMENTS, variables, trader["accessToken"])
        return [i["symbol"] for i in data["instruments"]]

    assert await symbols() == ["HGLG11", "PETR4"]
    assert await symbols(search="petro") == ["PETR4"]  # by name, any case
    assert await symbols(search="glg") == ["HGLG11"]  # by symbol
    assert await symbols(assetClass="REIT") == ["HGLG11"]

    updated = await gql.data(
        'mutation { updateInstrument(symbol: "PETR4", input: {name: "Petrobras"}) '
        "{ name tickSize } }",
        token=admin_token,
    )
    assert updated["updateInstrument"] == {"name": "Petrobras", "tickSize": "0.01"}
    missing = await gql.error(
        'mutation { updateInstrument(symbol: "NOPE", input: {}) { name } }', token=admin_token
    )
    assert error_code(missing) == "NOT_FOUND"


async def test_publish_quote_checks_its_input_and_keeps_the_newest(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await create_instrument(gql, admin_token)
    crossed = await gql.error(
        PUBLISH_QUOTE, {"input": {"symbol": "PETR4", "bid": "10.01", "ask": "10.00"}}, admin_token
    )
    assert error_code(crossed) == "BAD_USER_INPUT"
    unknown = await gql.error(
        PUBLISH_QUOTE, {"input": {"symbol": "NOPE", "bid": "1", "ask": "2"}}, admin_token
    )
    assert error_code(unknown) == "NOT_FOUND"
    trader_try = await gql.error(
        PUBLISH_QUOTE, {"input": {"symbol": "PETR4", "bid": "1", "ask": "2"}}, trader["accessToken"]
    )
    assert error_code(trader_try) == "FORBIDDEN"
    query = '{ quote(symbol: "PETR4") { bid ask mid } }'
    assert (await gql.data(query, token=trader["accessToken"]))["quote"] is None

    now = datetime.now(UTC)
    await publish_quote(gql, admin_token, "10.00", "10.10", timestamp=now.isoformat())
    older = (now - timedelta(seconds=5)).isoformat()
    await publish_quote(gql, admin_token, "9.00", "9.10", timestamp=older)  # late arrival
    latest = (await gql.data(query, token=trader["accessToken"]))["quote"]
    assert (dec(latest["bid"]), dec(latest["ask"]), dec(latest["mid"])) == (
        dec("10.00"),
        dec("10.10"),
        dec("10.05"),
    )


async def test_candles_aggregate_ticks_and_imported_history_wins_its_bucket(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await create_instrument(gql, admin_token)
    minute = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    for second, (bid, ask) in enumerate(
        [("10.00", "10.20"), ("10.40", "10.60"), ("9.80", "10.00"), ("10.20", "10.40")]
    ):
        moment = minute + timedelta(seconds=10 * second + 1)
        await publish_quote(gql, admin_token, bid, ask, timestamp=moment.isoformat())
    window = {
        "from": (minute - timedelta(minutes=2)).isoformat(),
        "to": (minute + timedelta(minutes=1)).isoformat(),
    }
    (candle,) = (await gql.data(CANDLES, window, trader["accessToken"]))["candles"]
    assert datetime.fromisoformat(candle["start"]) == minute
    assert [dec(candle[k]) for k in ("open", "high", "low", "close")] == [
        dec("10.10"),
        dec("10.50"),
        dec("9.90"),
        dec("10.30"),
    ]

    earlier = minute - timedelta(minutes=1)
    history = [
        {
            "start": earlier.isoformat(),
            "open": "9",
            "high": "11",
            "low": "8.5",
            "close": "10",
            "volume": "1200",
        },
        {"start": minute.isoformat(), "open": "1", "high": "2", "low": "1", "close": "2"},
    ]
    assert (await gql.data(IMPORT, {"candles": history}, admin_token))["importCandles"] == 2
    assert (await gql.data(IMPORT, {"candles": history}, admin_token))["importCandles"] == 0
    merged = (await gql.data(CANDLES, window, trader["accessToken"]))["candles"]
    assert [(dec(c["open"]), dec(c["close"])) for c in merged] == [(9, 10), (1, 2)]
    assert dec(merged[0]["volume"]) == 1200

    unaligned = [{**history[0], "start": (earlier + timedelta(seconds=7)).isoformat()}]
    error = await gql.error(IMPORT, {"candles": unaligned}, admin_token)
    assert error_code(error) == "BAD_USER_INPUT"
    backwards = await gql.error(
        CANDLES, {"from": window["to"], "to": window["from"]}, trader["accessToken"]
    )
    assert error_code(backwards) == "BAD_USER_INPUT"


async def test_quote_subscription_receives_published_quotes_and_refuses_unknown_symbols(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    await create_instrument(gql, admin_token)
    client = await connected(server.url, trader["accessToken"])
    await client.subscribe("bad", QUOTES, {"symbols": ["PETR4", "NOPE"]})
    refused = await client.receive()
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert await client.receive() == {"id": "bad", "type": "complete"}

    await client.subscribe("q", QUOTES, {"symbols": ["petr4"]})
    await wait_for_subscribers(http, quote_channel("PETR4"), 1)
    await publish_quote(gql, admin_token, "10.00", "10.10")
    message = await client.receive()
    assert message["payload"]["data"]["quotes"] == {
        "symbol": "PETR4",
        "bid": "10.00",
        "ask": "10.10",
    }
    await client.close()


async def test_a_slow_quote_reader_gets_the_newest_quote_per_symbol() -> None:
    broker = Broker("memory://", max_queued_per_subscriber=5)
    await broker.connect()
    broker.set_decoder("tradegraph.quotes.", decode_quote)
    try:
        stream = live_quotes(broker, ["AAA", "BBB"])
        assert isinstance(stream, AsyncGenerator)  # an async generator: closed below
        reader = asyncio.ensure_future(anext(stream))
        while broker.subscriber_counts().get(quote_channel("AAA")) != 1:  # noqa: ASYNC110
            await asyncio.sleep(0)  # no event marks an open subscription: yield until it is
        now = datetime.now(UTC)
        for n in range(1, 201):  # far more than the queue bound, none read yet
            for symbol in ("AAA", "BBB"):
                quote = Quote(symbol, Decimal(n), Decimal(n + 1), now)
                await broker.publish(quote_channel(symbol), encode_quote(quote))
        received = [await asyncio.wait_for(reader, 5)]
        while len(received) < 2 or received[-1].bid != 200:
            received.append(await asyncio.wait_for(anext(stream), 5))
        # The first quote was already being handed over; after it, only the newest per symbol.
        assert len(received) <= 4
        assert {(q.symbol, q.bid) for q in received[-2:]} == {("AAA", 200), ("BBB", 200)}
        await stream.aclose()
    finally:
        await broker.disconnect()
