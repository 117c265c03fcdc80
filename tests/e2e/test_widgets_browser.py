"""The embeddable widgets in a real browser (issue 26): a plain HTML page on another local origin
embeds each widget from /widgets.js with a widget key and sees live prices move; a page on an
origin not on the key shows the refusal; revoking the key takes the widgets offline; the key
cannot trade or read a portfolio from the page; the /widgets builder works under a strict CSP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, Page, Route, expect
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route as PageRoute

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login_admin, server_settings
from tests.support.browser import launched_chromium, live_server
from tests.support.clients import GraphQLClient, wait_for_subscribers
from tests.support.widget_keys import create_widget_key, revoke_widget_key
from tradegraph.config import MarketFeed
from tradegraph.markets.feeds import market_feed
from tradegraph.markets.seed import seed_universe
from tradegraph.pubsub.channels import quote_channel
from tradegraph.server import RunningServer, listening_socket, start_server
from tradegraph.web.graphql import GraphQLView

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def host_page(api: str, key: str) -> str:
    """A plain HTML page a site owner writes: the script tag and the four elements."""
    return f"""<!doctype html>
<html><head><title>Partner site</title>
<script src="{api}/widgets.js" async></script></head>
<body>
  <tg-ticker-tape server="{api}" key="{key}" symbols="PETR4,VALE3,BTCUSDT"></tg-ticker-tape>
  <tg-quote server="{api}" key="{key}" symbol="AAPL" theme="dark"></tg-quote>
  <tg-mini-chart server="{api}" key="{key}" symbol="BTCUSDT" interval="1m"></tg-mini-chart>
  <tg-market-overview server="{api}" key="{key}" symbols="PETR4,AAPL,BTCUSDT">
  </tg-market-overview>
