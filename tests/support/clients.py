"""Clients that talk to a running server the way a frontend or a webhook sender does."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import websockets
from standardwebhooks.webhooks import Webhook
from websockets.typing import Subprotocol

from tradegraph.pubsub.channels import channel_kind

WEBHOOK_SECRET = "whsec_" + "dGVzdC13ZWJob29rLXNlY3JldC1rZXktMzItYnl0ZXM="  # 32-byte test key
RECEIVE_TIMEOUT = 10.0


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def execute(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code in (200, 400, 429), response.text
        body: dict[str, Any] = response.json()
        if response.status_code == 429:  # refused unread, past the caller's share
            assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"], body
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The data of a request that must succeed."""
        body = await self.execute(query, variables, token)
        assert "errors" not in body, body["errors"]
        return body["data"]

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """The only error of a request that must fail."""
        body = await self.execute(query, variables, token)
        assert body.get("errors"), body
        assert len(body["errors"]) == 1, body["errors"]
        return body["errors"][0]


def error_code(error: dict[str, Any]) -> str:
    return error["extensions"]["code"]


def signed_headers(
    body: bytes, webhook_id: str, secret: str = WEBHOOK_SECRET, sent_at: datetime | None = None
) -> dict[str, str]:
    sent_at = sent_at or datetime.now(UTC)
    signature = Webhook(secret).sign(msg_id=webhook_id, timestamp=sent_at, data=body.decode())
    return {
        "content-type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }


async def send_webhook(
    http: httpx.AsyncClient, payload: Any, webhook_id: str, **signing: Any
) -> httpx.Response:
    body = json.dumps(payload).encode()
    return await http.post(
        "/webhooks/events", content=body, headers=signed_headers(body, webhook_id, **signing)
    )


@dataclass
class TransportWS:
    """A graphql-transport-ws client; answers the server's pings like graphql-ws clients do."""

    socket: Any
    pings_seen: int = 0

    @classmethod
    async def connect(
        cls, url: str, token: str | None, protocol: str = "graphql-transport-ws", init: bool = True
    ) -> TransportWS:
        socket = await websockets.connect(
            url.replace("http", "ws", 1) + "/graphql", subprotocols=[Subprotocol(protocol)]
        )
        client = cls(socket)
        if init:
            payload = {"Authorization": f"Bearer {token}"} if token else {}
            await client.send({"type": "connection_init", "payload": payload})
        return client

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:  # noqa: ASYNC109
        while True:
            message = json.loads(await asyncio.wait_for(self.socket.recv(), timeout))
            if message["type"] == "ping":
                self.pings_seen += 1
                await self.send({"type": "pong"})
                continue
            if message["type"] == "ka":
                continue
            return message

    async def subscribe(
        self, operation_id: str, query: str, variables: dict[str, Any] | None = None
    ) -> None:
        await self.send(
            {
                "id": operation_id,
                "type": "subscribe",
                "payload": {"query": query, "variables": variables or {}},
            }
        )

    async def close(self) -> None:
        await self.socket.close()


async def connected(
    url: str, token: str | None, protocol: str = "graphql-transport-ws"
) -> TransportWS:
    """A WebSocket client the server has acknowledged (connection_ack received)."""
    client = await TransportWS.connect(url, token, protocol)
    assert (await client.receive())["type"] == "connection_ack"
    return client


async def subscriber_count(http: httpx.AsyncClient, channel: str) -> int:
    """Live subscribers on channels of `channel`'s kind (GET /metrics labels kinds, not ids):
    a test's own subscriptions, since every test starts with none."""
    response = await http.get("/metrics")
    assert response.status_code == 200, response.text
    kind = re.escape(channel_kind(channel))
    found = re.search(
        rf'^tradegraph_subscribers{{kind="{kind}"}} (\S+)$', response.text, re.MULTILINE
    )
    return int(float(found.group(1))) if found else 0


async def wait_for_subscribers(
    http: httpx.AsyncClient,
    channel: str,
    count: int,
    timeout: float = RECEIVE_TIMEOUT,  # noqa: ASYNC109
) -> None:
    """Waits until the server reports `count` live subscribers on channels of `channel`'s kind.

    The GraphQL WebSocket protocols do not acknowledge a subscription, so this is the only way
    for a test to know events published from now on will reach it."""
    async with asyncio.timeout(timeout):
        while await subscriber_count(http, channel) != count:  # noqa: ASYNC110 - no event exists
            await asyncio.sleep(0.02)
