"""The pages the server ships: GraphiQL and the dashboard load only same-origin assets, which
are package data (no Node needed to serve them)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import server_settings
from tradegraph.server import RunningServer, start_server

ASSET = re.compile(r'(?:src|href)="([^"]+)"')


async def assets_of(http: httpx.AsyncClient, path: str) -> list[str]:
    page = await http.get(path, headers={"accept": "text/html"})
    assert page.status_code == 200, page.text
    assert page.headers["content-type"].startswith("text/html")
    return [url for url in ASSET.findall(page.text) if not url.startswith("data:")]


@pytest.mark.parametrize("path", ["/graphql", "/"])
async def test_page_loads_only_same_origin_assets_that_exist(
    http: httpx.AsyncClient, path: str
) -> None:
    assets = await assets_of(http, path)
    assert any(url.endswith(".js") for url in assets)
    assert any(url.endswith(".css") for url in assets)
    for url in assets:
        assert url.startswith("/"), url
        assert not url.startswith("//"), url
        response = await http.get(url)
        assert response.status_code == 200, url
        assert len(response.content) > 1000, url


async def test_graphiql_bundle_speaks_graphql_transport_ws(http: httpx.AsyncClient) -> None:
    bundle = (await http.get("/static/graphiql/graphiql.js")).text
    assert "graphql-transport-ws" in bundle
    assert "https://unpkg.com" not in bundle
    assert "cdn.jsdelivr" not in bundle


@pytest.fixture
async def no_dashboard_server() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(dashboard=False))
    yield running
    await running.stop()


async def test_dashboard_off_sends_the_root_to_the_api(
    no_dashboard_server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=no_dashboard_server.url) as client:
        response = await client.get("/")
    assert response.status_code == 307
    assert response.headers["location"] == "/graphql"
