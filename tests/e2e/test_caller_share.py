"""Each caller's share (web/caller_share.py): one caller's flood of GraphQL requests runs a few
at a time, over HTTP and WebSocket alike, the rest wait their turn or are refused RATE_LIMITED,
and another caller is never held behind it. Requests are held at a local OpenAI-compatible
server (generateInsight asks it every time), so what runs and what waits can be counted."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx

from tests.e2e.conftest import login_admin, register
from tests.e2e.test_subscription_limits import limited_server
from tests.support.clients import RECEIVE_TIMEOUT, GraphQLClient, connected
from tests.support.fake_openai import ANSWER, FakeOpenAI
from tradegraph.server import RunningServer

GENERATE = "mutation { generateInsight { text source } }"
RUNNING, WAITING = 2, 3


async def requests_waiting(http: httpx.AsyncClient) -> int:
    text = (await http.get("/metrics")).text
    found = re.search(r"^tradegraph_caller_requests_waiting (\S+)$", text, re.MULTILINE)
    assert found, "tradegraph_caller_requests_waiting missing from /metrics"
    return int(float(found.group(1)))


async def until_waiting(http: httpx.AsyncClient, count: int) -> None:
    async with asyncio.timeout(RECEIVE_TIMEOUT):
        while await requests_waiting(http) != count:  # noqa: ASYNC110 - no event exists
            await asyncio.sleep(0.02)


@contextlib.asynccontextmanager
async def shared_server() -> AsyncIterator[tuple[RunningServer, httpx.AsyncClient]]:
    """A server with shares of RUNNING and WAITING, whose insights wait for the model."""
    async with (
        limited_server(
            max_running_requests_per_caller=RUNNING,
            max_waiting_requests_per_caller=WAITING,
            insight_timeout_seconds=60.0,
        ) as server,
        httpx.AsyncClient(base_url=server.url, timeout=60) as http,
    ):
        yield server, http


def answered_by_the_model(body: dict[str, Any]) -> bool:
    return body.get("data", {}).get("generateInsight") == {"text": ANSWER, "source": "OPENAI"}


async def test_a_flood_runs_two_at_a_time_waits_or_is_refused_and_holds_no_one_else(
    fake_openai: FakeOpenAI,
) -> None:
    async with shared_server() as (server, http):
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        other = (await register(gql, "other@example.com"))["accessToken"]
        release = fake_openai.hold()
        try:
            flood = [asyncio.create_task(gql.execute(GENERATE, {}, admin)) for _ in range(5)]
            await fake_openai.until_held(RUNNING)
            await until_waiting(http, WAITING)
            assert fake_openai.in_flight == RUNNING

            # One more of the same caller is refused at once; the refusal says what to do.
            refused = await http.post(
                "/graphql",
                json={"query": GENERATE},
                headers={"authorization": f"Bearer {admin}"},
            )
            assert refused.status_code == 429
            assert refused.headers["retry-after"] == "1"
            (error,) = refused.json()["errors"]
            assert error["extensions"]["code"] == "RATE_LIMITED"
            assert f"{RUNNING} run and {WAITING} wait at most" in error["message"]

            # The same caller over WebSocket takes its turn from the same share.
            socket = await connected(server.url, admin)
            await socket.subscribe("over-ws", GENERATE)
            ws_refusal = await socket.receive()
            assert ws_refusal["type"] == "error", ws_refusal
            assert ws_refusal["payload"][0]["extensions"]["code"] == "RATE_LIMITED"

            # Another caller is not held behind the flood, over HTTP or WebSocket.
            me = await gql.data("{ me { email } }", token=other)
            assert me["me"]["email"] == "other@example.com"
            other_socket = await connected(server.url, other)
            await other_socket.subscribe("me", "{ me { email } }")
            answer = await other_socket.receive()
            assert answer["payload"]["data"]["me"]["email"] == "other@example.com"
            await other_socket.close()
        finally:
            release.set()
            fake_openai.held = None
        answers = await asyncio.gather(*flood)
        assert all(answered_by_the_model(body) for body in answers), answers
        assert fake_openai.most_in_flight == RUNNING
        assert await requests_waiting(http) == 0
        await socket.close()


async def test_a_websocket_flood_waits_its_turn_and_completes(fake_openai: FakeOpenAI) -> None:
    async with shared_server() as (server, http):
        admin = await login_admin(GraphQLClient(http))
        socket = await connected(server.url, admin)
        release = fake_openai.hold()
        try:
            for n in range(RUNNING + WAITING):
                await socket.subscribe(f"m{n}", GENERATE)
            await fake_openai.until_held(RUNNING)
            await until_waiting(http, WAITING)
            # A waiting operation the client completes leaves the queue.
            await socket.send({"id": f"m{RUNNING + WAITING - 1}", "type": "complete"})
            await until_waiting(http, WAITING - 1)
        finally:
            release.set()
            fake_openai.held = None
        results: dict[str, list[str]] = {}
        while sum(kinds.count("complete") for kinds in results.values()) < RUNNING + WAITING - 1:
            message = await socket.receive()
            results.setdefault(message["id"], []).append(message["type"])
            if message["type"] == "next":
                assert answered_by_the_model(message["payload"]), message
        assert results == {f"m{n}": ["next", "complete"] for n in range(RUNNING + WAITING - 1)}
        assert fake_openai.most_in_flight == RUNNING
        await socket.close()
