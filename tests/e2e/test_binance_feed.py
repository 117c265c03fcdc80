"""The Binance feed against a local WebSocket server replaying Binance's message shapes,
including a dropped connection: the feed reconnects and quotes keep flowing."""

from __future__ import annotations

import asyncio
import json
import random
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient, connected, wait_for_subscribers
from tests.support.servers import start_tradegraph
from tests.support.trading import CREATE_INSTRUMENT, dec
from tradegraph.markets.binance import backoff_delay

# Recorded shapes: a combined-stream envelope around bookTicker and trade payloads.
BOOK_1 = {
    "stream": "btcusdt@bookTicker",
    "data": {
        "u": 400900217,
        "s": "BTCUSDT",
        "b": "97000.10",
        "B": "0.75",
        "a": "97000.20",
        "A": "1.20",
    },
}
TRADE = {
    "stream": "btcusdt@trade",
    "data": {
        "e": "trade",
        "E": 1732000000123,
        "s": "BTCUSDT",
        "t": 12345,
        "p": "97000.15",
        "q": "0.03000",
        "T": 1732000000120,
        "m": True,
        "M": True,
    },
}
BOOK_2 = {
    "stream": "btcusdt@bookTicker",
    "data": {
        "u": 400900230,
        "s": "BTCUSDT",
        "b": "97010.00",
        "B": "0.50",
        "a": "97010.50",
        "A": "0.40",
    },
}
QUOTES = 'subscription { quotes(symbols: ["BTCUSDT"]) { symbol bid ask bidSize askSize } }'
BTC = {
    "symbol": "BTCUSDT",
    "name": "Bitcoin / Tether",
    "assetClass": "CRYPTO",
    "exchange": "BINANCE",
    "currency": "USDT",
    "tickSize": "0.01",
    "lotSize": "0.00001",
}


class ReplayServer:
    """Serves /stream like Binance. The first connection sends a quote and a trade, then
    drops without a closing handshake; later ones send the next quote and stay open."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        self.go = asyncio.Event()

    async def handle(self, socket: ServerConnection) -> None:
        assert socket.request is not None
        self.paths.append(socket.request.path)
        await self.go.wait()
        if len(self.paths) == 1:
            await socket.send(json.dumps(BOOK_1))
            await socket.send(json.dumps(TRADE))
            socket.transport.abort()  # a dropped connection, not a clean close
            return
        await socket.send(json.dumps(BOOK_2))
        await socket.wait_closed()


@pytest.fixture
async def replay() -> AsyncIterator[tuple[ReplayServer, str]]:
    replay = ReplayServer()
    async with serve(replay.handle, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        yield replay, f"ws://127.0.0.1:{port}"


async def test_binance_feed_turns_streams_into_quotes_and_survives_a_drop(
    replay: tuple[ReplayServer, str],
) -> None:
    replay_server, url = replay
    process = await start_tradegraph(
        {
            "TRADEGRAPH_MARKET_FEED": "binance",
            "TRADEGRAPH_BINANCE_URL": url,
            "TRADEGRAPH_BINANCE_SYMBOLS": "BTCUSDT",
            "TRADEGRAPH_MONGODB_DATABASE": f"tradegraph_test_{uuid.uuid4().hex[:12]}",
            **ADMIN_ENV,
        }
    )
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as http:
            gql = GraphQLClient(http)
            token = await login_admin(gql)
            await gql.data(CREATE_INSTRUMENT, {"input": BTC}, token)
            client = await connected(process.url, token)
            await client.subscribe("q", QUOTES)
            await wait_for_subscribers(http, "tradegraph.quotes.BTCUSDT", 1)
            started = datetime.now(UTC)
            replay_server.go.set()

            first = (await client.receive())["payload"]["data"]["quotes"]
            assert first == {
                "symbol": "BTCUSDT",
                "bid": "97000.10",
                "ask": "97000.20",
                "bidSize": "0.75",
                "askSize": "1.20",
            }
            second = (await client.receive())["payload"]["data"]["quotes"]
            assert (second["bid"], second["ask"]) == ("97010.00", "97010.50")
            await client.close()

            assert len(replay_server.paths) == 2  # reconnected after the drop
            assert replay_server.paths[0] == "/stream?streams=btcusdt@bookTicker/btcusdt@trade"
            # The trade between the two quotes is the second quote's volume.
            window = {
                "from": (started - timedelta(minutes=2)).isoformat(),
                "to": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(),
            }
            query = """query($from: DateTime, $to: DateTime) {
              candles(symbol: "BTCUSDT", interval: ONE_HOUR, from: $from, to: $to) { volume }
            }"""
            candles = (await gql.data(query, window, token))["candles"]
            assert sum(dec(c["volume"]) for c in candles) == dec("0.03")
    finally:
        await process.stop()


def test_reconnect_delays_grow_exponentially_with_full_jitter_up_to_a_cap() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(0, 0.5), (1, 1.0), (3, 4.0), (6, 30.0), (20, 30.0)]:
        delays = [backoff_delay(attempt, rng) for _ in range(500)]
        assert all(0 <= delay <= ceiling for delay in delays)
        assert max(delays) > 0.9 * ceiling  # full jitter spreads over the whole range
        assert min(delays) < 0.1 * ceiling
