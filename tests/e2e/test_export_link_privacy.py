"""Export links leak nowhere: the token never reaches the access log, and the link's address is
TRADEGRAPH_PUBLIC_URL or one the server can confirm, never whatever the Host header says."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from tests.e2e.conftest import register, server_settings
from tests.e2e.test_export_links import EXPORT_URL, export_url
from tests.support.clients import GraphQLClient
from tests.support.trading import CREATE_PORTFOLIO
from tradegraph.server import RunningServer, start_server
from tradegraph.web.exports import ACCESS_LOGGER


class Collected(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@pytest.fixture
def access_log() -> Iterator[Collected]:
    collected = Collected()
    logger = logging.getLogger(ACCESS_LOGGER)
    level = logger.level
    logger.setLevel(logging.INFO)
    logger.addHandler(collected)
    yield collected
    logger.removeHandler(collected)
    logger.setLevel(level)


async def portfolio_of(gql: GraphQLClient, token: str) -> str:
    created = await gql.data(CREATE_PORTFOLIO, {"name": "Export", "currency": "USD"}, token)
    return str(created["createPortfolio"]["id"])


async def test_the_export_token_never_appears_in_the_access_log(
    server: RunningServer, gql: GraphQLClient, trader: dict, access_log: Collected
) -> None:
    pid = await portfolio_of(gql, trader["accessToken"])
    url = await export_url(gql, trader["accessToken"], pid, "POSITIONS")
    token = url.partition("?token=")[2]
    async with httpx.AsyncClient() as browser:
        downloaded = await browser.get(url)
    assert downloaded.status_code == 200
    logged = [line for line in access_log.lines if "/exports/portfolios/" in line]
    assert logged, access_log.lines  # the request was logged...
    assert all(token not in line for line in access_log.lines)  # ...without its token
    assert "?token=[redacted]" in logged[0]


async def test_a_forged_host_header_never_becomes_the_links_address(
    server: RunningServer, gql: GraphQLClient, trader: dict
) -> None:
    pid = await portfolio_of(gql, trader["accessToken"])
    response = await gql.http.post(
        "/graphql",
        json={"query": EXPORT_URL, "variables": {"id": pid, "kind": "ORDERS"}},
        headers={"authorization": f"Bearer {trader['accessToken']}", "host": "evil.example"},
    )
    url = response.json()["data"]["exportUrl"]
    assert "evil.example" not in url
    assert url.startswith(f"/exports/portfolios/{pid}/orders.csv?token=")  # relative: safe
    # The address the socket really has is confirmed, so the link stays absolute.
    confirmed = await export_url(gql, trader["accessToken"], pid, "ORDERS")
    assert confirmed.startswith(f"{server.url}/exports/")


@pytest.fixture
async def published() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(public_url="https://trading.example.com/"))
    yield running
    await running.stop()


async def test_links_use_the_public_url_when_set(published: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=published.url, headers={"host": "evil.example"}) as http:
        gql = GraphQLClient(http)
        token = (await register(gql, "pub@example.com"))["accessToken"]
        pid = await portfolio_of(gql, token)
        url = await export_url(gql, token, pid, "ORDERS")
    assert url.startswith(f"https://trading.example.com/exports/portfolios/{pid}/orders.csv?token=")
