"""The attacks of issue 20 as bounded workloads: each runs until its phase ends (`stop`)
and returns a line saying what it did."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import websockets
from websockets.typing import Subprotocol

from bench.fairness_world import PASSWORD, World, open_socket, repeat
from bench.quotes_fanout import rss_kib
from tests.support.clients import GraphQLClient

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""
SUMMARY = """query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to) { totalEvents byType { type count } }
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


def _masked_text_frame(payload: bytes) -> bytes:
    """One client text frame carrying `payload`, masked with a zero key (valid, and free)."""
    return b"\x81\xff" + len(payload).to_bytes(8, "big") + b"\0\0\0\0" + payload


async def _send_frame_and_wait_close(url: str, frame: bytes) -> int:
    """Opens a graphql-transport-ws socket by hand and writes `frame` in 64 KiB slices until
    the server answers (its close frame); returns the bytes written until then, most of them
    into the kernel's socket buffers. The attacker's own cost
    is then the bytes the server reads, not encoding and masking 15 MB per message on the
    cores the server and the victim share (an attacker elsewhere spends nothing here)."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    sent = 0
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        writer.write(
            f"GET {address.path} HTTP/1.1\r\nHost: {address.netloc}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n".encode()
        )
        await reader.readuntil(b"\r\n\r\n")
        answered = asyncio.ensure_future(reader.read(2))  # the server's close frame
        view = memoryview(frame)
        with contextlib.suppress(OSError):
            for start in range(0, len(view), 64 * 1024):
                writer.write(view[start : start + 64 * 1024])
                draining = asyncio.ensure_future(writer.drain())
                await asyncio.wait([draining, answered], return_when=asyncio.FIRST_COMPLETED)
                if answered.done():
                    draining.cancel()
                    break
                sent = start + 64 * 1024
        with contextlib.suppress(Exception):
            async with asyncio.timeout(30):
                await answered
    finally:
        writer.close()
    return sent


async def big_ws_message(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """3 sockets at a time, no login, each a 15 MB connection_init of `{}`s."""
    frame = _masked_text_frame(_big_init(15).encode())
    taken: list[int] = []

    async def once() -> None:
        taken.append(await _send_frame_and_wait_close(world.ws_url, frame))

    done = await repeat(stop, 3, once)
    most = max(taken, default=0) // 1024
    return (
        f"{done} messages of {len(frame) // 2**20} MiB, at most {most} KiB written before the close"
    )


async def big_http_bodies(world: World, http: httpx.AsyncClient, stop: asyncio.Event) -> str:
    """6 parallel 1 MiB HTTP bodies of `{}`s, over and over."""
    count = (1024 * 1024 - 200) // 3
    text = '{"query": "{ __typename }", "variables": {"x": [' + ",".join(["{}"] * count) + "]}}"
    body = text.encode()  # encoded once: the attackers' clients share the server's cores
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
                subprotocols=[Subprotocol("graphql-transport-ws")],
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
    """2 at a time: the attacker's eventSummary (a TRADER's: its own events, every stored one
    here, a big aggregation), each over a range a microsecond longer than the last, so that
    none is answered from the summary cache (an attacker would do the same)."""
    gql = GraphQLClient(http)
    now = datetime.now(UTC)
    counter = iter(range(10**9))
    answers: dict[str, int] = {}

    async def once() -> None:
        span = {
            "from": (now - timedelta(days=2, microseconds=next(counter))).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        body = await gql.execute(SUMMARY, span, world.attacker)
        if body.get("errors"):
            answers["refused"] = answers.get("refused", 0) + 1
        else:
            answers["events"] = body["data"]["eventSummary"]["totalEvents"]

    done = await repeat(stop, 2, once)
    if answers.get("refused"):  # the bench must measure the aggregation, not refusals
        return f"{done} summaries, {answers['refused']} refused: not a long store call"
    return f"{done} summaries of {answers.get('events', 0)} events each"


Attack = Callable[[World, httpx.AsyncClient, asyncio.Event], Coroutine[Any, Any, str]]
ATTACKS: dict[str, Attack] = {
    "idle feeds": idle_feeds,
    "big WS message": big_ws_message,
    "big HTTP bodies": big_http_bodies,
    "big connectionParams": big_connection_params,
    "heatmap aliases": heatmap_aliases,
    "login flood": login_flood,
    "cap races": cap_races,
    "long store call": long_store_call,
}
