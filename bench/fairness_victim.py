"""The victim of `python -m bench fairness`, in its own process (a victim inside the
benchmark would measure the benchmark's event loop, busy with the attacks' clients, not the
server's): another user doing ordinary things one at a time until stdin closes, then the
latencies (ms) of each kind as JSON on stdout.

python -m bench.fairness_victim <url> <victim token> <admin token> <victim portfolio id>
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
import time
from collections.abc import Awaitable
from typing import Any

import httpx
import websockets
from websockets.typing import Subprotocol

from tests.support.clients import GraphQLClient
from tests.support.trading import PUBLISH_QUOTE

ME = "{ me { id } }"
QUOTE = 'query { quote(symbol: "PETR4") { bid ask } }'
ORDERS = "query($id: ID!) { orders(portfolioId: $id, first: 20) { edges { node { id } } } }"
QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { bid } }'
KINDS = ("me", "quote", "orders", "quotes sub", "healthz")


class Victim:
    """Another user, one request at a time, each kind timed apart."""

    def __init__(self, http: httpx.AsyncClient, token: str, admin: str, portfolio: str) -> None:
        self.gql = GraphQLClient(http)
        self.http = http
        self.token, self.admin, self.portfolio = token, admin, portfolio
        self.ws_url = str(http.base_url).rstrip("/").replace("http", "ws", 1) + "/graphql"

    async def run(self, stop: asyncio.Event) -> dict[str, list[float]]:
        times: dict[str, list[float]] = {kind: [] for kind in KINDS}
        socket = await websockets.connect(
            self.ws_url, subprotocols=[Subprotocol("graphql-transport-ws")], ping_interval=None
        )
        init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {self.token}"}}
        await socket.send(json.dumps(init))
        assert json.loads(await socket.recv())["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "q", "type": "subscribe", "payload": {"query": QUOTES}})
        )
        await asyncio.sleep(0.2)  # subscribed (the protocol does not acknowledge a subscribe)
        tick = 0
        try:
            while not stop.is_set():
                token = self.token
                await _timed(times["me"], self.gql.data(ME, token=token))
                await _timed(times["quote"], self.gql.data(QUOTE, token=token))
                variables = {"id": self.portfolio}
                await _timed(times["orders"], self.gql.data(ORDERS, variables, token))
                await _timed(times["healthz"], self.http.get("/healthz"))
                tick += 1
                bid = f"{10 + (tick % 50) / 100:.2f}"
                await _timed(times["quotes sub"], self._quote_arrives(socket, bid))
                await asyncio.sleep(0.02)
        finally:
            await socket.close()
        return times

    async def _quote_arrives(self, socket: Any, bid: str) -> None:
        quote = {"symbol": "PETR4", "bid": bid, "ask": f"{float(bid) + 0.02:.2f}"}
        await self.gql.data(PUBLISH_QUOTE, {"input": quote}, self.admin)
        async with asyncio.timeout(30):
            while True:
                message = json.loads(await socket.recv())
                if message.get("type") == "next":
                    if message["payload"]["data"]["quotes"]["bid"].startswith(bid):
                        return
                elif message.get("type") == "ping":
                    await socket.send(json.dumps({"type": "pong"}))


async def _timed(sink: list[float], work: Awaitable[Any]) -> None:
    started = time.perf_counter()
    await work
    sink.append(1000 * (time.perf_counter() - started))


async def main(url: str, token: str, admin: str, portfolio: str) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def wait_for_stdin() -> None:
        sys.stdin.read()
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        print("ready", flush=True)
        times = await Victim(http, token, admin, portfolio).run(stop)
    print(json.dumps(times), flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
