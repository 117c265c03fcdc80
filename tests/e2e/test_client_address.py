"""The client address behind per-address budgets: the socket's peer unless a proxy named in
TRADEGRAPH_TRUSTED_PROXIES forwards it; and a budget charges only what it is named for."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest

from tests.e2e.conftest import LOGIN, REGISTER, server_settings
from tests.e2e.test_auth_hardening import client_at
from tests.support.clients import GraphQLClient, error_code
from tradegraph.documents import User
from tradegraph.server import RunningServer, start_server
from tradegraph.web.client_address import forwarded_for

MAX_FAILURES = 3  # login_max_failures of the test servers


async def login_code(gql: GraphQLClient, headers: dict[str, str]) -> str:
    variables = {"email": "nobody@example.com", "password": "wrong-password-1"}
    response = await gql.http.post(
        "/graphql", json={"query": LOGIN, "variables": variables}, headers=headers
    )
    return error_code(response.json()["errors"][0])


async def spend_budget(gql: GraphQLClient, headers: dict[str, str]) -> None:
    for _ in range(MAX_FAILURES):
        assert await login_code(gql, headers) == "UNAUTHENTICATED"


@pytest.fixture
async def behind_proxy() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(trusted_proxies="127.0.0.1"))
    yield running
    await running.stop()


@pytest.fixture
async def behind_rfc7239_proxy() -> AsyncIterator[RunningServer]:
    settings = server_settings(trusted_proxies="127.0.0.1", forwarded_header="forwarded")
    running = await start_server(settings)
    yield running
    await running.stop()


async def test_without_trusted_proxies_x_forwarded_for_does_not_escape_the_budget(
    server: RunningServer,
) -> None:
    async with client_at(server.url, "127.0.0.1") as gql:
        await spend_budget(gql, {"x-forwarded-for": "203.0.113.1"})
        # Another claimed address is the same socket peer: still refused.
        assert await login_code(gql, {"x-forwarded-for": "203.0.113.2"}) == "RATE_LIMITED"
        assert await login_code(gql, {"forwarded": "for=203.0.113.3"}) == "RATE_LIMITED"


async def test_a_trusted_proxy_says_who_its_clients_are(behind_proxy: RunningServer) -> None:
    async with client_at(behind_proxy.url, "127.0.0.1") as proxy:
        await spend_budget(proxy, {"x-forwarded-for": "203.0.113.1"})
        assert await login_code(proxy, {"x-forwarded-for": "203.0.113.1"}) == "RATE_LIMITED"
        assert await login_code(proxy, {"x-forwarded-for": "203.0.113.2"}) == "UNAUTHENTICATED"
        # The client's own claim to the left of what the proxy appended changes nothing.
        spoofed = {"x-forwarded-for": "198.51.100.9, 203.0.113.1"}
        assert await login_code(proxy, spoofed) == "RATE_LIMITED"


async def test_an_untrusted_peer_cannot_claim_an_address(behind_proxy: RunningServer) -> None:
    async with client_at(behind_proxy.url, "127.0.0.2") as direct:
        await spend_budget(direct, {"x-forwarded-for": "203.0.113.50"})
        assert await login_code(direct, {"x-forwarded-for": "203.0.113.51"}) == "RATE_LIMITED"


async def test_a_trusted_rfc7239_proxy_is_read_from_forwarded_only(
    behind_rfc7239_proxy: RunningServer,
) -> None:
    async with client_at(behind_rfc7239_proxy.url, "127.0.0.1") as proxy:
        await spend_budget(proxy, {"forwarded": 'for="[2001:db8::7]:4711";proto=https'})
        assert await login_code(proxy, {"forwarded": "for=2001:db8::7"}) == "RATE_LIMITED"
        assert await login_code(proxy, {"forwarded": "for=192.0.2.60"}) == "UNAUTHENTICATED"
        # X-Forwarded-For is not what this proxy sends: a client's copy of it is ignored.
        forged = {"forwarded": "for=2001:db8::7", "x-forwarded-for": "192.0.2.99"}
        assert await login_code(proxy, forged) == "RATE_LIMITED"


def test_forwarded_nodes_are_read_client_first_without_ports() -> None:
    value = 'for=192.0.2.43:80, for="[2001:db8:cafe::17]:4711";proto=HTTPS;by=203.0.113.43'
    assert forwarded_for(value) == (["192.0.2.43", "2001:db8:cafe::17"], "https")
    assert forwarded_for("by=10.0.0.1") == ([], None)


async def test_new_emails_registered_at_once_from_one_address_all_succeed(
    server: RunningServer,
) -> None:
    """The "taken email" budget (5 an hour) is charged only by a taken email: 40 people behind
    one address registering at once are not refused."""
    async with client_at(server.url, "127.0.0.7") as office:
        attempts = [
            office.execute(
                REGISTER, {"email": f"colleague{n}@example.com", "password": "office-pass-9x!"}
            )
            for n in range(40)
        ]
        bodies = await asyncio.gather(*attempts)
    outcomes = Counter(error_code(b["errors"][0]) if "errors" in b else "OK" for b in bodies)
    assert outcomes == {"OK": 40}
    assert await User.find({"email": {"$regex": "^colleague"}}).count() == 40
