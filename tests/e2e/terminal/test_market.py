"""The chart and the watchlists, driven as a user: intervals, volume, the OHLC readout, fill
markers and overlays; lists created, renamed, filled by search, emptied and deleted, and the
last one remembered; numbers and times formatted one way everywhere."""

from __future__ import annotations

import re

from playwright.async_api import Page, expect

from tests.e2e.terminal.conftest import Account, choose_symbol, funded, log_in
from tradegraph.server import RunningServer


async def test_chart_intervals_volume_ohlc_fills_and_overlays(
    live: RunningServer, page: Page, trader: Account
) -> None:
    await funded(trader.api, "USD")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "NVDA")
    chart = page.locator(".chart")
    await expect(chart).not_to_have_attribute("data-bars", "0")
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Quantity", exact=True).fill("5")
    await ticket.get_by_role("button", name="Buy NVDA").click()
    await expect(chart).to_have_attribute("data-fills", "1", timeout=10_000)
    readout = page.locator(".ohlc")
    for field in "OHLCV":
        await expect(readout.locator(f"[data-field={field}]")).to_have_text(
            re.compile(r"^[\d,.]+$")
        )
    await expect(readout.locator("time")).to_have_text(
        re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$")
    )
    for label in ("5m", "15m", "1h", "1d", "1m"):
        await page.locator(f".segmented button[data-interval='{label}']").click()
        await expect(chart).to_have_attribute("data-interval", label)
        await expect(chart).not_to_have_attribute("data-bars", "0")
    await expect(chart).to_have_attribute("data-fills", "1")
    await page.get_by_label("SMA 20").check()
    await page.get_by_label("Bollinger 20·2").check()
    await expect(chart).to_have_attribute("data-overlays", "SMA(20),BOLLINGER(20,2)")
    await page.locator(".segmented button[data-interval='15m']").click()
    await expect(page.get_by_label("SMA 20")).to_be_disabled()


async def test_watchlists_are_created_filled_by_search_renamed_and_remembered(
    live: RunningServer, page: Page, trader: Account
) -> None:
    await log_in(page, live.url, trader.email, trader.password)
    panel = page.locator("section.panel", has=page.locator("table.watchlist"))
    await expect(panel.locator("tr[data-symbol]")).to_have_count(19)  # all instruments
    await choose_symbol(page, "PETR4")
    await panel.get_by_role("button", name="New list").click()
    await panel.get_by_label("Name", exact=True).fill("Brazil")
    await panel.get_by_role("button", name="Save").click()
    await expect(panel.locator("tr[data-symbol]")).to_have_count(1)
    search = panel.get_by_label("Add symbol", exact=True)
    for count, text in enumerate(("vale", "Itaú"), start=2):  # part of a symbol, of a name
        await search.fill(text)
        await search.press("Enter")
        await expect(panel.locator("tr[data-symbol]")).to_have_count(count)
    await expect(panel.locator("tr[data-symbol] td.last").last).not_to_have_text("—")
    await panel.get_by_role("button", name="Remove PETR4").click()
    await expect(panel.locator("tr[data-symbol]")).to_have_count(2)
    await panel.get_by_role("button", name="Rename").click()
    await panel.get_by_label("Name", exact=True).fill("Brasil")
    await panel.get_by_role("button", name="Save").click()
    # saved once the list shows its new name (the API is asked only then)
    await expect(panel.get_by_label("Watchlist").locator("option:checked")).to_have_text("Brasil")
    (stored,) = (await trader.api.data("{ watchlists { id name symbols } }"))["watchlists"]
    assert (stored["name"], stored["symbols"]) == ("Brasil", ["VALE3", "ITUB4"])
    await page.reload()
    await expect(panel.get_by_label("Watchlist")).to_have_value(stored["id"])
    await expect(panel.locator("tr[data-symbol]")).to_have_count(2)
    await panel.get_by_role("button", name="Delete").click()
    await expect(panel.locator("tr[data-symbol]")).to_have_count(19)
    assert (await trader.api.data("{ watchlists { id } }"))["watchlists"] == []


async def test_numbers_carry_grouping_currency_and_the_apis_scale(
    live: RunningServer, page: Page, trader: Account
) -> None:
    await funded(trader.api, "USD", "1234567.8")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    account = page.locator("section.account")
    await expect(account.locator("[data-field=cash]")).to_have_text("1,234,567.80 USD")
    btc = page.locator("table.watchlist tr[data-symbol=BTCUSDT] td.last")
    await expect(btc).to_have_text(re.compile(r"^\d{2,3},\d{3}\.\d{2}$"))  # 97,012.34
    await expect(page.locator("table.watchlist tr[data-symbol=BTCUSDT] td.volume")).to_have_text(
        re.compile(r"^[\d,]+\.\d{5}$")  # at the lot size's scale
    )
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Quantity", exact=True).fill("1")
    await ticket.get_by_role("button", name="Buy AAPL").click()
    row = page.locator("table.orders tr[data-status=FILLED]")
    await expect(row.locator("td").first).to_have_text(re.compile(r"^([01]\d|2[0-3]):\d\d:\d\d$"))
