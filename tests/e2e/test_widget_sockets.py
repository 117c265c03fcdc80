"""Widget keys on WebSockets (issue 26): a widget socket (`/graphql?widget`) from the key's
origin gets live market data, shared with every other subscriber of the same document; any
other key, origin or operation is refused; revoking a key closes its sockets (4403), also when
the revocation comes from another process over Redis; each key has its own caps."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as redis

from tests.e2e.conftest import login_admin, server_settings
from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    error_code,
    wait_for_subscribers,
)
from tests.support.servers import Process
from tests.support.trading import (
    PLACE_ORDER,
    PORTFOLIO,
    create_instrument,
    order_input,
    publish_quote,
    quoted_portfolio,
)
from tests.support.widget_keys import (
    SITE,
    acknowledged_widget,
    closed_with,
    create_widget_key,
    revoke_widget_key,
    widget_socket,
)
from tradegraph.pubsub.channels import WIDGET_KEYS_REVOKED, quote_channel
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

LIVE = "subscription($s: [String!]!) { quotes(symbols: $s) { symbol bid ask } }"


async def next_payload(client: TransportWS, operation_id: str) -> dict:
    message = await client.receive()
    assert message["id"] == operation_id, message
    return message


async def test_a_widget_socket_streams_quotes_shared_with_other_subscribers(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    services: Services,
) -> None:
    await create_instrument(gql, admin_token)
    key = (await create_widget_key(gql, admin_token))["key"]
    widgets = [await acknowledged_widget(server.url, key) for _ in range(2)]
    user = await connected(server.url, admin_token)
    for client in [*widgets, user]:
        await client.subscribe("q", LIVE, {"s": ["PETR4"]})
    await wait_for_subscribers(http, quote_channel("PETR4"), 3)
    # One execution serves the three sockets: one broker subscription on the channel.
    assert services.broker.source_counts()[quote_channel("PETR4")] == 1
    await publish_quote(gql, admin_token, "10.00", "10.02")
    for client in [*widgets, user]:
        message = await next_payload(client, "q")
        assert message["payload"]["data"]["quotes"] == {
            "symbol": "PETR4",
            "bid": "10.00",
            "ask": "10.02",
        }
        await client.close()


async def test_a_widget_socket_can_run_queries_and_candles(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await publish_quote(gql, admin_token, "10.00", "10.02")
    key = (await create_widget_key(gql, admin_token, symbols=["PETR4"]))["key"]
    client = await acknowledged_widget(server.url, key)
    await client.subscribe(
        "h", 'query { candles(symbol: "PETR4", interval: ONE_MINUTE) { close } }'
    )
    message = await next_payload(client, "h")
    assert message["payload"]["data"]["candles"] == [{"close": "10.010"}]
    assert (await next_payload(client, "h"))["type"] == "complete"
    await client.subscribe(
        "c", 'subscription { candles(symbol: "PETR4", interval: ONE_MINUTE) { close } }'
    )
    await client.subscribe("q", LIVE, {"s": ["PETR4"]})
    assert (await next_payload(client, "q"))["payload"]["data"]["quotes"]["bid"] == "10.00"
    await client.close()


async def test_a_widget_socket_may_not_trade_read_portfolios_or_other_symbols(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    portfolio_id = await quoted_portfolio(gql, admin_token, trader["accessToken"])
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    key = (await create_widget_key(gql, admin_token, symbols=["PETR4"]))["key"]
    client = await acknowledged_widget(server.url, key)
    refused: list[tuple[str, dict[str, Any], str]] = [
        (PLACE_ORDER, {"input": order_input(portfolio_id, "BUY", "1")}, "reads only market"),
        (PORTFOLIO, {"id": portfolio_id}, "reads only market"),
        ("subscription { eventCreated { type } }", {}, "reads only market"),
        (
            "subscription($id: ID!) { portfolioValue(portfolioId: $id) { equity } }",
            {"id": portfolio_id},
            "reads only market",
        ),
        (LIVE, {"s": ["PETR4", "VALE3"]}, "does not cover VALE3"),
        (
            'subscription { candles(symbol: "VALE3", interval: ONE_MINUTE) { close } }',
            {},
            "does not cover VALE3",
        ),
    ]
    for index, (query, variables, words) in enumerate(refused):
        await client.subscribe(str(index), query, variables)
        message = await next_payload(client, str(index))
        if message["type"] == "next":  # an operation that ran: its errors, then complete
            errors = message["payload"]["errors"]
            assert (await next_payload(client, str(index)))["type"] == "complete"
        else:
            errors = message["payload"]
        assert error_code(errors[0]) == "FORBIDDEN", message
        assert words in errors[0]["message"]
    orders = await gql.data(
        "query($id: ID!) { orders(portfolioId: $id) { edges { cursor } } }",
        {"id": portfolio_id},
        trader["accessToken"],
    )
    assert orders["orders"]["edges"] == []
    await client.close()


async def test_unknown_revoked_and_wrong_origin_keys_are_refused_at_connection_init(
    server: RunningServer, gql: GraphQLClient, admin_token: str
) -> None:
    created = await create_widget_key(gql, admin_token)
    key = created["key"]
    cases = [
        (key, "https://evil.example", "origin https://evil.example is not allowed"),
        (key, None, "no Origin header"),
        ("wk_made-up", SITE, "widget key unknown"),
        (None, SITE, 'send {"widgetKey"'),
    ]
    for presented, origin, words in cases:
        client = await widget_socket(server.url, presented, origin)
        code, reason = await closed_with(client)
        assert code == 4403
        assert words in reason
    client = await widget_socket(server.url, key, Authorization=f"Bearer {admin_token}")
    assert await closed_with(client) == (4403, "send a widget key or an access token, not both")
    await revoke_widget_key(gql, admin_token, created["id"])
    client = await widget_socket(server.url, key)
    code, reason = await closed_with(client)
    assert (code, reason.split(":")[0]) == (4403, "widget key revoked")


async def test_revoking_a_key_closes_its_open_sockets(
    server: RunningServer, http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    created = await create_widget_key(gql, admin_token)
    other = await create_widget_key(gql, admin_token, name="Other site")
    revoked = [await acknowledged_widget(server.url, created["key"]) for _ in range(2)]
    kept = await acknowledged_widget(server.url, other["key"])
    for client in [*revoked, kept]:
        await client.subscribe("q", LIVE, {"s": ["PETR4"]})
    await wait_for_subscribers(http, quote_channel("PETR4"), 3)
    await revoke_widget_key(gql, admin_token, created["id"])
    for client in revoked:
        assert await closed_with(client) == (4403, "widget key revoked")
    await publish_quote(gql, admin_token, "10.00", "10.02")
    assert (await next_payload(kept, "q"))["payload"]["data"]["quotes"]["bid"] == "10.00"
    await kept.close()


async def test_a_widget_socket_from_another_origin_takes_no_access_token(
    server: RunningServer, admin_token: str
) -> None:
    client = await widget_socket(
        server.url, None, "https://evil.example", Authorization=f"Bearer {admin_token}"
    )
    code, reason = await closed_with(client)
    assert code == 4403
    assert "widget key or an access token" in reason


@pytest.fixture
async def capped_server() -> AsyncIterator[RunningServer]:
    running = await start_server(
        server_settings(widget_key_max_connections=2, widget_key_max_subscriptions=1)
    )
    yield running
    await running.stop()


async def test_each_key_has_its_own_connection_and_subscription_caps(
    capped_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=capped_server.url, timeout=30) as http:
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        await create_instrument(gql, admin)
        first = (await create_widget_key(gql, admin))["key"]
        second = (await create_widget_key(gql, admin, name="Second"))["key"]
        held = [await acknowledged_widget(capped_server.url, first) for _ in range(2)]
        refused = await widget_socket(capped_server.url, first)
        code, reason = await closed_with(refused)
        assert code == 4429
        assert "too many connections for this widget key (at most 2)" in reason
        other = await acknowledged_widget(capped_server.url, second)  # its own count
        await held[0].subscribe("a", LIVE, {"s": ["PETR4"]})
        await held[1].subscribe("b", LIVE, {"s": ["PETR4"]})
        message = await next_payload(held[1], "b")
        assert error_code(message["payload"][0]) == "RATE_LIMITED"
        assert "this widget key" in message["payload"][0]["message"]
        await held[0].close()  # gives its socket and subscription back
        again = await acknowledged_widget(capped_server.url, first)
        for client in [*held[1:], other, again]:
            await client.close()


@pytest.fixture
async def redis_backed(redis_server: Process) -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(broadcast_url=redis_server.url))
    yield running
    await running.stop()


async def test_a_revocation_published_by_another_process_closes_sockets_here(
    redis_backed: RunningServer, redis_server: Process
) -> None:
    """What a revokeWidgetKey in another `serve` process does here: its message arrives over
    Redis and this process closes the key's sockets (the store is the other process's)."""
    async with httpx.AsyncClient(base_url=redis_backed.url, timeout=30) as http:
        gql = GraphQLClient(http)
        admin = await login_admin(gql)
        created = await create_widget_key(gql, admin)
        client = await acknowledged_widget(redis_backed.url, created["key"])
        publisher = redis.from_url(redis_server.url)
        try:
            receivers = await publisher.publish(
                WIDGET_KEYS_REVOKED, json.dumps({"id": created["id"]})
            )
            assert receivers >= 1
            assert await closed_with(client) == (4403, "widget key revoked")
        finally:
            await publisher.aclose()
