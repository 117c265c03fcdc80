"""Redis killed under a running server: a committed write is answered as success and its live
messages arrive once Redis is back, in order; open subscriptions get them or end with
STREAM_INTERRUPTED, never silence; /readyz tells the truth; the log does not grow per tick."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_ENV, ADMIN_PASSWORD, LOGIN, login_admin
from tests.support.clients import (
    RECEIVE_TIMEOUT,
    WEBHOOK_SECRET,
    GraphQLClient,
    TransportWS,
    connected,
    error_code,
    send_webhook,
    wait_for_subscribers,
)
from tests.support.servers import Process, start_redis, start_tradegraph
from tests.support.trading import (
    CANCEL_ORDER,
    create_instrument,
    dec,
    funded_portfolio,
    place,
    portfolio,
    publish_quote,
)
from tradegraph.documents.outbox import MongoOutboxStore
from tradegraph.pubsub.channels import EVENTS_CREATED, order_channel, quote_channel
from tradegraph.pubsub.redis_backend import RedisPubSubBackend
from tradegraph.server import RunningServer

ORDER_UPDATES = "subscription($id: ID!) { orderUpdates(portfolioId: $id) { id status } }"
EVENT_CREATED = "subscription { eventCreated { userId type value } }"
QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { symbol bid } }'
ORDER = "query($id: ID!) { order(id: $id) { id status } }"


class Redis:
    """A private redis-server that can be killed and started again on the same port."""

    def __init__(self, process: Process) -> None:
        self.process = process
        self.url = process.url
        port = re.search(r":(\d+)/", self.url)
        assert port
        self.port = int(port.group(1))

    async def kill(self) -> None:
        await self.process.stop()

    async def restart(self) -> None:
        self.process = await start_redis(self.port)


@pytest.fixture
async def redis() -> AsyncIterator[Redis]:
    server = Redis(await start_redis())
    yield server
    await server.process.stop()


@dataclass
class Server:
    process: Process
    http: httpx.AsyncClient
    gql: GraphQLClient
    admin: str


@pytest.fixture
async def start(redis: Redis) -> AsyncIterator[Any]:
    """Starts `tradegraph serve` processes on `redis`; stops them afterwards."""
    started: list[Server] = []

    async def starter(**env: str) -> Server:
        process = await start_tradegraph(
            {
                "TRADEGRAPH_BROADCAST_URL": redis.url,
                "TRADEGRAPH_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "TRADEGRAPH_MARKET_FEED": "none",
                **ADMIN_ENV,
                **env,
            }
        )
        http = httpx.AsyncClient(base_url=process.url, timeout=30)
        gql = GraphQLClient(http)
        server = Server(process, http, gql, await login_admin(gql))
        started.append(server)
        return server

    yield starter
    for server in started:
        await server.http.aclose()
        await server.process.stop()


async def wait_until_ready(http: httpx.AsyncClient) -> None:
    async with asyncio.timeout(30):
        while (await http.get("/readyz")).status_code != 200:  # noqa: ASYNC110 - no event
            await asyncio.sleep(0.05)


async def metric(http: httpx.AsyncClient, name: str) -> float:
    text = (await http.get("/metrics")).text
    found = re.search(rf"^tradegraph_{name} (\S+)$", text, re.MULTILINE)
    assert found, f"tradegraph_{name} missing from /metrics"
    return float(found.group(1))


async def wait_for_metric(http: httpx.AsyncClient, name: str, at_least: float) -> None:
    async with asyncio.timeout(30):
        while await metric(http, name) < at_least:  # noqa: ASYNC110 - no event to await
            await asyncio.sleep(0.05)


async def subscription_error(client: TransportWS, operation_id: str) -> dict[str, Any]:
    """The error that ends a subscription (a `next` with errors, then `complete`; or an
    `error` message)."""
    message = await client.receive()
    assert message["id"] == operation_id, message
    if message["type"] == "error":
        return message["payload"][0]
    assert message["type"] == "next", message
    assert message["payload"].get("errors"), message
    assert (await client.receive())["type"] == "complete"
    return message["payload"]["errors"][0]


async def test_an_order_placed_while_redis_is_down_is_answered_as_stored_and_its_updates_follow(
    redis: Redis, start: Any
) -> None:
    # A long poll: the drain after the outage is started by the next publish, once the test's
    # subscriber is in place (a poll could deliver before it subscribes).
    server: Server = await start(TRADEGRAPH_OUTBOX_POLL_SECONDS="60")
    gql, admin = server.gql, server.admin
    await create_instrument(gql, admin)
    await publish_quote(gql, admin, "30.00", "30.02")
    pid = await funded_portfolio(gql, admin, "10000")
    before = await connected(server.process.url, admin)
    await before.subscribe("before", ORDER_UPDATES, {"id": pid})
    await wait_for_subscribers(server.http, order_channel(pid), 1)

    await redis.kill()
    interrupted = await subscription_error(before, "before")
    assert interrupted["extensions"]["code"] == "STREAM_INTERRUPTED"
    assert "subscribe again" in interrupted["message"]

    placed = await place(gql, admin, pid, "BUY", "100", type="LIMIT", limitPrice="20.00")
    assert placed["status"] == "NEW"
    assert dec((await portfolio(gql, admin, pid))["availableCash"]) == dec("8000")
    canceled = (await gql.data(CANCEL_ORDER, {"id": placed["id"]}, admin))["cancelOrder"]
    assert canceled["status"] == "CANCELED"
    resting = await place(gql, admin, pid, "BUY", "10", type="LIMIT", limitPrice="21.00")
    for order, status in ((placed, "CANCELED"), (resting, "NEW")):  # the store says the same
        assert (await gql.data(ORDER, {"id": order["id"]}, admin))["order"]["status"] == status
    assert dec((await portfolio(gql, admin, pid))["availableCash"]) == dec("9790")

    await redis.restart()
    await wait_until_ready(server.http)
    after = await connected(server.process.url, admin)
    await after.subscribe("after", ORDER_UPDATES, {"id": pid})
    await wait_for_subscribers(server.http, order_channel(pid), 1)
    # A later order queues behind the waiting messages, and its publish wakes the drain.
    later = await place(gql, admin, pid, "BUY", "1", type="LIMIT", limitPrice="22.00")
    received = [(await after.receive())["payload"]["data"]["orderUpdates"] for _ in range(4)]
    assert [(update["id"], update["status"]) for update in received] == [
        (placed["id"], "NEW"),
        (placed["id"], "CANCELED"),
        (resting["id"], "NEW"),
        (later["id"], "NEW"),
    ]
    assert await metric(server.http, "outbox_delivered_total") >= 3
    await before.close()
    await after.close()


async def test_a_webhook_while_redis_is_down_answers_its_stored_count_and_reaches_subscribers(
    redis: Redis, start: Any
) -> None:
    sender: Server = await start(TRADEGRAPH_OUTBOX_POLL_SECONDS="60")
    receiver: Server = await start()

    await redis.kill()
    batch = [{"userId": "u1", "type": "purchase", "value": i} for i in range(2)]
    response = await send_webhook(sender.http, batch, "outage-1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"received": 2, "stored": 2, "duplicates": 0}

    await redis.restart()
    await wait_until_ready(receiver.http)
    client = await connected(receiver.process.url, receiver.admin)
    await client.subscribe("events", EVENT_CREATED)
    await wait_for_subscribers(receiver.http, EVENTS_CREATED, 1)
    later = [{"userId": "u2", "type": "purchase", "value": 9}]
    assert (await send_webhook(sender.http, later, "after-1")).json()["stored"] == 1
    received = [
        (await client.receive())["payload"]["data"]["eventCreated"] for _ in range(3)
    ]  # the stored-during-the-outage events first, then the later one
    assert received == [
        {"userId": "u1", "type": "purchase", "value": 0.0},
        {"userId": "u1", "type": "purchase", "value": 1.0},
        {"userId": "u2", "type": "purchase", "value": 9.0},
    ]
    await client.close()


async def test_readiness_waits_for_the_subscriber_and_then_open_subscriptions_hear_everything(
    redis: Redis, start: Any
) -> None:
    server: Server = await start()
    gql, admin = server.gql, server.admin
    await create_instrument(gql, admin)
    pid = await funded_portfolio(gql, admin, "0")
    client = await connected(server.process.url, admin)
    await client.subscribe("quotes", QUOTES)
    await client.subscribe("orders", ORDER_UPDATES, {"id": pid})
    await wait_for_subscribers(server.http, quote_channel("PETR4"), 1)
    await wait_for_subscribers(server.http, order_channel(pid), 1)
    assert (await server.http.get("/readyz")).status_code == 200

    await redis.kill()
    interrupted = await subscription_error(client, "orders")  # may have missed messages
    assert interrupted["extensions"]["code"] == "STREAM_INTERRUPTED"
    readiness = await server.http.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.json()["broker"].startswith("error")
    late = await connected(server.process.url, admin)  # subscribing now is refused, with a code
    await late.subscribe("late", ORDER_UPDATES, {"id": pid})
    refused = await subscription_error(late, "late")
    assert refused["extensions"]["code"] == "STREAM_INTERRUPTED"
    await late.close()

    await redis.restart()
    await wait_until_ready(server.http)
    # Ready again: what is published from now on reaches the subscription that stayed open
    # (quotes are last-value, so the quote feed resumes instead of ending).
    await publish_quote(gql, admin, "31.00", "31.02")
    message = await client.receive()
    assert message["id"] == "quotes"
    assert message["payload"]["data"]["quotes"] == {"symbol": "PETR4", "bid": "31.00"}
    await client.close()


async def test_an_outage_is_logged_once_not_per_tick_and_the_outbox_drains_by_itself(
    redis: Redis, start: Any
) -> None:
    server: Server = await start(
        TRADEGRAPH_MARKET_FEED="simulated",
        TRADEGRAPH_SIMULATED_TICK_SECONDS="0.05",
        TRADEGRAPH_OUTBOX_POLL_SECONDS="0.2",
    )
    gql, admin = server.gql, server.admin
    for symbol in ("AAAA3", "BBBB3", "CCCC3", "DDDD3"):
        await create_instrument(gql, admin, symbol=symbol, name=symbol)
    pid = await funded_portfolio(gql, admin, "10000")

    await redis.kill()
    logged_before = len(server.process.output)
    # The feed adds new instruments at its next catalogue refresh (≤ 10 s): wait for 100
    # quotes to be dropped, which before would have logged 100 tracebacks.
    await wait_for_metric(server.http, "broker_messages_dropped_total", 100)
    order = await place(gql, admin, pid, "BUY", "1", symbol="AAAA3", type="LIMIT", limitPrice="1")
    assert order["status"] == "NEW"  # its update waits in the outbox
    during = server.process.output[logged_before:]
    problems = [line for line in during if _level(line) in ("warning", "error", "critical")]
    assert len(problems) <= 10, "".join(problems[:20])

    await redis.restart()
    await wait_for_metric(server.http, "outbox_delivered_total", 1)  # no other publish needed
    assert await metric(server.http, "outbox_lost_total") == 0


def _level(line: str) -> str | None:
    try:
        return json.loads(line).get("level")
    except ValueError:
        return None


async def test_a_lost_subscriber_connection_is_reported_and_restored_with_redis_up(
    redis: Redis,
) -> None:
    backend = RedisPubSubBackend(redis.url)
    lost = asyncio.Event()
    backend.on_subscriber_lost = lost.set
    await backend.connect()
    admin = aioredis.Redis.from_url(redis.url)
    try:
        await backend.subscribe("tradegraph.test")
        await backend.ping()
        await admin.client_kill_filter(_type="pubsub")  # only the subscribing connection
        await asyncio.wait_for(lost.wait(), RECEIVE_TIMEOUT)
        async with asyncio.timeout(RECEIVE_TIMEOUT):
            while True:
                try:
                    await backend.ping()
                    break
                except Exception:
                    await asyncio.sleep(0.02)
        await backend.publish("tradegraph.test", "after")
        event = await asyncio.wait_for(backend.next_published(), RECEIVE_TIMEOUT)
        assert (event.channel, event.message) == ("tradegraph.test", "after")
    finally:
        await admin.aclose()
        await backend.disconnect()


async def test_the_outbox_store_keeps_publish_order_and_one_drainer_at_a_time(
    server: RunningServer,
) -> None:
    store = MongoOutboxStore()
    for message in ("first", "second", "third"):
        await store.append("tradegraph.test", message)
    waiting = await store.oldest(10)
    assert [entry.message for entry in waiting] == ["first", "second", "third"]
    await store.remove(waiting[0].key)
    assert [entry.message for entry in await store.oldest(1)] == ["second"]

    assert await store.claim("process-a", 30)
    assert await store.claim("process-a", 30)  # renewed by its holder
    assert not await store.claim("process-b", 30)  # held by another, still valid
    assert await store.claim("process-a", -1)  # a claim that has run out...
    assert await store.claim("process-b", 30)  # ...is taken over


async def test_a_login_while_redis_is_down_is_refused_as_unavailable_and_works_once_it_is_back(
    redis: Redis, start: Any
) -> None:
    server = await start()
    variables = {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    await redis.kill()

    error = await server.gql.error(LOGIN, variables)

    # Fail closed with a code a client can act on: the attempt could not be counted.
    assert error_code(error) == "SERVICE_UNAVAILABLE", error
    assert "Redis" in error["message"]
    assert "try again" in error["message"]
    assert error["path"] == ["login"]
    await redis.restart()
    data = await server.gql.data(LOGIN, variables)
    assert data["login"]["accessToken"]
