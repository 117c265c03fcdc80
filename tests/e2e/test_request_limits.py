"""Expensive requests are refused before the work: query limits (QUERY_TOO_COMPLEX), body size
(413), nesting of JSON, subscriptions over plain HTTP, and GraphiQL/introspection switched off."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import websockets

from tests.e2e.conftest import server_settings
from tests.support.clients import GraphQLClient, TransportWS, connected, error_code
from tradegraph.documents import User
from tradegraph.server import RunningServer, start_server

MiB = 1024 * 1024


def doubling_fragments(levels: int) -> str:
    """`query { ...F<levels> }` where each F<i> spreads F<i-1> twice: 2^levels fields."""
    fragments = ["fragment F0 on Query { __typename }"]
    for i in range(1, levels + 1):
        fragments.append(f"fragment F{i} on Query {{ ...F{i - 1} ...F{i - 1} }}")
    return f"query {{ ...F{levels} }}\n" + "\n".join(fragments)


def nested_json(levels: int) -> str:
    return "[" * levels + "]" * levels


NESTED_BACKTESTS = """query($first: Int!) { backtests(first: $first) { edges { node { result {
  trades { entryTime entryPrice exitTime exitPrice pnl }
  equityCurve { time equity }
} } } } }"""


async def test_doubling_fragments_are_refused_without_expanding_them(gql: GraphQLClient) -> None:
    # Expanding 40 levels of doubling fragments is 2^40 fields: only a linear analysis answers.
    error = await gql.error(doubling_fragments(40))
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert error["message"] == (
        f"field count (fragments expanded) {2**40} exceeds the limit of 1000"
        " (TRADEGRAPH_GRAPHQL_MAX_FIELDS)"
    )
    assert (await gql.data(doubling_fragments(9)))["__typename"] == "Query"  # 512 fields


async def test_a_query_deeper_than_the_limit_is_refused(gql: GraphQLClient) -> None:
    deep = "{ me " + "{ a " * 13 + "{ b }" + " }" * 13 + " }"
    error = await gql.error(deep)
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert error["message"] == (
        "query depth 14 exceeds the limit of 10 (TRADEGRAPH_GRAPHQL_MAX_DEPTH)"
    )


async def test_a_document_nested_past_the_parser_is_refused_not_a_server_error(
    gql: GraphQLClient,
) -> None:
    error = await gql.error("{ a " * 3000 + " }" * 3000)
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert "nested too deeply" in error["message"]


async def test_too_many_aliases_are_refused_and_nothing_runs(gql: GraphQLClient) -> None:
    def registrations(count: int) -> str:
        fields = (
            f'r{i}: register(input: {{email: "alias{i}@example.com", '
            f'password: "quiet-harbour-lantern-{i}"}}) {{ accessToken }}'
            for i in range(count)
        )
        return "mutation { " + " ".join(fields) + " }"

    error = await gql.error(registrations(31))
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert error["message"] == (
        "alias count 31 exceeds the limit of 30 (TRADEGRAPH_GRAPHQL_MAX_ALIASES)"
    )
    assert await User.find({"email": {"$regex": "^alias"}}).count() == 0
    await gql.data(registrations(2))
    assert await User.find({"email": {"$regex": "^alias"}}).count() == 2


async def test_large_pages_of_nested_lists_are_refused_before_any_resolver(
    gql: GraphQLClient, admin_token: str
) -> None:
    data = await gql.data(NESTED_BACKTESTS, {"first": 100}, admin_token)
    assert data["backtests"]["edges"] == []
    error = await gql.error(NESTED_BACKTESTS, {"first": 500}, admin_token)
    # The resolver would answer BAD_USER_INPUT ("first" is at most 100): it never ran.
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert "exceeds the limit of 50000 (TRADEGRAPH_GRAPHQL_MAX_COST)" in error["message"]


async def test_a_document_over_the_token_limit_is_refused(gql: GraphQLClient) -> None:
    error = await gql.error("{ " + "__typename " * 10_001 + "}")
    assert error_code(error) == "QUERY_TOO_COMPLEX"
    assert error["message"] == (
        "query token count exceeds the limit of 10000 (TRADEGRAPH_GRAPHQL_MAX_TOKENS)"
    )


async def test_subscriptions_are_limited_too(server: RunningServer, admin_token: str) -> None:
    client = await connected(server.url, admin_token)
    try:
        # 1 MB, just under the message cap (the body cap): refused by its token count
        huge = "subscription { " + "__typename " * 90_000 + "}"
        await client.subscribe("huge", huge)
        message = await client.receive()
        assert message["type"] == "error"
        assert message["id"] == "huge"
        assert [error_code(error) for error in message["payload"]] == ["QUERY_TOO_COMPLEX"]

        deep = "subscription { eventCreated " + "{ a " * 13 + "{ b }" + " }" * 13 + " }"
        await client.subscribe("deep", deep)
        message = await client.receive()
        assert (message["type"], message["id"]) == ("error", "deep")
        assert "query depth 14 exceeds" in message["payload"][0]["message"]
    finally:
        await client.close()


async def raw_post(url: str, head: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """POSTs `head` and `body` on a raw connection and reads the response without sending
    anything more: a response proves the server decided before the body was complete."""
    address = urlsplit(url)
    reader, writer = await asyncio.open_connection(address.hostname, address.port)
    try:
        writer.write(f"POST /graphql HTTP/1.1\r\nHost: {address.netloc}\r\n{head}\r\n".encode())
        writer.write(body)
        await writer.drain()
        async with asyncio.timeout(10):
            status_and_headers = (await reader.readuntil(b"\r\n\r\n")).decode()
            length = next(
                int(line.split(":")[1])
                for line in status_and_headers.split("\r\n")
                if line.lower().startswith("content-length:")
            )
            payload = json.loads(await reader.readexactly(length))
        return int(status_and_headers.split()[1]), payload
    finally:
        writer.close()


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_sent(
    server: RunningServer, gql: GraphQLClient
) -> None:
    head = f"Content-Type: application/json\r\nContent-Length: {2 * MiB}\r\n"
    status, payload = await raw_post(server.url, head, b'{"query": "')
    assert status == 413
    assert payload == {
        "errors": [
            {
                "message": f"request body exceeds {MiB} bytes (TRADEGRAPH_GRAPHQL_MAX_BODY_BYTES)",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ]
    }
    assert (await gql.data("{ __typename }"))["__typename"] == "Query"


async def test_a_streamed_body_is_refused_once_it_passes_the_limit(
    server: RunningServer, gql: GraphQLClient
) -> None:
    chunk = b" " * (MiB + 1)  # one chunk over the limit, and the body never ends
    head = "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
    status, payload = await raw_post(server.url, head, f"{len(chunk):x}\r\n".encode() + chunk)
    assert status == 413
    assert error_code(payload["errors"][0]) == "BAD_USER_INPUT"
    assert (await gql.data("{ __typename }"))["__typename"] == "Query"


async def test_a_whole_body_over_the_limit_gets_413_and_the_server_goes_on(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    body = json.dumps({"query": "{ __typename }", "padding": "x" * 2 * MiB})
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert error_code(response.json()["errors"][0]) == "BAD_USER_INPUT"
    assert (await gql.data("{ __typename }"))["__typename"] == "Query"


async def test_a_body_past_the_json_value_limit_is_refused_before_it_is_whole(
    server: RunningServer, gql: GraphQLClient
) -> None:
    # 300 KiB of `{}`s already passes 100,000 values; the rest of the declared MiB never comes.
    part = b'{"query": "{ __typename }", "variables": {"x": [' + b"{}," * 100_000
    head = f"Content-Type: application/json\r\nContent-Length: {MiB - 1}\r\n"
    status, payload = await raw_post(server.url, head, part)
    assert status == 400
    assert payload["errors"][0]["message"] == "JSON with more than 100000 values"
    assert error_code(payload["errors"][0]) == "BAD_USER_INPUT"
    assert (await gql.data("{ __typename }"))["__typename"] == "Query"


async def test_big_bodies_are_read_one_at_a_time(server: RunningServer) -> None:
    """A big body sent while another is still arriving is read after it: the first one's
    answer (refused when its rest arrives) comes before the second's."""
    address = urlsplit(server.url)
    opening = b'{"query": "{ __typename }", "variables": {"x": ['
    first = await asyncio.open_connection(address.hostname, address.port)
    second = await asyncio.open_connection(address.hostname, address.port)
    body = json.dumps({"query": "{ __typename }", "padding": "x" * 100_000}).encode()
    heads = [
        f"POST /graphql HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode()
        for length in (MiB - 1, len(body))
    ]
    answers: list[str] = []

    async def answer(name: str, reader: asyncio.StreamReader) -> None:
        await reader.readuntil(b"\r\n\r\n")
        answers.append(name)

    try:
        first[1].write(heads[0] + opening + b"{}," * 30_000)  # 60,000 values so far
        await first[1].drain()
        second[1].write(heads[1] + body)
        await second[1].drain()
        waiting = [asyncio.create_task(answer(n, c[0])) for n, c in (("1", first), ("2", second))]
        first[1].write(b"{}," * 30_000)  # past 100,000 values: the first is refused
        await first[1].drain()
        async with asyncio.timeout(10):
            await asyncio.gather(*waiting)
        assert answers == ["1", "2"]
    finally:
        first[1].close()
        second[1].close()


