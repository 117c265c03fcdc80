"""Execute once, send many: subscribers of the same public document (quotes, candles) share one
execution; other selections or variables get their own; one member leaving ends nobody else's
subscription; a slow member still gets only the newest quote per symbol."""

from __future__ import annotations

import json
import re
import socket

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.e2e.conftest import login_admin, register, server_settings
from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    wait_for_subscribers,
)
from tests.support.trading import create_instrument, publish_quote
from tradegraph.pubsub.channels import channel_kind, quote_channel
from tradegraph.server import RunningServer, start_server

QUOTES = "subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol bid } }"
QUOTES_ASK = "subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol ask } }"
PETR4 = {"symbols": ["PETR4"]}
VALE3 = {"symbols": ["VALE3"]}
CHANNEL = quote_channel("PETR4")


async def sources(http: httpx.AsyncClient) -> int:
    """Quote subscriptions the server iterates and executes (shared ones count once)."""
    response = await http.get("/metrics")
    kind = re.escape(channel_kind(CHANNEL))
    found = re.search(
        rf'^tradegraph_subscription_sources{{kind="{kind}"}} (\S+)$', response.text, re.MULTILINE
    )
    assert found, response.text
    return int(float(found.group(1)))


async def next_data(client: TransportWS) -> tuple[str, dict]:
    message = await client.receive()
    assert message["type"] == "next", message
    return message["id"], message["payload"]["data"]["quotes"]


