"""The attacks of issue 20 as bounded workloads: each runs until its phase ends (`stop`)
and returns a line saying what it did."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import httpx
import websockets

from bench.fairness_world import PASSWORD, World, open_socket, repeat
from bench.quotes_fanout import rss_kib
from tests.support.clients import GraphQLClient

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""
SUMMARY = """query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to) { total }
}"""


async def idle_feeds(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """60 eventCreated(after: own cursor) + 20 orderEvents(after: "0") subscriptions, idle."""
    sockets = [await open_socket(world.ws_url, world.attacker) for _ in range(4)]
    events = "subscription($a: String) { eventCreated(after: $a) { id } }"
    orders = 'subscription($p: ID!) { orderEvents(portfolioId: $p, after: "0") { cursor } }'
    for n in range(80):
        query, variables = (
            (events, {"a": world.attacker_cursor})
            if n < 60
            else (orders, {"p": world.attacker_portfolio})
        )
        message = {
            "id": f"s{n}",
            "type": "subscribe",
            "payload": {"query": query, "variables": variables},
        }
        await sockets[n % 4].send(json.dumps(message))
    await stop.wait()
    for socket in sockets:
        await socket.close()
    return "80 resumed subscriptions held idle"


def _big_init(megabytes: int) -> str:
    count = megabytes * 1024 * 1024 // 3
    return '{"type": "connection_init", "payload": {"x": [' + ",".join(["{}"] * count) + "]}}"


async def _send_and_wait_close(url: str, message: str) -> None:
    with contextlib.suppress(Exception):
        socket = await websockets.connect(
            url, subprotocols=["graphql-transport-ws"], max_size=None, ping_interval=None
        )
        await socket.send(message)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(socket.recv(), 30)
        await socket.close()


async def big_ws_message(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """3 sockets at a time, no login, each a 15 MB connection_init of `{}`s."""
    message = _big_init(15)
    done = await repeat(stop, 3, lambda: _send_and_wait_close(world.ws_url, message))
    return f"{done} messages of {len(message) // 2**20} MiB"


async def big_http_bodies(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """6 parallel 1 MiB HTTP bodies of `{}`s, over and over."""
    count = (1024 * 1024 - 200) // 3
    body = '{"query": "{ __typename }", "variables": {"x": [' + ",".join(["{}"] * count) + "]}}"
    headers = {"content-type": "application/json"}
    statuses: set[int] = set()

    async def once() -> None:
        statuses.add((await http.post("/graphql", content=body, headers=headers)).status_code)

    done = await repeat(stop, 6, once)
    return f"{done} bodies, answered {sorted(statuses)}"


async def big_connection_params(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """12 sockets with 15 MB connectionParams (a token and a long string), held open; the
    server's memory after they close is reported."""
    pid = world.server.process.pid
    before = rss_kib(pid)
    padding = "x" * (15 * 1024 * 1024)
    message = json.dumps(
        {
            "type": "connection_init",
            "payload": {"Authorization": f"Bearer {world.attacker}", "padding": padding},
        }
    )
    sockets = []
    for _ in range(12):
        with contextlib.suppress(Exception):
            socket = await websockets.connect(
                world.ws_url,
                subprotocols=["graphql-transport-ws"],
                max_size=None,
                ping_interval=None,
            )
            await socket.send(message)
            sockets.append(socket)
    await stop.wait()
    for socket in sockets:
        with contextlib.suppress(Exception):
            await socket.close()
    await asyncio.sleep(1)
    return f"server RSS {before // 1024} MB before, {rss_kib(pid) // 1024} MB after close"


async def heatmap_aliases(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """4 at a time: 30 aliases of Optimization.heatmap on the finished optimisation."""
    if world.optimization is None:
        return "skipped (--heatmap-rows 0)"
    fields = " ".join(f'h{i}: heatmap(x: "fast", y: "slow") {{ values }}' for i in range(30))
    query = f"query($id: ID!) {{ optimization(id: $id) {{ {fields} }} }}"
    gql = GraphQLClient(http)
    done = await repeat(
        stop, 4, lambda: gql.execute(query, {"id": world.optimization}, world.attacker)
    )
    return f"{done} requests"


async def login_flood(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """Waves of 150 concurrent logins (the attacker's own, right password)."""
    gql = GraphQLClient(http)
    variables = {"email": world.attacker_email, "password": PASSWORD}
    done = await repeat(stop, 150, lambda: gql.execute(LOGIN, variables))
    return f"{done} logins"


async def cap_races(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """80 concurrent createWatchlist and 80 createPortfolio, then the same again."""
    gql = GraphQLClient(http)
    token = world.attacker
    watchlist = 'mutation($n: String!) { createWatchlist(name: $n, symbols: ["PETR4"]) { id } }'
    portfolio = (
        'mutation($n: String!) { createPortfolio(input: {name: $n, baseCurrency: "BRL"}) { id } }'
    )
    counter = iter(range(10**9))

    async def once() -> None:
        n = next(counter)
        await gql.execute(watchlist, {"n": f"w{n}"}, token)
        await gql.execute(portfolio, {"n": f"p{n}"}, token)

    done = await repeat(stop, 80, once)
    owned = await gql.data("{ watchlists { id } portfolios { id } }", token=token)
    return (
        f"{done} attempts; stored {len(owned['watchlists'])} watchlists and "
        f"{len(owned['portfolios'])} portfolios (caps 50 and 50)"
    )


async def long_store_call(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """2 at a time: an ADMIN eventSummary over every stored event (a big aggregation)."""
    gql = GraphQLClient(http)
    now = datetime.now(UTC)
    span = {
        "from": (now - timedelta(days=2)).isoformat(),
        "to": (now + timedelta(days=1)).isoformat(),
    }
    done = await repeat(stop, 2, lambda: gql.execute(SUMMARY, span, world.admin))
    return f"{done} summaries"


ATTACKS: dict[str, Callable[[World, httpx.AsyncClient, asyncio.Event], Awaitable[str]]] = {
    "idle feeds": idle_feeds,
    "big WS message": big_ws_message,
    "big HTTP bodies": big_http_bodies,
    "big connectionParams": big_connection_params,
    "heatmap aliases": heatmap_aliases,
    "login flood": login_flood,
    "cap races": cap_races,
    "long store call": long_store_call,
}
