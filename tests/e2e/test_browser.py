"""The browser as a client: the dashboard at /, GraphiQL with no other host, and pages on other
origins using the API with CORS. Headless Debian Chromium driven by Playwright."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, Locator, Page, Route, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login_admin, register
from tests.support.browser import launched_chromium, live_server, page_server, start_live_server
from tests.support.clients import GraphQLClient, wait_for_subscribers
from tradegraph.pubsub.channels import EVENTS_CREATED
from tradegraph.schema.core.session_cookie import REFRESH_COOKIE
from tradegraph.server import RunningServer

DOCS = Path(__file__).parents[2] / "docs"
# `make screenshots` sets this to refresh the README's pictures; otherwise they go to tmp_path.
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
TRADER_EMAIL = "browser-trader@example.com"
TRADER_PASSWORD = "browser-trader-password"


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    async with launched_chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
async def live() -> AsyncIterator[RunningServer]:
    async with live_server() as running:
        yield running


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    opened = await context.new_page()
    yield opened
    await context.close()


async def only_from(page: Page, origin: str) -> list[str]:
    """Refuses every request that leaves `origin`; returns the list of those refused."""
    refused: list[str] = []

    async def gate(route: Route) -> None:
        url = route.request.url
        if url.startswith((origin, origin.replace("http", "ws", 1), "data:")):
            await route.continue_()
        else:
            refused.append(url)
            await route.abort()

    await page.route("**/*", gate)
    return refused


async def screenshot(page: Page, name: str, tmp_path: Path) -> None:
    folder = DOCS if UPDATE_SCREENSHOTS else tmp_path
    folder.mkdir(exist_ok=True)
    await page.screenshot(path=str(folder / name))
    assert (folder / name).stat().st_size > 10_000  # a rendered page, not a blank one


async def log_in(page: Page, url: str, email: str, password: str) -> None:
    await page.goto(url + "/")
    await page.fill("input[name=email]", email)
    await page.fill("input[name=password]", password)
    await page.click("button[value=login]")
    await expect(page.locator("header .user")).to_contain_text(email)


async def test_dashboard_ticks_and_fills_a_market_order(
    live: RunningServer, page: Page, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=live.url) as http:
        await register(GraphQLClient(http), TRADER_EMAIL, TRADER_PASSWORD)
    refused = await only_from(page, live.url)
    await log_in(page, live.url, TRADER_EMAIL, TRADER_PASSWORD)

    # At least three ticker rows change (a second quote after the first) within 5 s.
    await page.wait_for_function(
        """() => [...document.querySelectorAll('tr[data-symbol]')]
                 .filter(row => Number(row.dataset.updates) >= 2).length >= 3""",
        timeout=5000,
    )
    await expect(page.locator(".ticket button[type=submit]")).to_be_enabled(timeout=10_000)
    await page.fill(".ticket input[name=quantity]", "2")
    await page.click(".ticket button[type=submit]")
    filled = page.locator("table.orders tr[data-status=FILLED]")
    await expect(filled).to_have_count(1, timeout=10_000)
    await expect(filled.locator("td.quantity")).to_have_text("2")
    await expect(page.locator(".value .equity")).to_contain_text("USD")
    await expect(page.locator(".chart")).not_to_have_attribute("data-bars", "0")
    position = page.locator("table.positions tr[data-symbol=AAPL] td.quantity")
    await expect(position).to_have_text("2")
    assert refused == []
    await screenshot(page, "dashboard.png", tmp_path)


@pytest.fixture
async def short_tokens() -> AsyncIterator[RunningServer]:
    """Access tokens that live 2 s: the server closes each socket 4403 "token expired"."""
    running, feed = await start_live_server(access_token_ttl_seconds=2)
    yield running
    feed.cancel()
    await running.stop()


async def test_dashboard_stays_live_across_token_expiry_with_rotated_refresh_tokens(
    short_tokens: RunningServer, page: Page
) -> None:
    async def refresh_cookie() -> str:
        (cookie,) = [c for c in await page.context.cookies() if c["name"] == REFRESH_COOKIE]
        assert cookie["httpOnly"]  # page scripts cannot read it
        return cookie["value"]

    await log_in(page, short_tokens.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    first = await refresh_cookie()
    # The socket is closed at the token's expiry; the reconnect asks connectionParams again,
    # which refreshes (POST /auth/refresh rotates the refresh cookie) and reconnects.
    async with page.expect_response(
        lambda r: r.url.endswith("/auth/refresh") and r.ok, timeout=10_000
    ):
        pass
    assert await refresh_cookie() != first
    await page.wait_for_timeout(2500)  # past the first token's expiry, on purpose
    row = page.locator("tr[data-symbol=AAPL]")
    seen = int(await row.get_attribute("data-updates") or 0)
    await page.wait_for_function(
        "seen => Number(document.querySelector('tr[data-symbol=AAPL]').dataset.updates) > seen",
        arg=seen,
        timeout=5000,
    )
    status = page.locator("header .socket")
    assert "closed 4403: token expired" in (await status.get_attribute("data-last-close") or "")
    await expect(page.locator("header .user")).to_contain_text(ADMIN_EMAIL)  # never logged out


async def test_dashboard_shows_errors_by_their_code(live: RunningServer, page: Page) -> None:
    await page.goto(live.url + "/")
    await page.fill("input[name=email]", ADMIN_EMAIL)
    await page.fill("input[name=password]", "wrong-password-entirely")
    await page.click("button[value=login]")
    await expect(page.locator("form.login .error")).to_have_attribute(
        "data-code", "UNAUTHENTICATED"
    )


async def test_admin_sees_live_events_and_todays_summary(live: RunningServer, page: Page) -> None:
    await log_in(page, live.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await page.click("header button[data-view=activity]")
    await expect(page.locator("text=Today (UTC)")).to_be_visible()
    async with httpx.AsyncClient(base_url=live.url) as http:
        gql = GraphQLClient(http)
        token = await login_admin(gql)
        await wait_for_subscribers(http, EVENTS_CREATED, 1)  # the page's eventCreated
        mutation = """mutation($input: EventInput!) { ingestEvent(input: $input) { id } }"""
        event = {"userId": "u-browser", "type": "purchase", "value": 42.5}
        await gql.data(mutation, {"input": event}, token)
    await expect(page.locator("ol.events li").first).to_contain_text("purchase")
    today = page.locator("section.panel", has_text="Today (UTC)")
    await expect(today).to_contain_text("purchase", timeout=10_000)  # the summary, refreshed


async def test_graphiql_runs_a_query_and_a_subscription_with_no_other_host(
    live: RunningServer, page: Page, tmp_path: Path
) -> None:
    refused = await only_from(page, live.url)
    async with httpx.AsyncClient(base_url=live.url) as http:
        token = await login_admin(GraphQLClient(http))
    await page.goto(live.url + "/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible(timeout=15_000)

    async def type_into(editor: Locator, text: str) -> None:
        await editor.click()
        await page.keyboard.press("Control+A")
        await page.keyboard.insert_text(text)

    async def run(query: str, expected: str) -> None:
        await type_into(editor, query)
        await page.click(".graphiql-execute-button")
        await expect(page.locator(".graphiql-response")).to_contain_text(expected, timeout=10_000)

    await run("{ __typename }", '"Query"')
    await page.click("text=Headers")
    headers = page.locator(".graphiql-editor-tool .CodeMirror").last
    await type_into(headers, json.dumps({"Authorization": f"Bearer {token}"}))
    await expect(headers).to_contain_text("Authorization")
    await run("{ me { email role } }", ADMIN_EMAIL)
    await run("{ instruments { symbol } }", "AAPL")
    await run('subscription { quotes(symbols: ["PETR4"]) { symbol mid } }', '"PETR4"')
    await page.click(".graphiql-execute-button")  # stop the subscription
    assert refused == []
    await screenshot(page, "graphiql.png", tmp_path)


CROSS_ORIGIN_PAGE = """<!doctype html><script>
window.probe = async (api, token) => {
  const result = {};
  try {
    const response = await fetch(api + "/graphql", {
      method: "POST",
      headers: {"content-type": "application/json", "authorization": "Bearer " + token},
      body: JSON.stringify({query: "{ me { email } }"}),
    });
    result.http = (await response.json()).data.me.email;
  } catch (error) { result.http = "failed: " + error; }
  result.ws = await new Promise(resolve => {
    const ws = new WebSocket(api.replace("http", "ws") + "/graphql", "graphql-transport-ws");
    ws.onopen = () => ws.send(JSON.stringify(
      {type: "connection_init", payload: {Authorization: "Bearer " + token}}));
    ws.onmessage = m => { resolve(JSON.parse(m.data).type); ws.close(); };
    ws.onclose = e => resolve("closed " + e.code);
  });
  return result;
};
</script>"""


async def probe(page: Page, page_url: str, api: str, token: str) -> dict[str, str]:
    await page.goto(page_url)
    result: dict[str, str] = await page.evaluate("([api, t]) => window.probe(api, t)", [api, token])
    return result


async def test_a_page_on_an_allowed_origin_uses_http_and_websocket(
    server: RunningServer, page: Page, admin_token: str
) -> None:
    async with page_server(CROSS_ORIGIN_PAGE, "127.0.0.1") as allowed:
        assert allowed != server.url  # another port: another origin
        result = await probe(page, allowed, server.url, admin_token)
    assert result == {"http": ADMIN_EMAIL, "ws": "connection_ack"}


async def test_a_page_on_another_origin_is_refused_both(
    server: RunningServer, page: Page, admin_token: str
) -> None:
    async with page_server(CROSS_ORIGIN_PAGE, "127.0.0.2") as foreign:
        result = await probe(page, foreign, server.url, admin_token)
    assert result["http"].startswith("failed: TypeError")
    assert result["ws"] == "closed 1006"  # the browser's view of the 403