async def test_same_document_shares_one_execution_other_selections_and_variables_do_not(
    server: RunningServer, http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    trader = (await register(gql, "shared@example.com"))["accessToken"]
    first = await connected(server.url, admin_token)
    second = await connected(server.url, trader)  # another user: public data is shared too
    asking = await connected(server.url, trader)
    other_symbol = await connected(server.url, trader)
    await first.subscribe("a", QUOTES, PETR4)
    await second.subscribe("b", QUOTES, PETR4)
    await asking.subscribe("c", QUOTES_ASK, PETR4)
    await other_symbol.subscribe("d", QUOTES, VALE3)
    await wait_for_subscribers(http, CHANNEL, 4)  # 3 on PETR4, 1 on VALE3
    assert await sources(http) == 3  # a and b share one execution

    await publish_quote(gql, admin_token, "10.00", "10.10")
    assert await next_data(first) == ("a", {"symbol": "PETR4", "bid": "10.00"})
    assert await next_data(second) == ("b", {"symbol": "PETR4", "bid": "10.00"})
    assert await next_data(asking) == ("c", {"symbol": "PETR4", "ask": "10.10"})
    await publish_quote(gql, admin_token, "50.00", "50.20", symbol="VALE3")
    assert await next_data(other_symbol) == ("d", {"symbol": "VALE3", "bid": "50.00"})
    for client in (first, second, asking, other_symbol):
        await client.close()


async def test_one_members_unsubscribe_or_disconnect_does_not_end_the_others(
    server: RunningServer, http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    leaving = await connected(server.url, admin_token)
    staying = await connected(server.url, admin_token)
    await leaving.subscribe("1", QUOTES, PETR4)
    await leaving.subscribe("2", QUOTES, PETR4)  # the same socket twice: two members
    await staying.subscribe("1", QUOTES, PETR4)
    await wait_for_subscribers(http, CHANNEL, 3)
    assert await sources(http) == 1

    await leaving.send({"id": "1", "type": "complete"})
    await wait_for_subscribers(http, CHANNEL, 2)
    await publish_quote(gql, admin_token, "10.00", "10.10")
    assert await next_data(staying) == ("1", {"symbol": "PETR4", "bid": "10.00"})
    assert await next_data(leaving) == ("2", {"symbol": "PETR4", "bid": "10.00"})

    await leaving.close()  # a disconnect ends its members only
    await wait_for_subscribers(http, CHANNEL, 1)
    await publish_quote(gql, admin_token, "11.00", "11.10")
    assert await next_data(staying) == ("1", {"symbol": "PETR4", "bid": "11.00"})
    # The operation id is free again on the socket that completed it, and the feed is shared.
    late = await connected(server.url, admin_token)
    await late.subscribe("x", QUOTES, PETR4)
    # A late joiner of a shared feed starts from the latest quote, like any quotes subscriber.
    assert await next_data(late) == ("x", {"symbol": "PETR4", "bid": "11.00"})
    await wait_for_subscribers(http, CHANNEL, 2)
    assert await sources(http) == 1
    await staying.close()
    await wait_for_subscribers(http, CHANNEL, 1)
    await publish_quote(gql, admin_token, "12.00", "12.10")
    assert await next_data(late) == ("x", {"symbol": "PETR4", "bid": "12.00"})
    await late.close()
    await wait_for_subscribers(http, CHANNEL, 0)
    assert await sources(http) == 0  # the last member gone, the shared execution stops


# Each message ~35 KB (1,000 long aliases): 300 of them are more than the buffers between the
# server and a reader that stops reading hold (kernel send buffer up to 4 MiB, then the
# transport's), so only the newest quote per symbol may wait for it once they are full.
ALIASES = 1000
WIDE_QUOTES = (
    "subscription($symbols: [String!]!) { quotes(symbols: $symbols) { symbol bid "
    + " ".join(f"symbol_repeated_{n:08d}: symbol" for n in range(ALIASES))
    + " } }"
)
ROUNDS = 150


async def test_a_slow_member_of_a_shared_quotes_feed_gets_the_newest_quote_per_symbol() -> None:
    settings = server_settings(graphql_max_aliases=ALIASES + 10, graphql_max_fields=ALIASES + 10)
    running = await start_server(settings)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)
            await create_instrument(gql, admin, symbol="VALE3", name="Vale ON")
            symbols = {"symbols": ["PETR4", "VALE3"]}
            fast = await connected(running.url, admin)
            slow = await slow_reader(running.url, admin)
            await fast.subscribe("f", WIDE_QUOTES, symbols)
            await slow.send(
                json.dumps(
                    {
                        "id": "s",
                        "type": "subscribe",
                        "payload": {"query": WIDE_QUOTES, "variables": symbols},
                    }
                )
            )
            await wait_for_subscribers(http, CHANNEL, 4)  # two members on two channels
            assert await sources(http) == 2  # one shared subscription to each channel
            newest: dict[str, str] = {}
            for n in range(1, ROUNDS + 1):
                for symbol in ("PETR4", "VALE3"):
                    bid = f"{n}.00"
                    await publish_quote(gql, admin, bid, f"{n}.50", symbol=symbol)
                    newest[symbol] = bid
                    _, quote = await next_data(fast)  # the fast member keeps up meanwhile
                    assert (quote["symbol"], quote["bid"]) == (symbol, bid)
            received = await read_until_newest(slow, newest)
            assert len(received) < 2 * ROUNDS  # stale quotes were skipped, not queued
            for symbol in newest:
                bids = [float(bid) for s, bid in received if s == symbol]
                assert bids == sorted(bids)  # per symbol in order, ending with the newest
                assert bids[-1] == float(newest[symbol])
            await slow.close()
            await fast.close()
    finally:
        await running.stop()


async def slow_reader(url: str, token: str) -> websockets.ClientConnection:
    """An acknowledged graphql-transport-ws socket with small buffers that reads on demand."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    host, port = url.removeprefix("http://").split(":")
    sock.connect((host, int(port)))
    client = await websockets.connect(
        f"ws://{host}:{port}/graphql",
        sock=sock,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_queue=4,
        ping_interval=None,
        compression=None,
    )
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await client.send(json.dumps(init))
    assert json.loads(await client.recv())["type"] == "connection_ack"
    return client


async def read_until_newest(
    client: websockets.ClientConnection, newest: dict[str, str]
) -> list[tuple[str, str]]:
    received: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    while seen != newest:
        message = json.loads(await client.recv())
        if message["type"] == "ping":
            await client.send(json.dumps({"type": "pong"}))
            continue
        assert message["type"] == "next", message
        quote = message["payload"]["data"]["quotes"]
        received.append((quote["symbol"], quote["bid"]))
        seen[quote["symbol"]] = quote["bid"]
    return received
