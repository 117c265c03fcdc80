"""Resumable feeds cost what the caller's own data costs: an idle subscriber reads nothing
from the store (one shared check per process finds lost messages), a replay reads only the
caller's own entries and is refused past TRADEGRAPH_FEED_MAX_REPLAY, and a TRADER's cursor
check says nothing about how many events others have."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import login_admin, register, server_settings
from tests.support.clients import GraphQLClient, TransportWS, connected, error_code
from tests.support.trading import place, quoted_portfolio
from tradegraph.documents import Event, OrderEventRecord
from tradegraph.events.sequence import number_events
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

POLL = 0.05
EVENTS = """subscription($after: String) {
  eventCreated(after: $after) { cursor userId value }
}"""
ORDER_EVENTS = """subscription($id: ID!, $after: String) {
  orderEvents(portfolioId: $id, after: $after) { cursor kind }
}"""
INGEST = """mutation($input: EventInput!) { ingestEvent(input: $input) { cursor userId } }"""


@contextlib.asynccontextmanager
async def feed_server(**overrides: object) -> AsyncIterator[RunningServer]:
    settings = {"feed_poll_seconds": POLL, "feed_gap_grace_seconds": 0.2, **overrides}
    running = await start_server(server_settings(**settings))
    try:
        yield running
    finally:
        await running.stop()


class Reads:
    """Counts the store reads made on some collections (a spy: the calls still run)."""

    def __init__(self) -> None:
        self.count = 0

    @contextlib.contextmanager
    def watching(self, monkeypatch: pytest.MonkeyPatch, *collections: Any) -> Iterator[None]:
        for collection in collections:
            for name in ("find", "find_one", "count_documents", "aggregate"):
                original = getattr(collection, name)

                def counted(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
                    self.count += 1
                    return _original(*args, **kwargs)

                monkeypatch.setattr(collection, name, counted)
        yield


async def ingest(gql: GraphQLClient, admin: str, user: str, value: float) -> dict:
    variables = {"input": {"userId": user, "type": "login", "value": value}}
    return (await gql.data(INGEST, variables, admin))["ingestEvent"]


async def first_message(client: TransportWS, operation: str) -> dict[str, Any]:
    message = await client.receive()
    assert message["id"] == operation, message
    return message


async def refusal(url: str, token: str, query: str, variables: dict[str, Any]) -> dict:
    client = await connected(url, token)
    try:
        await client.subscribe("x", query, variables)
        message = await first_message(client, "x")
        payload = message["payload"]  # an error raised inside the feed comes as a result
        errors = payload if message["type"] == "error" else payload["errors"]
        error: dict = errors[0]
        return error
    finally:
        await client.close()


async def test_idle_resumed_subscribers_read_nothing_from_the_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with feed_server() as server, httpx.AsyncClient(base_url=server.url) as http:
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        trader = await register(gql, "idle-feeds@example.com")
        token, me = trader["accessToken"], trader["user"]["id"]
        first = await ingest(gql, admin, me, 1)
        await ingest(gql, admin, me, 2)
        pid = await quoted_portfolio(gql, admin, token)
        await place(gql, token, pid, "BUY", "1")
        clients = []
        for _ in range(10):
            client = await connected(server.url, token)
            await client.subscribe("e", EVENTS, {"after": first["cursor"]})
            assert (await first_message(client, "e"))["payload"]["data"]["eventCreated"][
                "value"
            ] == 2.0  # replayed
            await client.subscribe("o", ORDER_EVENTS, {"id": pid, "after": "0"})
            assert (await first_message(client, "o"))["type"] == "next"
            clients.append(client)
        services: Services = server.app.state.services
        reads = Reads()
        checks_before = services.feed_watch.checks
        with reads.watching(
            monkeypatch,
            Event.get_pymongo_collection(),
            OrderEventRecord.get_pymongo_collection(),
        ):
            await asyncio.sleep(POLL * 20)  # the window observed: twenty poll periods
        checks = services.feed_watch.checks - checks_before
        assert reads.count == 0  # 20 idle subscribers, twenty periods: not one read
        assert 0 < checks <= 21  # one shared check per period, whatever the subscriber count
        for client in clients:
            await client.close()


async def test_a_message_lost_while_idle_arrives_through_the_shared_check() -> None:
    async with feed_server() as server, httpx.AsyncClient(base_url=server.url) as http:
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        trader = await register(gql, "lost-idle@example.com")
        me = trader["user"]["id"]
        first = await ingest(gql, admin, me, 1)
        client = await connected(server.url, trader["accessToken"])
        await client.subscribe("e", EVENTS, {"after": first["cursor"]})
        services: Services = server.app.state.services
        while not services.feed_watch.followers:  # noqa: ASYNC110 - replayed, now following
            await asyncio.sleep(POLL)
        lost = Event(
            user_id=me,
            type="login",
            value=7,
            timestamp=datetime.now(UTC).replace(microsecond=0),
            idempotency_key="lost-1",
            received_at=datetime.now(UTC).replace(microsecond=0),
        )
        await lost.insert()
        await number_events([lost])  # stored and numbered; its message never published
        message = await first_message(client, "e")
        assert message["payload"]["data"]["eventCreated"]["cursor"] == str(lost.seq)
        await client.close()


async def test_a_replay_longer_than_the_limit_is_refused_naming_it_counting_own_events_only() -> (
    None
):
    async with (
        feed_server(feed_max_replay=3) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        trader = await register(gql, "long-replay@example.com")
        token, me = trader["accessToken"], trader["user"]["id"]
        for value in range(3):
            await ingest(gql, admin, me, value)
        for value in range(10):  # others' events are not the trader's replay
            await ingest(gql, admin, "someone-else", value)
        client = await connected(server.url, token)
        await client.subscribe("e", EVENTS, {"after": "0"})
        replayed = [await first_message(client, "e") for _ in range(3)]
        assert [m["payload"]["data"]["eventCreated"]["value"] for m in replayed] == [0, 1, 2]
        await client.close()

        await ingest(gql, admin, me, 3)  # four of the trader's own now: one too many
        error = await refusal(server.url, token, EVENTS, {"after": "0"})
        assert error_code(error) == "BAD_USER_INPUT"
        assert "more than 3" in error["message"]
        assert "TRADEGRAPH_FEED_MAX_REPLAY" in error["message"]

        pid = await quoted_portfolio(gql, admin, token)
        for _ in range(2):
            await place(gql, token, pid, "BUY", "1")  # NEW and FILL each: four order events
        error = await refusal(server.url, token, ORDER_EVENTS, {"id": pid, "after": "0"})
        assert error_code(error) == "BAD_USER_INPUT"
        assert "more than 3" in error["message"]


async def test_a_traders_cursor_check_reveals_nothing_about_others_events(
    gql: GraphQLClient, admin_token: str, trader: dict, server: RunningServer
) -> None:
    me, token = trader["user"]["id"], trader["accessToken"]
    mine = await ingest(gql, admin_token, me, 1)
    for value in range(5):
        await ingest(gql, admin_token, "someone-else", value)
    own = int(mine["cursor"])
    # Below the system-wide count and beyond it: the same answer, from the trader's own events.
    for beyond in (own + 1, own + 3, own + 5, own + 6):
        error = await refusal(server.url, token, EVENTS, {"after": str(beyond)})
        assert error_code(error) == "BAD_USER_INPUT"
        assert "beyond the latest message" in error["message"]
    client = await connected(server.url, token)  # its own cursor: accepted, nothing to replay
    await client.subscribe("e", EVENTS, {"after": str(own)})
    live = await ingest(gql, admin_token, me, 2)
    message = await first_message(client, "e")
    assert message["payload"]["data"]["eventCreated"]["cursor"] == live["cursor"]
    await client.close()
