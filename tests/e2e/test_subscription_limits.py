"""Per-user WebSocket limits: sockets past TRADEGRAPH_MAX_CONNECTIONS_PER_USER close 4429, a
subscribe past TRADEGRAPH_MAX_SUBSCRIPTIONS_PER_USER gets a RATE_LIMITED error on a socket that
stays open, on both protocols; a flooding trader neither stalls /healthz nor leaves memory."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import weakref
from collections import Counter
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from tests.e2e.conftest import ADMIN_ENV, login_admin, register, server_settings
from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    error_code,
    wait_for_subscribers,
)
from tests.support.servers import Process, start_tradegraph
from tests.support.trading import create_instrument, publish_quote
from tradegraph.pubsub.channels import quote_channel
from tradegraph.server import RunningServer, start_server
from tradegraph.web.graphql_ws import PingingTransportWSHandler

QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { symbol bid } }'
QUOTES_CHANNEL = quote_channel("PETR4")
PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
MiB = 1024 * 1024


@contextlib.asynccontextmanager
async def limited_server(**overrides: object) -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(**overrides))
    try:
        yield running
    finally:
        await running.stop()


async def close_of(client: TransportWS) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def subscribe(client: TransportWS, protocol: str, operation_id: str) -> None:
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    await client.send({"id": operation_id, "type": kind, "payload": {"query": QUOTES}})


async def unsubscribe(client: TransportWS, protocol: str, operation_id: str) -> None:
    kind = "complete" if protocol == "graphql-transport-ws" else "stop"
    await client.send({"id": operation_id, "type": kind})


def refusal_code(message: dict) -> str:
    assert message["type"] == "error", message
    payload = message["payload"]
    return error_code(payload[0] if isinstance(payload, list) else payload)


async def trader_and_instrument(url: str) -> str:
    """PETR4 exists, and the access token of a newly registered trader."""
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        gql = GraphQLClient(http)
        await create_instrument(gql, await login_admin(gql))
        return await trader(url, "flood@example.com")


async def trader(url: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=url, timeout=60) as http:
        return str((await register(GraphQLClient(http), email))["accessToken"])


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_socket_past_the_connection_limit_closes_4429(protocol: str) -> None:
    async with limited_server(max_connections_per_user=2) as server:
        token = await trader_and_instrument(server.url)
        first = await connected(server.url, token, protocol)
        second = await connected(server.url, token, protocol)
        third = await TransportWS.connect(server.url, token, protocol)
        code, reason = await close_of(third)
        assert code == 4429
        assert "too many connections for this user (at most 2)" in reason
        # Another user is not affected, and a closed socket gives its place back.
        other = await trader(server.url, "other@example.com")
        await (await connected(server.url, other, protocol)).close()
        await first.close()
        replacement = await connected(server.url, token, protocol)
        for client in (second, replacement):
            await client.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_subscribe_past_the_user_limit_is_rate_limited_and_the_socket_stays_open(
    protocol: str,
) -> None:
    async with (
        limited_server(max_subscriptions_per_user=3) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        token = await trader_and_instrument(server.url)
        one = await connected(server.url, token, protocol)
        two = await connected(server.url, token, protocol)
        await subscribe(one, protocol, "a")
        await subscribe(one, protocol, "b")
        await subscribe(two, protocol, "c")
        await wait_for_subscribers(http, QUOTES_CHANNEL, 3)
        await subscribe(two, protocol, "d")  # the fourth, counted across both sockets
        refused = await two.receive()
        assert refused["id"] == "d"
        assert refusal_code(refused) == "RATE_LIMITED"
        assert "at most 3" in json.dumps(refused["payload"])
        # The socket is still open; ending one subscription frees a slot.
        await unsubscribe(one, protocol, "a")
        await wait_for_subscribers(http, QUOTES_CHANNEL, 2)
        await subscribe(two, protocol, "d")
        await wait_for_subscribers(http, QUOTES_CHANNEL, 3)
        async with httpx.AsyncClient(base_url=server.url) as admin_http:
            admin = GraphQLClient(admin_http)
            await publish_quote(admin, await login_admin(admin), "10.00", "10.02")
        ids = {(await two.receive())["id"] for _ in range(2)}
        assert ids == {"c", "d"}
        # A closed socket gives its subscriptions back.
        await one.close()
        await wait_for_subscribers(http, QUOTES_CHANNEL, 2)
        await subscribe(two, protocol, "e")
        await wait_for_subscribers(http, QUOTES_CHANNEL, 3)
        await two.close()


# --- the flood of issue 10: 20 sockets x 100 quote subscriptions, in a subprocess server ------


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


class Flood:
    """One trader's sockets, each read in the background, counting what arrives."""

    def __init__(self) -> None:
        self.clients: list[TransportWS] = []
        self.readers: list[asyncio.Task[None]] = []
        self.seen: Counter[str] = Counter()
        self.changed = asyncio.Event()

    async def open(self, url: str, token: str, sockets: int) -> None:
        self.clients = list(await asyncio.gather(*(connected(url, token) for _ in range(sockets))))
        self.readers = [asyncio.create_task(self._read(c)) for c in self.clients]

    async def _read(self, client: TransportWS) -> None:
        with contextlib.suppress(websockets.ConnectionClosed):
            while True:
                message = await client.receive(timeout=120)
                key = refusal_code(message) if message["type"] == "error" else message["type"]
                self.seen[key] += 1
                self.changed.set()

    async def until(self, kind: str, count: int) -> None:
        async with asyncio.timeout(60):
            while self.seen[kind] < count:
                self.changed.clear()
                await self.changed.wait()

    async def close(self) -> None:
        for client in self.clients:
            await client.close()
        for reader in self.readers:
            reader.cancel()
        await asyncio.gather(*self.readers, return_exceptions=True)


