"""What one message may cost: WebSocket messages no larger than an HTTP body, a
connection_init of at most 64 KiB whose params are not kept past the handshake, JSON refused
by its value count and depth before it is parsed, and the legacy graphql-ws protocol held to
graphql-transport-ws's rules and close codes."""

from __future__ import annotations

import asyncio
import gc
import json
from typing import Any

import httpx
import pytest
import websockets

from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    error_code,
)
from tradegraph.schema.core.context import Context
from tradegraph.server import RunningServer

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
MiB = 1024 * 1024
QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { symbol bid } }'


async def closed_with(client: TransportWS) -> tuple[int, str]:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


def init(token: str, padding: int) -> dict[str, Any]:
    payload = {"Authorization": f"Bearer {token}", "padding": "x" * padding}
    return {"type": "connection_init", "payload": payload}


async def test_a_websocket_message_larger_than_an_http_body_is_refused(
    server: RunningServer, admin_token: str
) -> None:
    client = await TransportWS.connect(server.url, admin_token, init=False)
    await client.send(init(admin_token, MiB + 1024))  # over the 1 MiB body cap, not 16 MiB
    code, _ = await closed_with(client)
    assert code == 1009  # message too big


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_init_over_64_kib_closes_4400_saying_what_to_send(
    server: RunningServer, admin_token: str, protocol: str
) -> None:
    client = await TransportWS.connect(server.url, admin_token, protocol, init=False)
    await client.send(init(admin_token, 65 * 1024))
    code, reason = await closed_with(client)
    assert code == 4400
    assert "64 KiB" in reason
    assert "Authorization" in reason


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_connection_init_payload_that_is_not_an_object_closes_4400(
    server: RunningServer, protocol: str
) -> None:
    client = await TransportWS.connect(server.url, None, protocol, init=False)
    await client.send({"type": "connection_init", "payload": "token"})
    assert await closed_with(client) == (4400, "Invalid connection init payload")


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_message_that_is_not_json_closes_4400_on_both_protocols(
    server: RunningServer, admin_token: str, protocol: str
) -> None:
    client = await connected(server.url, admin_token, protocol)
    await client.socket.send("{not json")
    code, _ = await closed_with(client)
    assert code == 4400


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_only_the_authorization_param_is_kept_after_the_handshake(
    server: RunningServer, admin_token: str, protocol: str
) -> None:
    client = await TransportWS.connect(server.url, admin_token, protocol, init=False)
    await client.send(init(admin_token, 60 * 1024))  # under the limit: accepted
    assert (await client.receive())["type"] == "connection_ack"
    gc.collect()
    kept = [
        o.connection_params
        for o in gc.get_objects()
        if isinstance(o, Context) and o.connection_params
    ]
    assert kept, "the socket's context holds its token"
    assert all(set(params) <= {"Authorization", "authorization"} for params in kept)
    await client.close()


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_websocket_message_with_too_many_values_closes_4400_naming_the_limit(
    server: RunningServer, admin_token: str, protocol: str
) -> None:
    client = await connected(server.url, admin_token, protocol)
    kind = "subscribe" if protocol == "graphql-transport-ws" else "start"
    head = json.dumps({"id": "1", "type": kind, "payload": {"query": QUOTES, "variables": 0}})
    many = '{"x": [' + ",".join(["{}"] * 200_000) + "]}"
    await client.socket.send(head.replace('"variables": 0', '"variables": ' + many))
    code, reason = await closed_with(client)
    assert (code, reason) == (4400, "JSON with more than 100000 values")


async def test_a_body_with_too_many_values_is_refused_before_it_is_parsed(
    http: httpx.AsyncClient,
) -> None:
    body = '{"query": "{ __typename }", "variables": {"x": [' + ",".join(["{}"] * 300_000)
    body += "]}}"
    responses = await asyncio.gather(
        *[
            http.post("/graphql", content=body, headers={"content-type": "application/json"})
            for _ in range(6)
        ]
    )
    for response in responses:
        assert response.status_code == 400
        error = response.json()["errors"][0]
        assert error_code(error) == "BAD_USER_INPUT"
        assert error["message"] == "JSON with more than 100000 values"


async def test_a_big_body_within_the_limits_is_decoded_and_answered(
    gql: GraphQLClient,
) -> None:
    name = "[{" * 200 + "y" * (512 * 1024)  # brackets in strings are not structure
    data = await gql.data(  # over the size parsed on the loop: decoded in the parse thread
        "query($name: String!) { __type(name: $name) { name } }",
        {"name": name, "unused": [list(range(100)) for _ in range(500)]},
    )
    assert data == {"__type": None}
