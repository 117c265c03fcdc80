"""Widget keys under attack (issue 26): what a hostile page or script tries with a widget
socket (`/graphql?widget`) or the X-Widget-Key header, on a real server, and what it gets."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import redis.asyncio as redis
import websockets
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import login_admin, server_settings
from tests.support.clients import GraphQLClient, TransportWS, error_code
from tests.support.servers import Process
from tests.support.trading import create_instrument, publish_quote
from tests.support.widget_keys import (
    SITE,
    WIDGET_KEYS,
    acknowledged_widget,
    closed_with,
    create_widget_key,
    revoke_widget_key,
    widget_socket,
)
from tradegraph.documents import WidgetKey
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

QUOTES = "query($s: [String!]!) { quotes(symbols: $s) { symbol bid } }"


async def outcome(client: TransportWS, operation_id: str) -> list[dict[str, Any]]:
    """The errors an operation ended with (an `error` message, or `next` with errors)."""
    message = await client.receive()
    assert message["id"] == operation_id, message
    if message["type"] == "error":
        return list(message["payload"])
    errors = message["payload"].get("errors") or []
    assert (await client.receive())["type"] == "complete"
    return list(errors)


async def answers_until_closed(client: TransportWS) -> tuple[list[dict[str, Any]], int]:
    """What the server sent until it closed the socket, and the close code."""
    answers = []
    try:
        while True:
            answers.append(await client.receive())
    except websockets.ConnectionClosed as closed:
        frame = closed.rcvd
    assert frame is not None, "closed without a close frame"
    return answers, frame.code


async def test_a_key_that_is_not_a_short_string_is_refused_as_unknown(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    key = (await create_widget_key(gql, admin_token))["key"]
    for presented in [123, [key], {"key": key}, True, "wk_" + "a" * 5_000, key.upper(), ""]:
        client = await widget_socket(server.url, presented)
        code, reason = await closed_with(client)
        assert (code, reason.split(":")[0]) == (4403, "widget key unknown"), presented


async def test_only_the_exact_origin_a_browser_would_send_is_accepted(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    key = (await create_widget_key(gql, admin_token, origins=[SITE, "http://127.0.0.1:8080"]))[
        "key"
    ]
    refused = [
        "null",
        "https://shop.example/",
        "https://shop.example:8443",
        "http://shop.example",
        "https://shop.example.evil.example",
        "https://evil.example/https://shop.example",
        "https://user@shop.example",
        "http://127.0.0.1",
        "http://127.0.0.1:8081",
        "",
    ]
    for origin in refused:
        client = await widget_socket(server.url, key, origin)
        code, reason = await closed_with(client)
        assert code == 4403, origin
        assert "not allowed for widget key" in reason or "no Origin" in reason, origin
    # What browsers send for the listed origins (a default port is never sent; it is the same).
    for origin in [SITE, "https://shop.example:443", "http://127.0.0.1:8080"]:
        client = await acknowledged_widget(server.url, key, origin)
        await client.close()
    # Another site's key, presented from this site: its origins are not this site's.
    other = (await create_widget_key(gql, admin_token, origins=["https://other.example"]))["key"]
    client = await widget_socket(server.url, other, SITE)
    code, reason = await closed_with(client)
    assert code == 4403
    assert f"origin {SITE} is not allowed" in reason


async def test_a_widget_socket_runs_nothing_before_its_key_is_accepted(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    url = server.url.replace("http", "ws", 1) + "/graphql?widget"
    # graphql-transport-ws: subscribe before connection_init is 4401.
    socket = await websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")], origin=Origin(SITE)
    )
    client = TransportWS(socket)
    await client.subscribe("1", QUOTES, {"s": ["PETR4"]})
    assert (await closed_with(client))[0] == 4401
    # A subscribe sent right behind a refused connection_init, before its answer: nothing runs.
    key = (await create_widget_key(gql, admin_token))["key"]
    client = await widget_socket(server.url, key, "https://evil.example")
    await client.subscribe("2", QUOTES, {"s": ["PETR4"]})
    answers, code = await answers_until_closed(client)
    assert answers == []  # no result, no error: the operation never ran
    assert code in (4401, 4403)  # before the ack, or the refused init: either way, closed
    # Legacy graphql-ws from a foreign page: a `start` before connection_init runs nothing.
    legacy = await websockets.connect(
        url, subprotocols=[Subprotocol("graphql-ws")], origin=Origin("https://evil.example")
    )
    start = {"type": "start", "id": "1", "payload": {"query": "{ marketHistory { loading } }"}}
    await legacy.send(json.dumps(start))
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await legacy.recv()  # an answer here would mean the operation ran
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4401


async def test_aliases_fragments_and_introspection_reach_no_other_field(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    key = (await create_widget_key(gql, admin_token, symbols=["PETR4"]))["key"]
    client = await acknowledged_widget(server.url, key)
    refused = [
        "{ a: me { id } }",
        "query { ...F } fragment F on Query { portfolios { id } }",
        "{ ... on Query { widgetKeys { id } } }",
        '{ instruments { symbol } quotes(symbols: ["PETR4"]) { bid } '
        "x: marketHistory { loading } }",
        "{ __typename w: widgetKeys { id } }",
        'mutation { __typename createWidgetKey(input: {name: "x", origins: ["https://a.example"]})'
        " { key } }",
        "{ __schema { queryType { name } } }",
        '{ __type(name: "Portfolio") { fields { name } } }',
        'subscription { ... on Subscription { quotes(symbols: ["VALE3"]) { bid } } }',
        'query { quote(symbol: " vale3 ") { bid } }',
        'query { a: quote(symbol: "PETR4") { bid } b: candles(symbol: "VALE3", '
        "interval: ONE_MINUTE) { close } }",
    ]
    for index, query in enumerate(refused):
        await client.subscribe(str(index), query)
        errors = await outcome(client, str(index))
        assert errors, query
        assert {error_code(e) for e in errors} == {"FORBIDDEN"}, (query, errors)
    await client.subscribe("ok", '{ __typename quote(symbol: " petr4 ") { __typename } }')
    assert await outcome(client, "ok") == []
    keys = await gql.data(WIDGET_KEYS, {}, admin_token)
    assert len(keys["widgetKeys"]) == 1  # the mutation stored nothing
    await client.close()


async def test_over_http_an_access_token_never_widens_a_key_nor_introspection_opens(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    key = (await create_widget_key(gql, admin_token, symbols=["PETR4"]))["key"]
    for headers in [
        {"authorization": f"Bearer {admin_token}"},
        {"authorization": "Bearer made-up"},
        {"authorization": ""},
    ]:
        response = await http.post(
            "/graphql",
            json={"query": WIDGET_KEYS},
            headers={"x-widget-key": key, "origin": SITE, **headers},
        )
        body = response.json()
        assert body.get("data") is None, body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    for query in ["{ __schema { types { name } } }", '{ __type(name: "Order") { name } }']:
        # Valid for a user first: the cached document must be validated again for the key.
        assert await gql.data(query, {}, admin_token)
        response = await http.post(
            "/graphql", json={"query": query}, headers={"x-widget-key": key, "origin": SITE}
        )
        body = response.json()
        assert body.get("data") is None, body
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        assert "introspection" in body["errors"][0]["message"]


async def test_on_a_plain_socket_too_a_key_with_an_access_token_is_refused(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    """/graphql without `?widget`, from an origin the CORS setting allows (development:
    localhost): a key beside a token is refused, not merged with it."""
    key = (await create_widget_key(gql, admin_token, origins=["http://localhost:5173"]))["key"]
    socket = await websockets.connect(
        server.url.replace("http", "ws", 1) + "/graphql",
        subprotocols=[Subprotocol("graphql-transport-ws")],
        origin=Origin("http://localhost:5173"),
    )
    client = TransportWS(socket)
    payload = {"widgetKey": key, "Authorization": f"Bearer {admin_token}"}
    await client.send({"type": "connection_init", "payload": payload})
    assert await closed_with(client) == (4403, "send a widget key or an access token, not both")


async def test_a_revoked_key_is_refused_over_http_at_once_though_it_was_cached(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await publish_quote(gql, admin_token, "10.00", "10.02")
    created = await create_widget_key(gql, admin_token)
    headers = {"x-widget-key": created["key"], "origin": SITE}
    request = {"query": QUOTES, "variables": {"s": ["PETR4"]}}
    first = await http.post("/graphql", json=request, headers=headers)
    assert first.json()["data"]["quotes"][0]["bid"] == "10.00"  # the key is cached now
    await revoke_widget_key(gql, admin_token, created["id"])
    after = await http.post("/graphql", json=request, headers=headers)
    assert after.status_code == 401
    assert after.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "revoked" in after.json()["errors"][0]["message"]


async def test_the_key_is_in_no_answer_but_the_first(gql: GraphQLClient, admin_token: str) -> None:
    created = await create_widget_key(gql, admin_token)
    listed = (await gql.data(WIDGET_KEYS, {}, admin_token))["widgetKeys"]
    revoked = await gql.data(
        "mutation($id: ID!) { revokeWidgetKey(id: $id) { key keyHint } }",
        {"id": created["id"]},
        admin_token,
    )
    assert created["key"].startswith("wk_")
    assert [k["key"] for k in listed] == [None]
    assert revoked["revokeWidgetKey"]["key"] is None
    assert created["key"] not in json.dumps([listed, revoked])
    assert created["key"].startswith(listed[0]["keyHint"])


async def test_the_key_is_never_logged_nor_stored(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    created = await create_widget_key(gql, admin_token)
    key = created["key"]
    await http.post(
        "/graphql",
        json={"query": "{ me { id } }"},
        headers={"x-widget-key": key, "origin": "https://evil.example"},
    )
    refused = await widget_socket(server.url, key, "https://evil.example")
    assert (await closed_with(refused))[0] == 4403
    await revoke_widget_key(gql, admin_token, created["id"])
    logged = capsys.readouterr()
    assert "widget key created" in logged.out + logged.err  # the log is captured here
    assert "widget socket refused" in logged.out + logged.err
    assert key not in logged.out + logged.err
    assert key[len("wk_") + 6 :] not in logged.out + logged.err  # not even past the hint
    stored = await WidgetKey.find_all().to_list()
    assert key not in json.dumps([s.model_dump(mode="json") for s in stored])


@pytest.fixture
async def redis_backed(redis_server: Process) -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(broadcast_url=redis_server.url))
    yield running
    await running.stop()


async def test_a_cached_key_is_not_trusted_while_revocations_could_go_unheard(
    redis_backed: RunningServer, redis_server: Process
) -> None:
    """Another process revokes the key while this one's broker subscription is down, so its
    message never arrives here: the admission this process cached must not outlive it."""
    services: Services = redis_backed.app.state.services
    async with httpx.AsyncClient(base_url=redis_backed.url, timeout=30) as http:
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        created = await create_widget_key(gql, admin)
        headers = {"x-widget-key": created["key"], "origin": SITE}
        request = {"query": "{ instruments { symbol } }"}
        assert (await http.post("/graphql", json=request, headers=headers)).status_code == 200
        stored = await WidgetKey.get(created["id"])
        assert stored is not None
        stored.revoked_at = datetime.now(UTC)  # as the other process did; no message here
        await stored.save()
        interrupted = services.broker.interrupted_subscriptions
        killer = redis.from_url(redis_server.url)
        try:
            await killer.client_kill_filter(_type="pubsub")
        finally:
            await killer.aclose()
        while services.broker.interrupted_subscriptions == interrupted:  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # the reader notices the lost connection
        refused = await http.post("/graphql", json=request, headers=headers)
        assert refused.status_code == 401, refused.text
        assert "revoked" in refused.json()["errors"][0]["message"]
