"""Widget keys for tests: creating one, and a graphql-transport-ws client that connects the
way /widgets.js does (a widget socket, `?widget`, from a page's origin)."""

from __future__ import annotations

from typing import Any

import websockets
from websockets.typing import Origin, Subprotocol

from tests.support.clients import GraphQLClient, TransportWS

CREATE_WIDGET_KEY = """mutation($input: CreateWidgetKeyInput!) {
  createWidgetKey(input: $input) { id name key keyHint origins symbols createdAt revokedAt }
}"""
WIDGET_KEYS = "{ widgetKeys { id name key keyHint origins symbols revokedAt } }"
REVOKE_WIDGET_KEY = "mutation($id: ID!) { revokeWidgetKey(id: $id) { id revokedAt } }"
SITE = "https://shop.example"


async def create_widget_key(
    gql: GraphQLClient,
    admin: str,
    origins: list[str] | None = None,
    symbols: list[str] | None = None,
    name: str = "Partner site",
) -> dict[str, Any]:
    """A new key: {id, key, …}."""
    variables = {"input": {"name": name, "origins": origins or [SITE], "symbols": symbols}}
    return (await gql.data(CREATE_WIDGET_KEY, variables, admin))["createWidgetKey"]


async def revoke_widget_key(gql: GraphQLClient, admin: str, key_id: str) -> dict[str, Any]:
    return (await gql.data(REVOKE_WIDGET_KEY, {"id": key_id}, admin))["revokeWidgetKey"]


async def widget_socket(
    server_url: str, key: object, origin: str | None = SITE, **params: Any
) -> TransportWS:
    """A widget socket that has sent connection_init with `key` (not yet acknowledged); `key`
    may be any JSON value, as a hostile client sends, and None leaves it out."""
    url = server_url.replace("http", "ws", 1) + "/graphql?widget"
    socket = await websockets.connect(
        url,
        subprotocols=[Subprotocol("graphql-transport-ws")],
        origin=Origin(origin) if origin is not None else None,
    )
    client = TransportWS(socket)
    payload = {"widgetKey": key, **params} if key is not None else params
    await client.send({"type": "connection_init", "payload": payload})
    return client


async def acknowledged_widget(server_url: str, key: str, origin: str = SITE) -> TransportWS:
    client = await widget_socket(server_url, key, origin)
    assert (await client.receive())["type"] == "connection_ack"
    return client


async def closed_with(client: TransportWS) -> tuple[int, str]:
    """The close code and reason the server ended the socket with."""
    try:
        while True:
            await client.receive()
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
    assert frame is not None, "closed without a close frame"
    return frame.code, frame.reason
