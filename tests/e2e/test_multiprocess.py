"""Two server processes on one real redis-server: a webhook into one reaches a subscriber on
the other. This is the path broadcaster 0.3.1's own Redis backend loses with redis-py 8."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import (
    WEBHOOK_SECRET,
    GraphQLClient,
    connected,
    send_webhook,
    wait_for_subscribers,
)
from tests.support.servers import Process, start_tradegraph
from tradegraph.pubsub.channels import EVENTS_CREATED

SUBSCRIPTION = "subscription { eventCreated { userId type value } }"


@pytest.fixture
async def two_servers(redis_server: Process) -> AsyncIterator[list[Process]]:
    env = {
        "TRADEGRAPH_BROADCAST_URL": redis_server.url,
        "TRADEGRAPH_WEBHOOK_SECRET": WEBHOOK_SECRET,
        **ADMIN_ENV,
    }
    servers = [await start_tradegraph(env), await start_tradegraph(env)]
    yield servers
    for server in servers:
        await server.stop()


async def test_a_webhook_into_one_process_reaches_a_subscriber_on_another(
    two_servers: list[Process],
) -> None:
    sender, receiver = two_servers
    async with (
        httpx.AsyncClient(base_url=sender.url, timeout=30) as into,
        httpx.AsyncClient(base_url=receiver.url, timeout=30) as out,
    ):
        token = await login_admin(GraphQLClient(out))
        client = await connected(receiver.url, token)
        await client.subscribe("remote", SUBSCRIPTION)
        await wait_for_subscribers(out, EVENTS_CREATED, 1)
        ready = await out.get("/readyz")
        assert ready.json()["broker"] == "ok"
        for round_number in range(3):  # repeated: a listener that stalls fails a later round
            batch = [
                {"userId": f"u{round_number}", "type": "purchase", "value": i} for i in range(3)
            ]
            response = await send_webhook(into, batch, f"cross-{round_number}")
            assert response.json()["stored"] == 3
            received = [
                (await client.receive())["payload"]["data"]["eventCreated"] for _ in range(3)
            ]
            assert received == [
                {"userId": f"u{round_number}", "type": "purchase", "value": float(i)}
                for i in range(3)
            ]
        await client.close()


async def test_readiness_reports_a_lost_broker(redis_server: Process) -> None:
    from tests.support.servers import start_redis

    private_redis = await start_redis()
    server = await start_tradegraph({"TRADEGRAPH_BROADCAST_URL": private_redis.url})
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            assert (await http.get("/readyz")).status_code == 200
            await private_redis.stop()
            response = await http.get("/readyz")
            assert response.status_code == 503
            assert response.json()["broker"].startswith("error")
            assert response.json()["store"] == "ok"
    finally:
        await server.stop()
        await private_redis.stop()
