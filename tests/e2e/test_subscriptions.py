"""Live subscriptions over real WebSockets: eventCreated, auth at connection_init, keepalive."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import websockets

from tests.support.clients import TransportWS, connected, send_webhook, wait_for_subscribers
from tradegraph.pubsub.channels import EVENTS_CREATED
from tradegraph.server import RunningServer

EVENT_CREATED = """subscription($filter: EventFilter) {
  eventCreated(filter: $filter) { id userId type value metadata }
}"""


async def close_code(client: TransportWS) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_event_created_delivers_matching_events(
    server: RunningServer, http: httpx.AsyncClient, admin_token: str
) -> None:
    client = await connected(server.url, admin_token)
    await client.subscribe("all", EVENT_CREATED)
    await client.subscribe("big", EVENT_CREATED, {"filter": {"type": "purchase", "minValue": 50}})
    await wait_for_subscribers(http, EVENTS_CREATED, 2)
    await send_webhook(
        http,
        [
            {"userId": "u1", "type": "purchase", "value": 10},
            {"userId": "u2", "type": "purchase", "value": 75, "metadata": {"sku": "Z"}},
        ],
        "live",
    )
    received: dict[str, list] = {"all": [], "big": []}
    for _ in range(3):
        message = await client.receive()
        assert message["type"] == "next", message
        received[message["id"]].append(message["payload"]["data"]["eventCreated"])
    assert [e["value"] for e in received["all"]] == [10.0, 75.0]
    assert [(e["userId"], e["metadata"]) for e in received["big"]] == [("u2", {"sku": "Z"})]
    await client.close()


async def test_trader_receives_only_own_events(
    server: RunningServer, http: httpx.AsyncClient, trader: dict
) -> None:
    client = await connected(server.url, trader["accessToken"])
    await client.subscribe("mine", EVENT_CREATED)
    await wait_for_subscribers(http, EVENTS_CREATED, 1)
    mine = trader["user"]["id"]
    await send_webhook(
        http,
        [
            {"userId": "stranger", "type": "deposit", "value": 1},
            {"userId": mine, "type": "deposit", "value": 2},
        ],
        "own",
    )
    message = await client.receive()
    assert message["payload"]["data"]["eventCreated"]["userId"] == mine
    await client.subscribe("theirs", EVENT_CREATED, {"filter": {"userId": "stranger"}})
    refused = await client.receive()
    assert refused["id"] == "theirs"
    assert refused["payload"]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    await client.close()


async def test_connection_init_without_a_valid_token_is_closed_4403(
    server: RunningServer,
) -> None:
    for token in (None, "not-a-jwt"):
        client = await TransportWS.connect(server.url, token)
        assert await close_code(client) == 4403


async def test_subscribe_before_connection_init_is_closed_4401(server: RunningServer) -> None:
    client = await TransportWS.connect(server.url, None, init=False)
    await client.subscribe("early", EVENT_CREATED)
    assert await close_code(client) == 4401


async def test_missing_connection_init_times_out_with_4408(server: RunningServer) -> None:
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        client = await TransportWS.connect(server.url, None, protocol=protocol, init=False)
        assert await close_code(client) == 4408


async def test_server_pings_idle_sockets(server: RunningServer, admin_token: str) -> None:
    client = await connected(server.url, admin_token)
    await client.subscribe("idle", EVENT_CREATED)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(2.5):  # nothing arrives but pings (keepalive 1 s in tests)
            await client.receive()
    assert client.pings_seen >= 2
    await client.close()


async def test_legacy_graphql_ws_protocol_delivers_events(
    server: RunningServer, http: httpx.AsyncClient, admin_token: str
) -> None:
    client = await connected(server.url, admin_token, protocol="graphql-ws")
    await client.send({"id": "1", "type": "start", "payload": {"query": EVENT_CREATED}})
    await wait_for_subscribers(http, EVENTS_CREATED, 1)
    await send_webhook(http, [{"userId": "u", "type": "login", "value": 0}], "legacy")
    message = await client.receive()
    assert message["type"] == "data"
    assert message["payload"]["data"]["eventCreated"]["type"] == "login"
    await client.close()


async def test_legacy_protocol_rejects_a_bad_token(server: RunningServer) -> None:
    client = await TransportWS.connect(server.url, "bad", protocol="graphql-ws")
    assert (await client.receive())["type"] == "connection_error"


async def test_a_subscriber_that_stops_reading_is_ended_not_buffered(
    server: RunningServer, http: httpx.AsyncClient, admin_token: str
) -> None:
    client = await connected(server.url, admin_token)
    await client.subscribe("slow", EVENT_CREATED)
    await wait_for_subscribers(http, EVENTS_CREATED, 1)
    filler = {"blob": "x" * 15_000}
    batch = [{"userId": "u", "type": "bulk", "value": i, "metadata": filler} for i in range(1000)]
    for n in range(3):  # ~45 MB: far more than the socket buffers hold
        assert (await send_webhook(http, batch, f"flood-{n}")).status_code == 200
    delivered = 0
    while True:
        message = await client.receive()
        if message["type"] == "next" and "errors" in message["payload"]:
            break
        delivered += 1
    error = message["payload"]["errors"][0]
    assert error["extensions"]["code"] == "SUBSCRIBER_TOO_SLOW"
    assert delivered < 3000
    assert (await client.receive())["type"] == "complete"
    await wait_for_subscribers(http, EVENTS_CREATED, 0)
    await client.close()


async def test_many_subscribers_each_get_every_event(
    server: RunningServer, http: httpx.AsyncClient, admin_token: str
) -> None:
    clients = await asyncio.gather(*(connected(server.url, admin_token) for _ in range(20)))
    for client in clients:
        await client.subscribe("s", EVENT_CREATED)
    await wait_for_subscribers(http, EVENTS_CREATED, 20)
    await send_webhook(http, [{"userId": "u", "type": "t", "value": i} for i in range(5)], "fan")
    for client in clients:
        values = [
            (await client.receive())["payload"]["data"]["eventCreated"]["value"] for _ in range(5)
        ]
        assert values == [0.0, 1.0, 2.0, 3.0, 4.0]
        await client.close()
