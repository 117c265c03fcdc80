"""What one WebSocket costs the server: RSS growth of a `tradegraph serve` process per socket,
measured in three steps (connected and acknowledged; plus one quotes subscription; the same
with permessage-deflate on), N sockets at a time."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import websockets
from websockets.typing import Subprotocol

from bench.quotes_fanout import SUBSCRIBE, raise_open_file_limit, rss_kib
from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient, wait_for_subscribers
from tests.support.servers import start_tradegraph
from tests.support.trading import CREATE_INSTRUMENT, PETR4

BATCH = 200


async def _open(url: str, token: str) -> websockets.ClientConnection:
    socket = await websockets.connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        max_queue=None,
        ping_interval=None,
    )
    init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
    await socket.send(json.dumps(init))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    return socket


async def _measure(count: int, compression: bool) -> dict[str, float]:
    server = await start_tradegraph(
        {
            **ADMIN_ENV,
            "TRADEGRAPH_MARKET_FEED": "none",
            "TRADEGRAPH_WS_COMPRESSION": str(compression).lower(),
            "TRADEGRAPH_MAX_CONNECTIONS_PER_USER": str(count + 10),
            "TRADEGRAPH_MAX_SUBSCRIPTIONS_PER_USER": str(count + 10),
            "TRADEGRAPH_MONGODB_DATABASE": f"tradegraph_bench_{uuid.uuid4().hex[:8]}",
        }
    )
    pid = server.process.pid
    sockets: list[websockets.ClientConnection] = []
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            gql = GraphQLClient(http)
            token = await login_admin(gql)
            await gql.data(CREATE_INSTRUMENT, {"input": PETR4}, token)
            url = server.url.replace("http", "ws", 1) + "/graphql"
            warm = await _open(url, token)  # first-use allocations are not per socket
            await warm.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
            )
            await wait_for_subscribers(http, "tradegraph.quotes.PETR4", 1)
            before = rss_kib(pid)
            for offset in range(0, count, BATCH):
                sockets += await asyncio.gather(
                    *(_open(url, token) for _ in range(min(BATCH, count - offset)))
                )
            connected = rss_kib(pid)
            for socket in sockets:
                await socket.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}})
                )
            await wait_for_subscribers(http, "tradegraph.quotes.PETR4", count + 1, timeout=120)
            subscribed = rss_kib(pid)
            await warm.close()
    finally:
        for socket in sockets:
            await socket.close()
        await server.stop()
    return {
        "socket": (connected - before) / count,
        "subscription": (subscribed - connected) / count,
    }


async def main(count: int) -> None:
    raise_open_file_limit()
    print(f"\nper-socket server memory, {count} sockets (KiB per socket, RSS growth / {count})")
    print(f"{'compression':<12}{'socket':>10}{'+ quotes sub':>14}{'total':>10}")
    for compression in (False, True):
        row = await _measure(count, compression)
        total = row["socket"] + row["subscription"]
        print(
            f"{'on' if compression else 'off':<12}{row['socket']:>10.1f}"
            f"{row['subscription']:>14.1f}{total:>10.1f}"
        )