</body></html>"""


WIDGETS = ["tg-ticker-tape", "tg-quote", "tg-mini-chart", "tg-market-overview"]
# Where each widget shows a last price that the feed moves.
LAST_PRICE = {
    ".preview tg-quote": ".last",
    "tg-ticker-tape": "[data-symbol=BTCUSDT] .last",
    "tg-quote": ".last",
    "tg-mini-chart": ".last",
    "tg-market-overview": "tr[data-symbol=BTCUSDT] td:nth-child(2)",
}


@asynccontextmanager
async def hosted_page(host: str) -> AsyncIterator[tuple[str, Callable[[str], None]]]:
    """A page server on `host` and a free port: its origin, and a way to set the page's HTML
    (the page needs a key, and the key needs the page's origin)."""
    html = ["<!doctype html>"]

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(html[0])

    sock = listening_socket(host, 0)
    server = uvicorn.Server(
        uvicorn.Config(Starlette(routes=[PageRoute("/", page)]), log_config=None, lifespan="off")
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no startup event
        await asyncio.sleep(0.01)

    def set_html(text: str) -> None:
        html[0] = text

    try:
        yield f"http://{host}:{sock.getsockname()[1]}", set_html
    finally:
        server.should_exit = True
        await task


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    # A page fulfilled by page.route (to add a CSP header) has no IP address, so Chromium counts
    # it as public and would block its sockets to loopback: not what is tested here.
    async with launched_chromium("--disable-features=LocalNetworkAccessChecks") as launched:
        yield launched


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[RunningServer]:
    async with live_server() as running:
        yield running


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


@pytest.fixture
async def admin(live: RunningServer) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=30) as http:
        yield GraphQLClient(http)


def view_of(server: RunningServer) -> GraphQLView:
    for route in server.app.routes:
        endpoint = getattr(route, "endpoint", None)
        if isinstance(endpoint, GraphQLView):
            return endpoint
    raise AssertionError("no GraphQL view")


async def price_moves(page: Page, widget: str) -> None:
    """Waits until the widget's last price shows a value, then a different one."""
    price = page.locator(f"{widget} {LAST_PRICE[widget]}").first
    await expect(price).not_to_have_text("—", timeout=10_000)
    first = await price.text_content()
    await expect(price).not_to_have_text(first or "", timeout=10_000)


async def test_each_widget_shows_live_prices_on_another_origin_over_one_socket(
    live: RunningServer, page: Page, admin: GraphQLClient
) -> None:
    token = await login_admin(admin)
    async with hosted_page("127.0.0.2") as (origin, set_html):
        created = await create_widget_key(admin, token, [origin])
        set_html(host_page(live.url, created["key"]))
        await page.goto(origin + "/")
        for widget in WIDGETS:
            await expect(page.locator(widget)).to_have_attribute("state", "live", timeout=10_000)
        for widget in WIDGETS:
            await price_moves(page, widget)
        await expect(page.locator("tg-mini-chart")).not_to_have_attribute("bars", "0")
        assert view_of(live).widget_sockets.count(created["id"]) == 1  # one socket per page
        # Removed from the page, the widgets end their subscriptions and the socket.
        await page.evaluate(
            "() => document.querySelectorAll('tg-ticker-tape, tg-quote, tg-mini-chart, "
            "tg-market-overview').forEach(e => e.remove())"
        )
        await wait_for_subscribers(admin.http, quote_channel("BTCUSDT"), 0)
        async with asyncio.timeout(10):  # the socket closes after a short linger
            while view_of(live).widget_sockets.count(created["id"]):  # noqa: ASYNC110
                await asyncio.sleep(0.05)


async def test_a_page_on_an_origin_not_on_the_key_shows_the_refusal(
    live: RunningServer, page: Page, admin: GraphQLClient
) -> None:
    token = await login_admin(admin)
    async with hosted_page("127.0.0.2") as (origin, set_html):
        created = await create_widget_key(admin, token, ["https://partner.example"])
        set_html(host_page(live.url, created["key"]))
        await page.goto(origin + "/")
        for widget in WIDGETS:
            located = page.locator(widget)
            await expect(located).to_have_attribute("state", "offline", timeout=10_000)
            await expect(located.locator(".problem")).to_contain_text(
                f"origin {origin} is not allowed for widget key"
            )


async def test_revoking_the_key_takes_its_widgets_offline(
    live: RunningServer, page: Page, admin: GraphQLClient
) -> None:
    token = await login_admin(admin)
    async with hosted_page("127.0.0.2") as (origin, set_html):
        created = await create_widget_key(admin, token, [origin])
        set_html(host_page(live.url, created["key"]))
        await page.goto(origin + "/")
        for widget in WIDGETS:
            await expect(page.locator(widget)).to_have_attribute("state", "live", timeout=10_000)
        await revoke_widget_key(admin, token, created["id"])
        # The server closes the socket on the revocation itself (no polling), so the page
        # learns at once; the default 5 s of expect() is only a ceiling here.
        for widget in WIDGETS:
            located = page.locator(widget)
            await expect(located).to_have_attribute("state", "offline")
            await expect(located.locator(".problem")).to_contain_text("widget key revoked")


PROBE = """async ([api, key, query]) => {
  const response = await fetch(api + "/graphql", {
    method: "POST",
    headers: {"content-type": "application/json", "x-widget-key": key},
    body: JSON.stringify({query}),
  });
  return await response.json();
}"""


async def test_from_the_page_the_key_reads_quotes_but_cannot_trade_or_read_a_portfolio(
    live: RunningServer, page: Page, admin: GraphQLClient
) -> None:
    token = await login_admin(admin)
    async with hosted_page("127.0.0.2") as (origin, _):
        key = (await create_widget_key(admin, token, [origin]))["key"]
        await page.goto(origin + "/")
        quotes = '{ quotes(symbols: ["AAPL"]) { symbol } }'
        body: Any = await page.evaluate(PROBE, [live.url, key, quotes])
        assert body["data"]["quotes"] == [{"symbol": "AAPL"}]  # CORS let the page read it
        for query in (
            'mutation { placeOrder(input: {portfolioId: "x", symbol: "AAPL", side: BUY, '
            'type: MARKET, quantity: "1"}) { id } }',
            '{ portfolio(id: "x") { cash } }',
        ):
            body = await page.evaluate(PROBE, [live.url, key, query])
            assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def with_csp(route: Route) -> None:
    response = await route.fetch()
    headers = {**response.headers, "content-security-policy": STRICT_CSP}
    await route.fulfill(response=response, headers=headers)


async def test_the_builder_creates_a_key_previews_live_and_gives_the_snippet(
    live: RunningServer, page: Page
) -> None:
    violations: list[str] = []
    page.on(
        "console",
        lambda message: violations.extend(
            [message.text] if "Content Security Policy" in message.text else []
        ),
    )
    await page.route(f"{live.url}/widgets", with_csp)
    await page.goto(live.url + "/widgets")
    await page.fill("input[type=email]", ADMIN_EMAIL)
    await page.fill("input[type=password]", ADMIN_PASSWORD)
    await page.click("form.login button[type=submit]")
    await page.select_option("select[name=kind]", "tg-quote")
    await page.fill("input[name=symbols]", "AAPL")
    await page.press("input[name=symbols]", "Enter")
    await page.fill("input[name=name]", "Docs site")
    await page.click("form.new-key button[type=submit]")
    row = page.locator(".keys li", has_text="Docs site")  # the live server keeps other keys
    await expect(row).to_have_count(1)
    snippet = page.locator("pre code")
    await expect(snippet).to_contain_text('key="wk_')
    await expect(snippet).to_contain_text(f'<script src="{live.url}/widgets.js"')
    await expect(snippet).to_contain_text('symbol="AAPL"')
    preview = page.locator(".preview tg-quote")
    await expect(preview).to_have_attribute("state", "live", timeout=10_000)
    await price_moves(page, ".preview tg-quote")
    await row.locator("button").click()  # revoke
    await expect(preview).to_have_attribute("state", "offline")
    assert violations == []


async def test_widgets_show_delayed_while_the_server_restarts_then_go_live_again(
    page: Page, tmp_path: Path
) -> None:
    """The server goes away and comes back on the same address (its snapshot keeps the key):
    the widget keeps its last price marked "delayed", reconnects by itself and ticks again."""
    settings = server_settings(data_dir=str(tmp_path))
    first = await start_server(settings)
    services = first.app.state.services
    await seed_universe(services.instruments, services.market)
    fast = settings.model_copy(
        update={
            "market_feed": MarketFeed.SIMULATED,
            "simulated_tick_seconds": 0.2,
            "simulated_seed": 13,
        }
    )
    simulated = market_feed(fast, services.market, services.instruments)
    assert simulated is not None
    feed = asyncio.create_task(simulated.run())
    async with hosted_page("127.0.0.2") as (origin, set_html):
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as http:
            gql = GraphQLClient(http)
            created = await create_widget_key(gql, await login_admin(gql), [origin])
        set_html(
            f'<script src="{first.url}/widgets.js"></script>'
            f'<tg-quote server="{first.url}" key="{created["key"]}" symbol="AAPL"></tg-quote>'
        )
        await page.goto(origin + "/")
        quote = page.locator("tg-quote")
        await expect(quote).to_have_attribute("state", "live", timeout=10_000)
        await price_moves(page, "tg-quote")
        feed.cancel()
        await first.stop()  # snapshots the store on the way out
        await expect(quote).to_have_attribute("state", "delayed")
        await expect(quote.locator(".last")).not_to_have_text("—")  # the last price stays
        second = await start_server(fast, port=urlsplit(first.url).port or 0)
        try:
            await expect(quote).to_have_attribute("state", "live", timeout=15_000)
            await price_moves(page, "tg-quote")
        finally:
            await second.stop()