async def flood_round(
    server: Process, http: httpx.AsyncClient, admin: GraphQLClient, token: str
) -> int:
    """Runs the abuse once; returns the server's RSS while the flood was connected."""
    flood = Flood()
    await flood.open(server.url, token, 20)
    try:
        extra = await TransportWS.connect(server.url, token)
        assert (await close_of(extra))[0] == 4429
        for index, client in enumerate(flood.clients):
            for n in range(100):
                await client.subscribe(f"{index}-{n}", QUOTES)
        await flood.until("RATE_LIMITED", 1800)
        await wait_for_subscribers(http, QUOTES_CHANNEL, 200, timeout=60)
        admin_token = await login_admin(admin)

        async def publishing() -> None:
            for n in range(40):
                await publish_quote(admin, admin_token, f"{10 + n / 100:.2f}", "11.00")

        await publish_quote(admin, admin_token, "9.00", "11.00")
        await flood.until("next", 200)  # every accepted subscription is live
        busy = asyncio.ensure_future(publishing())
        health = asyncio.ensure_future(http.get("/healthz"))
        done, _ = await asyncio.wait([health, busy], return_when=asyncio.FIRST_COMPLETED)
        assert health in done, "healthz waited behind the flood's quotes"
        assert health.result().json() == {"status": "ok"}
        await busy
        during = rss_bytes(server.process.pid)
        assert flood.seen["RATE_LIMITED"] == 1800
    finally:
        await flood.close()
    await wait_for_subscribers(http, QUOTES_CHANNEL, 0, timeout=60)
    return during


async def test_a_flooding_trader_is_limited_healthz_answers_and_memory_comes_back() -> None:
    server = await start_tradegraph({**ADMIN_ENV, "TRADEGRAPH_MARKET_FEED": "none"})
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=60) as http:
            admin = GraphQLClient(http)
            token = await trader_and_instrument(server.url)
            before = rss_bytes(server.process.pid)
            for _ in range(2):  # a leak would add up run after run
                during = await flood_round(server, http, admin, token)
                after = rss_bytes(server.process.pid)
                sizes = (before / MiB, during / MiB, after / MiB)
                print("RSS MiB before {:.0f}, during {:.0f}, after {:.0f}".format(*sizes))
                assert after - before <= 50 * MiB, (before, during, after)
            assert during > 0
    finally:
        await server.stop()


async def test_a_closed_sockets_server_objects_are_garbage_collected() -> None:
    """The server keeps running for days: what a socket held must be freed once it closes,
    including objects in reference cycles (only the cyclic collector frees those, and nothing
    may hide them from it, e.g. by gc.freeze while the socket is open)."""
    async with limited_server(ws_keepalive_seconds=1.0) as running:
        token = await trader_and_instrument(running.url)
        before = {id(o) for o in socket_handlers()}  # other tests' servers may still hold some
        async with httpx.AsyncClient(base_url=running.url, timeout=60) as http:
            clients = [await connected(running.url, token) for _ in range(3)]
            for client in clients:
                await subscribe(client, "graphql-transport-ws", "q")
            await wait_for_subscribers(http, QUOTES_CHANNEL, 3)
            await publish_quote(
                GraphQLClient(http), await login_admin(GraphQLClient(http)), "10", "11"
            )
            for client in clients:  # each socket has served a message: its state is all there
                assert (await client.receive())["type"] == "next"
            for client in clients:  # and has been open a while: idle for a keepalive ping
                assert json.loads(await client.socket.recv())["type"] == "ping"
            handlers = [weakref.ref(o) for o in socket_handlers() if id(o) not in before]
            assert len(handlers) == 3  # all visible to the collector while open

            for client in clients:
                await client.close()
            await wait_for_subscribers(http, QUOTES_CHANNEL, 0)
        alive = handlers
        async with asyncio.timeout(10):  # the server finishes each socket's shutdown meanwhile
            while alive := [ref for ref in alive if ref() is not None]:
                gc.collect()
                await asyncio.sleep(0.05)
        assert alive == []


def socket_handlers() -> list[object]:
    # type(), not isinstance(): the heap may hold dead weak proxies, which isinstance() trips on
    return [o for o in gc.get_objects() if type(o) is PingingTransportWSHandler]
