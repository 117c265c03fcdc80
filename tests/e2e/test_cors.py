"""CORS on HTTP and the WebSocket origin check, from one setting (TRADEGRAPH_CORS_ORIGINS)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from tests.e2e.conftest import server_settings
from tradegraph.server import RunningServer, start_server

PARTNER = "https://widgets.partner.example"


def preflight(origin: str, headers: str = "authorization,content-type") -> dict[str, str]:
    return {
        "origin": origin,
        "access-control-request-method": "POST",
        "access-control-request-headers": headers,
    }


async def handshake(server_url: str, origin: str) -> int:
    """The HTTP status of a graphql-transport-ws handshake sent with `origin`: 101 accepted."""
    url = server_url.replace("http", "ws", 1) + "/graphql"
    try:
        async with websockets.connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], origin=Origin(origin)
        ) as socket:
            assert socket.subprotocol == "graphql-transport-ws"
            return 101
    except websockets.InvalidStatus as refused:
        return refused.response.status_code


@pytest.fixture
async def partner_server() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(cors_origins=f"{PARTNER}, http://app.test:8080"))
    yield running
    await running.stop()


@pytest.fixture
async def closed_server() -> AsyncIterator[RunningServer]:
    """TRADEGRAPH_CORS_ORIGINS set but empty: what production allows by default (production
    itself cannot start here: it needs a real MongoDB; see tests/unit/web/test_cors.py)."""
    running = await start_server(server_settings(cors_origins=""))
    yield running
    await running.stop()


async def test_development_preflight_from_a_local_port_answers_204_echoing_the_origin(
    http: httpx.AsyncClient,
) -> None:
    response = await http.options("/graphql", headers=preflight("http://localhost:5173"))
    assert response.status_code == 204, response.text
    assert response.headers["access-control-allow-origin"] == "http://localhost:5173"
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed
    assert "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.content == b""


async def test_a_cross_origin_post_carries_the_allowed_origin(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": "http://127.0.0.1:3000"}
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "http://127.0.0.1:3000"


async def test_development_refuses_a_remote_origin(http: httpx.AsyncClient) -> None:
    response = await http.options("/graphql", headers=preflight("https://evil.example"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    posted = await http.post(
        "/graphql", json={"query": "{ __typename }"}, headers={"origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in posted.headers


async def test_development_websocket_accepts_local_pages_and_refuses_others_with_403(
    server: RunningServer,
) -> None:
    assert await handshake(server.url, "http://localhost:5173") == 101
    assert await handshake(server.url, "https://evil.example") == 403


async def test_configured_origins_replace_the_development_default(
    partner_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=partner_server.url) as client:
        granted = await client.options("/graphql", headers=preflight(PARTNER))
        assert granted.status_code == 204
        assert granted.headers["access-control-allow-origin"] == PARTNER
        local = await client.options("/graphql", headers=preflight("http://localhost:5173"))
        assert local.status_code == 400
    assert await handshake(partner_server.url, PARTNER) == 101
    assert await handshake(partner_server.url, "http://app.test:8080") == 101
    assert await handshake(partner_server.url, "http://localhost:5173") == 403


async def test_a_header_outside_the_allowed_ones_is_refused(
    partner_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=partner_server.url) as client:
        response = await client.options("/graphql", headers=preflight(PARTNER, "x-secret"))
    assert response.status_code == 400


async def test_websocket_refusal_is_logged_with_the_reason(
    partner_server: RunningServer, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await handshake(partner_server.url, "https://evil.example") == 403
    logged = capsys.readouterr()
    text = logged.out + logged.err
    assert "origin not allowed" in text
    assert "https://evil.example" in text
    assert "TRADEGRAPH_CORS_ORIGINS" in text


async def test_same_origin_and_originless_sockets_are_always_accepted(
    partner_server: RunningServer,
) -> None:
    assert await handshake(partner_server.url, partner_server.url) == 101
    url = partner_server.url.replace("http", "ws", 1) + "/graphql"
    async with websockets.connect(
        url, subprotocols=[Subprotocol("graphql-transport-ws")]
    ) as socket:
        assert socket.subprotocol == "graphql-transport-ws"


async def test_an_empty_setting_allows_no_other_origin(closed_server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=closed_server.url) as client:
        response = await client.options("/graphql", headers=preflight("http://localhost:5173"))
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers
    assert await handshake(closed_server.url, "http://localhost:5173") == 403
