"""Origins that are more than scheme://host[:port] (userinfo, a path, whitespace) are refused on
HTTP and WebSocket, never echoed back, even when any origin (`*`) is allowed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import server_settings
from tests.e2e.test_cors import handshake, preflight
from tradegraph.server import RunningServer, start_server
from tradegraph.web.cors import OriginPolicy

MALFORMED = [
    "http://user@localhost:5173",
    "http://user:pass@localhost:5173",
    "http://localhost:5173/path",
    "http://localhost:5173/",
    " http://localhost:5173",
    "http://localhost:5173 ",
    "http://localhost:5173\t",
    "http://local host:5173",
    "http://localhost:5173?x=1",
    "http://localhost:5173#x",
]


@pytest.fixture
async def any_origin_server() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(cors_origins="*"))
    yield running
    await running.stop()


@pytest.mark.parametrize("origin", MALFORMED)
def test_the_policy_refuses_an_origin_with_userinfo_a_path_or_whitespace(origin: str) -> None:
    assert not OriginPolicy(frozenset({"*"})).allows(origin)
    assert not OriginPolicy.from_settings(server_settings()).allows(origin)
    assert OriginPolicy(frozenset({"*"})).allows("http://localhost:5173")


@pytest.mark.parametrize("origin", ["http://user@localhost:5173", "http://localhost:5173/path"])
async def test_a_malformed_origin_gets_no_cors_grant_in_development(
    http: httpx.AsyncClient, origin: str
) -> None:
    refused = await http.options("/graphql", headers=preflight(origin))
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers
    simple = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
    )
    assert "access-control-allow-origin" not in simple.headers


async def test_a_malformed_origin_is_not_echoed_even_when_any_origin_is_allowed(
    any_origin_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=any_origin_server.url) as client:
        for origin in ("http://evil@partner.example", "https://partner.example/x"):
            response = await client.post(
                "/graphql", json={"query": "{ __typename }"}, headers={"origin": origin}
            )
            assert "access-control-allow-origin" not in response.headers, origin
        granted = await client.post(
            "/graphql",
            json={"query": "{ __typename }"},
            headers={"origin": "https://partner.example"},
        )
        assert granted.headers["access-control-allow-origin"] == "https://partner.example"


async def test_a_websocket_handshake_with_userinfo_in_its_origin_is_refused(
    server: RunningServer,
) -> None:
    assert await handshake(server.url, "http://user@localhost:5173") == 403
    assert await handshake(server.url, "http://localhost:5173") == 101


@pytest.mark.parametrize("origin", ["http://user@site.example", "https://site.example/x"])
async def test_a_widget_key_request_never_echoes_a_malformed_origin(
    http: httpx.AsyncClient, origin: str
) -> None:
    """Widget-key requests may come from any origin, but only from an origin."""
    preflight = await http.options(
        "/graphql",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-widget-key",
        },
    )
    assert "access-control-allow-origin" not in preflight.headers
    response = await http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"origin": origin, "x-widget-key": "wk_unknown"},
    )
    assert "access-control-allow-origin" not in response.headers
    allowed = await http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"origin": "https://site.example", "x-widget-key": "wk_unknown"},
    )
    assert allowed.headers["access-control-allow-origin"] == "https://site.example"
