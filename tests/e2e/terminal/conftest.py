"""The trading terminal in headless Chromium against one live server (demo instruments, a fast
simulated feed) shared by these tests; each test registers users of its own."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import login_admin, register
from tests.support.browser import launched_chromium, live_server
from tests.support.clients import GraphQLClient
from tradegraph.server import RunningServer


@pytest.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="package")
async def live() -> AsyncIterator[RunningServer]:
    async with live_server() as running:
        yield running


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1440, "height": 960}, locale="en-US")
    opened = await context.new_page()
    yield opened
    await context.close()


@dataclass
class Api:
    """The API as a test sees it: to arrange state and to check the screen against."""

    gql: GraphQLClient
    token: str

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.gql.data(query, variables, self.token)


@pytest.fixture
async def http(live: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as client:
        yield client


@dataclass
class Account:
    email: str
    password: str
    api: Api
    id: str


async def new_trader(http: httpx.AsyncClient) -> Account:
    gql = GraphQLClient(http)
    email = f"trader-{uuid.uuid4().hex[:8]}@example.com"
    password = "terminal-password"
    payload = await register(gql, email, password)
    return Account(email, password, Api(gql, payload["accessToken"]), payload["user"]["id"])


@pytest.fixture
async def trader(http: httpx.AsyncClient) -> Account:
    return await new_trader(http)


@pytest.fixture
async def admin_api(http: httpx.AsyncClient) -> Api:
    gql = GraphQLClient(http)
    return Api(gql, await login_admin(gql))


async def log_in(page: Page, url: str, email: str, password: str) -> None:
    await page.goto(url + "/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.locator("header .user")).to_contain_text(email)


PORTFOLIO_FIELDS = "id name baseCurrency cash availableCash equity"


async def funded(api: Api, currency: str, cash: str = "100000", name: str | None = None) -> str:
    created = await api.data(
        "mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) { id } }",
        {"input": {"name": name or f"Main {currency}", "baseCurrency": currency}},
    )
    portfolio_id: str = created["createPortfolio"]["id"]
    await api.data(
        "mutation($id: ID!, $a: Decimal!) { deposit(portfolioId: $id, amount: $a) { id } }",
        {"id": portfolio_id, "a": cash},
    )
    return portfolio_id


async def portfolio(api: Api, portfolio_id: str, extra: str = "") -> dict[str, Any]:
    query = f"query($id: ID!) {{ portfolio(id: $id) {{ {PORTFOLIO_FIELDS} {extra} }} }}"
    found: dict[str, Any] = (await api.data(query, {"id": portfolio_id}))["portfolio"]
    return found


async def orders_of(api: Api, portfolio_id: str) -> list[dict[str, Any]]:
    query = """query($id: ID!) { orders(portfolioId: $id, first: 100) { edges { node {
      id status symbol side type quantity limitPrice stopPrice orderClass timeInForce
      parent { id } } } } }"""
    edges = (await api.data(query, {"id": portfolio_id}))["orders"]["edges"]
    return [edge["node"] for edge in edges]


async def choose_symbol(page: Page, symbol: str) -> None:
    await page.locator(f"table.watchlist tr[data-symbol={symbol}]").click()
    await expect(page.locator(".chart-symbol")).to_contain_text(symbol)


DOCS = Path(__file__).parents[3] / "docs"
# `make screenshots` sets this to refresh the docs' pictures; otherwise they go to tmp_path.
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    folder = DOCS if UPDATE_SCREENSHOTS else tmp_path
    folder.mkdir(exist_ok=True)
    await page.evaluate("() => document.activeElement?.blur()")  # no focus ring in the picture
    await page.screenshot(path=str(folder / name))
    assert (folder / name).stat().st_size > 10_000  # a rendered page, not a blank one