@pytest.mark.parametrize("levels", [1_000, 100_000])
async def test_deeply_nested_json_is_a_400_with_a_json_error(
    http: httpx.AsyncClient, levels: int
) -> None:
    variables = '{"x": ' + nested_json(levels) + "}"
    body = '{"query": "query($x: JSON) { __typename }", "variables": ' + variables + "}"
    response = await http.post(
        "/graphql", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/json"
    error = response.json()["errors"][0]
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["message"] == "JSON nested more than 100 levels deep"


async def test_deeply_nested_json_on_a_websocket_closes_it_with_4400(
    server: RunningServer, admin_token: str
) -> None:
    client = await connected(server.url, admin_token)
    query = "subscription($x: JSON) { eventCreated { id } }"
    message = '{"id": "1", "type": "subscribe", "payload": {"query": "%s", "variables": {"x": %s}}}'
    await client.socket.send(message % (query, nested_json(1_000)))
    assert await close_code(client) == 4400


async def close_code(client: TransportWS) -> int:
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await client.receive()
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


async def test_a_subscription_over_post_says_to_use_a_websocket(http: httpx.AsyncClient) -> None:
    response = await http.post("/graphql", json={"query": "subscription { eventCreated { id } }"})
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error_code(error) == "BAD_USER_INPUT"
    assert "WebSocket" in error["message"]
    assert "graphql-transport-ws" in error["message"]


async def test_development_serves_graphiql_and_introspection(
    http: httpx.AsyncClient, gql: GraphQLClient
) -> None:
    page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "GraphiQL" in page.text
    data = await gql.data("{ __schema { queryType { name } } }")
    assert data["__schema"]["queryType"]["name"] == "Query"


async def test_introspection_cannot_nest_without_bound(gql: GraphQLClient) -> None:
    nested = "__schema { types { fields { type { fields { type { fields { name } } } } } } }"
    body = await gql.execute("{ " + nested + " }")
    assert body["data"] is None
    messages = {error["message"] for error in body["errors"]}
    assert messages == {"Maximum introspection depth exceeded"}
    assert {error_code(error) for error in body["errors"]} == {"GRAPHQL_VALIDATION_FAILED"}


@pytest.fixture(scope="module")
async def strict_server() -> AsyncIterator[RunningServer]:
    """What production runs by default (GraphiQL and introspection off; production itself needs
    a real MongoDB), with tighter limits to show every limit is read from the settings."""
    running = await start_server(
        server_settings(
            graphiql=False,
            introspection=False,
            graphql_max_depth=2,
            graphql_max_cost=100,
            graphql_max_body_bytes=4096,
        )
    )
    yield running
    await running.stop()


@pytest.fixture
async def strict(strict_server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=30) as client:
        yield client


async def test_graphiql_can_be_switched_off(strict: httpx.AsyncClient) -> None:
    page = await strict.get("/graphql", headers={"accept": "text/html"})
    assert page.status_code == 404
    error = page.json()["errors"][0]
    assert error_code(error) == "NOT_FOUND"
    assert "TRADEGRAPH_GRAPHIQL=true" in error["message"]


async def test_introspection_can_be_switched_off(strict: httpx.AsyncClient) -> None:
    gql = GraphQLClient(strict)
    for query in ("{ __schema { queryType { name } } }", '{ __type(name: "Query") { name } }'):
        error = await gql.error(query)
        assert error_code(error) == "GRAPHQL_VALIDATION_FAILED"
        assert "introspection is off" in error["message"]
        assert "TRADEGRAPH_INTROSPECTION=true" in error["message"]
    assert (await gql.data("{ __typename }"))["__typename"] == "Query"


async def test_limits_are_read_from_the_settings(strict: httpx.AsyncClient) -> None:
    gql = GraphQLClient(strict)
    error = await gql.error("{ backtests { edges { node { id } } } }")
    assert error["message"] == "query depth 3 exceeds the limit of 2 (TRADEGRAPH_GRAPHQL_MAX_DEPTH)"
    error = await gql.error("{ events(first: 99) { edges { cursor } } }")
    assert error["message"] == (
        "estimated cost 101 exceeds the limit of 100 (TRADEGRAPH_GRAPHQL_MAX_COST);"
        " ask for smaller pages (first) or fewer fields"
    )
    error = await gql.error("{ events(first: 98) { edges { cursor } } }")
    assert error_code(error) == "UNAUTHENTICATED"  # within the limits: the resolver ran
    response = await strict.post("/graphql", json={"query": "{ __typename }", "pad": "x" * 4096})
    assert response.status_code == 413
