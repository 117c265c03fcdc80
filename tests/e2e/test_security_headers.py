"""Security headers on pages, the API and static files; the dashboard and GraphiQL run under
their Content-Security-Policy in headless Chromium without a single violation."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.browser import launched_chromium, live_server
from tradegraph.schema.core.session_cookie import REFRESH_COOKIE
from tradegraph.server import RunningServer
from tradegraph.web.security_headers import GRAPHIQL_POLICY, PAGE_POLICY, headers_for

# Collects every CSP violation the page reports, from before its first script runs.
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', e =>
  window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def assert_hardened(response: httpx.Response, policy: str = PAGE_POLICY) -> None:
    assert response.headers["content-security-policy"] == policy
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"


async def test_the_dashboard_the_api_and_static_files_carry_the_security_headers(
    http: httpx.AsyncClient,
) -> None:
    assert_hardened(await http.get("/"))
    assert_hardened(await http.post("/graphql", json={"query": "{ __typename }"}))
    assert_hardened(await http.get("/static/dashboard/dashboard.js"))
    assert_hardened(await http.get("/static/missing.js"))  # a 404 too
    assert_hardened(await http.get("/healthz"))


async def test_graphiql_gets_its_one_inline_style_and_nothing_more(
    http: httpx.AsyncClient,
) -> None:
    page = await http.get("/graphql", headers={"accept": "text/html"})
    assert page.headers["content-type"].startswith("text/html")
    assert_hardened(page, GRAPHIQL_POLICY)
    assert "script-src 'self';" in GRAPHIQL_POLICY  # never inline scripts
    assert "unsafe-inline" not in GRAPHIQL_POLICY


def test_an_embeddable_script_may_be_loaded_by_other_sites() -> None:
    embedded = headers_for("/widgets.js", "text/javascript")
    assert embedded["cross-origin-resource-policy"] == "cross-origin"
    assert "x-frame-options" not in embedded
    assert embedded["x-content-type-options"] == "nosniff"


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
    context = await browser.new_context()
    await context.add_init_script(RECORD_VIOLATIONS)
    opened = await context.new_page()
    yield opened
    await context.close()


async def violations(page: Page) -> list[str]:
    found: list[str] = await page.evaluate("window.cspViolations")
    return found


async def test_the_dashboard_runs_under_its_policy_without_a_violation(
    live: RunningServer, page: Page
) -> None:
    await page.goto(live.url + "/")
    await expect(page.locator("input[name=email]")).to_be_visible(timeout=15_000)
    await page.wait_for_load_state("networkidle")
    # What the dashboard connects to, same-origin: HTTP and a graphql-transport-ws socket.
    opened = await page.evaluate(
        """() => new Promise(resolve => {
             const ws = new WebSocket(location.origin.replace('http', 'ws') + '/graphql',
                                      'graphql-transport-ws');
             ws.onopen = () => { ws.close(); resolve('open'); };
             ws.onerror = () => resolve('error');
           })"""
    )
    assert opened == "open"
    assert await violations(page) == []
    # The recorder works and the policy bites: an injected inline script is refused.
    await page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1';"
        " document.body.append(s); }"
    )
    await page.wait_for_function("window.cspViolations.length > 0")
    assert await page.evaluate("window.ran") is None
    assert (await violations(page))[0].startswith("script-src")


async def test_graphiql_runs_a_query_under_its_policy_without_a_violation(
    live: RunningServer, page: Page
) -> None:
    await page.goto(live.url + "/graphql")
    editor = page.locator(".graphiql-query-editor .CodeMirror")
    await expect(editor).to_be_visible(timeout=15_000)
    await editor.click()
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text("{ __typename }")
    await page.click(".graphiql-execute-button")
    await expect(page.locator(".graphiql-response")).to_contain_text('"Query"', timeout=10_000)
    assert await violations(page) == []


async def test_the_dashboard_keeps_the_refresh_token_out_of_page_reach(
    live: RunningServer, page: Page
) -> None:
    await page.goto(live.url + "/")
    await page.fill("input[name=email]", ADMIN_EMAIL)
    await page.fill("input[name=password]", ADMIN_PASSWORD)
    await page.click("button[value=login]")
    await expect(page.locator("header .user")).to_contain_text(ADMIN_EMAIL)
    storage: str = await page.evaluate("JSON.stringify(Object.entries(localStorage))")
    assert "refreshToken" not in storage
    assert "accessToken" not in storage
    (cookie,) = [c for c in await page.context.cookies() if c["name"] == REFRESH_COOKIE]
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["path"]) == (True, "Strict", "/auth")
    assert await page.evaluate("document.cookie") == ""

    # A reload restores the session from the cookie alone.
    async with page.expect_response(lambda r: r.url.endswith("/auth/refresh") and r.ok):
        await page.reload()
    await expect(page.locator("header .user")).to_contain_text(ADMIN_EMAIL)

    # Logging out revokes the session's refresh family on the server.
    (before,) = [c["value"] for c in await page.context.cookies() if c["name"] == REFRESH_COOKIE]
    async with page.expect_response(lambda r: r.url.endswith("/auth/logout")) as ended:
        await page.get_by_role("button", name="Log out").click()
    assert await (await ended.value).json() == {"loggedOut": True}
    async with httpx.AsyncClient(base_url=live.url, cookies={REFRESH_COOKIE: before}) as thief:
        assert (await thief.post("/auth/refresh")).status_code == 401


async def test_the_signed_in_dashboard_runs_under_its_policy_without_a_violation(
    live: RunningServer, page: Page
) -> None:
    await page.goto(live.url + "/")
    await page.fill("input[name=email]", ADMIN_EMAIL)
    await page.fill("input[name=password]", ADMIN_PASSWORD)
    await page.click("button[value=login]")
    await expect(page.locator("header .user")).to_contain_text(ADMIN_EMAIL)
    await expect(page.locator(".chart")).not_to_have_attribute("data-bars", "0", timeout=10_000)
    assert await violations(page) == []
