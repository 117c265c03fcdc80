"""Per-user socket and subscription caps hold when everything arrives at once: many sockets
opened together, many subscribes sent together on many sockets, both protocols."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
import websockets

from tests.e2e.test_subscription_limits import (
    PROTOCOLS,
    QUOTES_CHANNEL,
    limited_server,
    subscribe,
    trader_and_instrument,
)
from tests.support.clients import TransportWS, wait_for_subscribers


async def outcome(client: TransportWS) -> str:
    """ "ack" or "closed <code>" for a socket that sent its connection_init."""
    try:
        message = await client.receive()
    except websockets.ConnectionClosed as closed:
        return f"closed {closed.rcvd.code if closed.rcvd else None}"
    assert message["type"] == "connection_ack", message
    return "ack"


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_sockets_opened_all_at_once_stop_at_the_connection_cap(protocol: str) -> None:
    async with limited_server(max_connections_per_user=5) as server:
        token = await trader_and_instrument(server.url)
        clients = await asyncio.gather(
            *[TransportWS.connect(server.url, token, protocol) for _ in range(40)]
        )
        outcomes = await asyncio.gather(*[outcome(client) for client in clients])
        assert outcomes.count("ack") == 5
        assert outcomes.count("closed 4429") == 35
        for client in clients:
            with contextlib.suppress(Exception):
                await client.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_subscribes_sent_all_at_once_stop_at_the_subscription_cap(protocol: str) -> None:
    async with (
        limited_server(max_subscriptions_per_user=10) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        token = await trader_and_instrument(server.url)
        clients = [await TransportWS.connect(server.url, token, protocol) for _ in range(4)]
        assert [await outcome(client) for client in clients] == ["ack"] * 4
        await asyncio.gather(
            *[subscribe(client, protocol, f"s{index}") for client in clients for index in range(20)]
        )
        refused: list[str] = []
        all_refused = asyncio.Event()

        async def read_refusals(client: TransportWS) -> None:
            while True:  # running subscriptions stay silent: no quote is published
                message = await client.receive()
                assert message["type"] == "error", message
                refused.append(message["id"])
                if len(refused) == 70:
                    all_refused.set()

        readers = [asyncio.create_task(read_refusals(client)) for client in clients]
        async with asyncio.timeout(30):
            await all_refused.wait()
        await wait_for_subscribers(http, QUOTES_CHANNEL, 10)
        for reader in readers:
            reader.cancel()
        for client in clients:
            await client.close()
