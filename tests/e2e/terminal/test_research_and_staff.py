"""Research from the page (a backtest and an optimisation with live progress, statistics,
equity curve and heatmap), the "history still loading" signal, the staff activity view opening
with recent events, and an axe-core scan with no serious or critical violation."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, Route, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.terminal.conftest import Account, Api, choose_symbol, funded, log_in, screenshot
from tradegraph.markets.history import seed_history
from tradegraph.server import RunningServer
from tradegraph.services import Services

INGEST = "mutation($input: EventInput!) { ingestEvent(input: $input) { id } }"


async def with_history(live: RunningServer, symbol: str) -> None:
    """A day of one-minute bars for `symbol` (the demo's seeded history, for one symbol)."""
    services: Services = live.app.state.services
    instrument = await services.instruments.require(symbol)
    latest = await services.market.latest(symbol)
    assert latest is not None
    await seed_history({symbol: (instrument, Decimal(latest.mid))}, 1, 0.05, 0.3)


async def test_a_backtest_and_an_optimisation_run_from_the_research_view(
    live: RunningServer, page: Page, trader: Account, tmp_path: Path
) -> None:
    await with_history(live, "QQQ")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "QQQ")
    await page.get_by_role("button", name="Research").click()
    research = page.locator(".research")
    form = research.locator("form.research-form")
    await expect(form).to_contain_text("QQQ")
    await form.get_by_label("fast", exact=True).fill("5")
    await form.get_by_label("slow", exact=True).fill("20")
    await form.get_by_role("button", name="Run backtest").click()
    await expect(research).to_have_attribute("data-status", "COMPLETED", timeout=30_000)
    run_id = await research.get_attribute("data-run-id")
    stored = await trader.api.data(
        f'{{ backtest(id: "{run_id}") {{ result {{ tradeCount finalEquity }} }} }}'
    )
    stats = research.locator("dl.stats")
    await expect(stats).to_contain_text(f"Trades{stored['backtest']['result']['tradeCount']}")
    await expect(research.locator(".equity-chart")).not_to_have_attribute("data-points", "0")
    await form.get_by_label("Run", exact=True).select_option("optimize")
    await form.get_by_label("Maximise", exact=True).select_option("TOTAL_RETURN")
    await form.get_by_role("button", name="Optimise").click()
    await expect(research).to_have_attribute("data-status", "COMPLETED", timeout=60_000)
    heatmap = research.locator(".heatmap")
    await expect(heatmap).to_have_attribute("data-cells", "25")  # fast 5..25 by slow 30..90
    await research.get_by_label("Metric", exact=True).select_option("SHARPE")
    await expect(heatmap.locator("table")).to_be_visible()
    await expect(research.locator(".run-state")).to_contain_text("combinations")
    await screenshot(page, "terminal-research.png", tmp_path)


async def test_the_terminal_says_while_history_is_still_loading(
    live: RunningServer, page: Page, trader: Account
) -> None:
    services: Services = live.app.state.services
    with services.market.history.loading_while():
        await log_in(page, live.url, trader.email, trader.password)
        banner = page.locator(".banner")
        await expect(banner).to_contain_text("Loading the demo market's price history")
        await expect(page.locator(".chart")).to_have_attribute("data-history-loading", "true")
    await expect(banner).to_be_hidden(timeout=10_000)  # the page polls marketHistory
    await expect(page.locator(".history-note")).to_be_hidden()


async def test_staff_activity_opens_with_recent_events_then_live_ones(
    live: RunningServer, page: Page, admin_api: Api
) -> None:
    earlier = {"userId": "u-history", "type": "signup", "value": 1.5}
    await admin_api.data(INGEST, {"input": earlier})
    await log_in(page, live.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await page.get_by_role("button", name="Activity").click()
    feed = page.locator("ol.events")
    await expect(feed.locator("li", has_text="u-history")).to_have_count(1)
    series = page.locator(".series")
    await expect(series).to_have_attribute("data-points", "24")  # today, hour by hour
    await admin_api.data(INGEST, {"input": {"userId": "u-live", "type": "purchase", "value": 9}})
    await expect(feed.locator("li").first).to_contain_text("u-live")


async def test_axe_finds_no_serious_or_critical_violation(
    live: RunningServer, page: Page, trader: Account
) -> None:
    await funded(trader.api, "USD")
    await page.goto(live.url + "/")
    axe = Axe()
    pages = {"login": await axe.run(page)}
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    await expect(page.locator(".chart")).not_to_have_attribute("data-bars", "0")
    pages["trade"] = await axe.run(page)
    await page.get_by_role("button", name="Research").click()
    pages["research"] = await axe.run(page)
    found = {
        name: [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in result.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        for name, result in pages.items()
    }
    assert found == {"login": [], "trade": [], "research": []}


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


async def test_the_terminal_runs_under_the_strict_content_security_policy(
    live: RunningServer, page: Page, trader: Account
) -> None:
    async def with_csp(route: Route) -> None:
        response = await route.fetch()
        headers = {**response.headers, "content-security-policy": CSP}
        await route.fulfill(response=response, headers=headers)

    await page.route(live.url + "/", with_csp)
    await page.add_init_script(
        "window.violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    await funded(trader.api, "USD")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    await expect(page.locator(".chart")).not_to_have_attribute("data-bars", "0")
    await page.get_by_label("Bollinger 20·2").check()
    await expect(page.locator(".chart")).to_have_attribute("data-overlays", "BOLLINGER(20,2)")
    await page.get_by_role("button", name="Research").click()
    await expect(page.locator(".research-form")).to_be_visible()
    assert await page.evaluate("() => window.violations") == []
    # The policy is in force: what the terminal never does is refused and reported.
    await page.evaluate("() => document.body.setAttribute('style', 'color: red')")
    await page.wait_for_function("() => window.violations.length > 0")
    assert (await page.evaluate("() => window.violations"))[0].startswith("style-src")
