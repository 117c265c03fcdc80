"""Orders on screen: a fast symbol switch never shows another portfolio's orders, every order
type / time in force / class from the ticket, legs under their entry, modify in place, cancel
and cancel all — each checked against the API."""

from __future__ import annotations

import asyncio
import json

from playwright.async_api import Page, Route, expect

from tests.e2e.terminal.conftest import Account, choose_symbol, funded, log_in, orders_of
from tradegraph.server import RunningServer

PLACE = """mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }"""


async def rest(account: Account, portfolio_id: str, symbol: str, price: str) -> str:
    order = {"portfolioId": portfolio_id, "symbol": symbol, "side": "BUY", "type": "LIMIT",
             "quantity": "1", "limitPrice": price, "timeInForce": "GTC"}  # fmt: skip
    placed = await account.api.data(PLACE, {"input": order})
    order_id: str = placed["placeOrder"]["id"]
    return order_id


async def test_switching_symbol_right_after_load_shows_only_the_new_portfolios_orders(
    live: RunningServer, page: Page, trader: Account
) -> None:
    usd = await funded(trader.api, "USD")
    brl = await funded(trader.api, "BRL")
    usd_order = await rest(trader, usd, "AAPL", "100.00")
    brl_order = await rest(trader, brl, "ITUB4", "10.00")
    # The USD portfolio's order list answers only after the switch to ITUB4 (BRL) is on screen:
    # the race of a slow answer for the portfolio the user just left, made certain.
    switched = asyncio.Event()
    held: list[str] = []

    async def hold_usd_orders(route: Route) -> None:
        body = json.loads(route.request.post_data or "{}")
        if "orders(portfolioId" in body.get("query", "") and body["variables"].get("id") == usd:
            held.append(route.request.url)
            await switched.wait()
        await route.continue_()

    await page.route("**/graphql", hold_usd_orders)
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    await choose_symbol(page, "ITUB4")
    rows = page.locator("table.orders tr[data-order-id]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-order-id", brl_order)
    assert held  # the USD portfolio's orders were asked for, and are still on their way
    async with page.expect_request_finished(lambda r: r.url.endswith("/graphql")):
        switched.set()
    await page.evaluate("() => new Promise(done => requestAnimationFrame(() => setTimeout(done)))")
    shown = await rows.evaluate_all("rows => rows.map(r => r.dataset.orderId)")
    assert shown == [o["id"] for o in await orders_of(trader.api, brl)] == [brl_order]
    assert usd_order not in shown


async def test_modify_cancel_and_cancel_all_from_the_orders_table(
    live: RunningServer, page: Page, trader: Account
) -> None:
    pid = await funded(trader.api, "USD")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "MSFT")
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Type", exact=True).select_option("LIMIT")
    await ticket.get_by_label("Limit", exact=True).fill("300.00")
    await ticket.get_by_label("Time in force", exact=True).select_option("GTC")
    await ticket.get_by_label("Quantity", exact=True).fill("3")
    await expect(ticket.locator(".estimate")).to_contain_text("Est. cost 900.00 USD")
    await ticket.get_by_role("button", name="Buy MSFT").click()
    table = page.locator("table.orders")
    first = table.locator("tr[data-status=NEW]")
    await expect(first.locator("td.limit")).to_have_text("300.00")
    await first.get_by_role("button", name="Modify").click()
    editor = table.locator("tr.editor")
    await editor.get_by_label("Limit", exact=True).fill("301.50")
    await editor.get_by_label("Qty", exact=True).fill("4")
    await editor.get_by_role("button", name="Send").click()
    await expect(table.locator("tr[data-status=REPLACED]")).to_have_count(1)
    replacement = table.locator("tr[data-status=NEW]")
    await expect(replacement.locator("td.limit")).to_have_text("301.50")
    await expect(replacement.locator("td.quantity")).to_have_text("4")
    listed = {o["status"]: o for o in await orders_of(trader.api, pid)}
    assert (listed["NEW"]["limitPrice"], listed["NEW"]["quantity"]) == ("301.50", "4")
    await replacement.get_by_role("button", name="Cancel").click()
    await expect(table.locator("tr[data-status=CANCELED]")).to_have_count(1)
    for price in ("290.00", "291.00"):
        await ticket.get_by_label("Limit", exact=True).fill(price)
        await ticket.get_by_role("button", name="Buy MSFT").click()
    await expect(table.locator("tr[data-status=NEW]")).to_have_count(2)
    await page.get_by_role("button", name="Cancel all").click()
    await expect(table.locator("tr[data-status=NEW]")).to_have_count(0)
    statuses = sorted(o["status"] for o in await orders_of(trader.api, pid))
    assert statuses == ["CANCELED", "CANCELED", "CANCELED", "REPLACED"]
    await page.get_by_role("button", name="Open", exact=True).click()
    await expect(table.locator("tr[data-order-id]")).to_have_count(0)


async def test_a_bracket_order_shows_its_legs_under_the_entry(
    live: RunningServer, page: Page, trader: Account
) -> None:
    pid = await funded(trader.api, "USD")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "SPY")
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Type", exact=True).select_option("LIMIT")
    await ticket.get_by_label("Limit", exact=True).fill("500.00")
    await ticket.get_by_label("Class", exact=True).select_option("BRACKET")
    await ticket.get_by_label("Take profit", exact=True).fill("650.00")
    await ticket.get_by_label("Stop loss", exact=True).fill("450.00")
    await ticket.get_by_role("button", name="Buy SPY").click()
    await expect(page.locator("table.orders tr[data-order-id]")).to_have_count(3)
    listed = await orders_of(trader.api, pid)
    entry = next(o for o in listed if o["parent"] is None)
    legs = page.locator(f"table.orders tr[data-parent-id='{entry['id']}']")
    await expect(legs).to_have_count(2)
    await expect(legs.locator("td.limit").first).to_have_text("650.00")
    await expect(legs.locator("td.stop").last).to_have_text("450.00")
    entry_row = page.locator(f"table.orders tr[data-order-id='{entry['id']}']")
    # Grouped: the legs follow their entry directly.
    order = await page.locator("table.orders tr[data-order-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.parentId || r.dataset.orderId)"
    )
    start = order.index(entry["id"])
    assert order[start : start + 3] == [entry["id"]] * 3
    await expect(entry_row.locator("td").nth(5)).to_have_text("BRACKET")


async def test_stop_trailing_and_crypto_time_in_force_from_the_ticket(
    live: RunningServer, page: Page, trader: Account
) -> None:
    usd = await funded(trader.api, "USD")
    usdt = await funded(trader.api, "USDT")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Type", exact=True).select_option("STOP")
    await ticket.get_by_label("Stop", exact=True).fill("400.00")
    await ticket.get_by_role("button", name="Buy AAPL").click()
    await expect(page.locator("table.orders tr[data-status=NEW] td.stop")).to_have_text("400.00")
    await choose_symbol(page, "BTCUSDT")
    await expect(page.get_by_label("Portfolio", exact=True)).to_have_value(usdt)
    await expect(ticket.get_by_label("Time in force", exact=True)).to_have_value("GTC")
    assert await ticket.locator("option[value=DAY]").is_disabled()
    await ticket.get_by_role("button", name="Sell", exact=True).click()
    await ticket.get_by_label("Type", exact=True).select_option("TRAILING_STOP")
    await ticket.get_by_label("Quantity", exact=True).fill("0.5")
    await ticket.get_by_label("Trail", exact=True).fill("2")
    await ticket.get_by_role("button", name="Sell BTCUSDT").click()
    await expect(ticket.locator(".error")).to_have_attribute("data-code", "INSUFFICIENT_POSITION")
    await ticket.get_by_role("button", name="Buy", exact=True).click()
    await ticket.get_by_label("Type", exact=True).select_option("MARKET")
    await ticket.get_by_role("button", name="Buy BTCUSDT").click()
    filled = page.locator("table.orders tr[data-status=FILLED]")
    await expect(filled.locator("td.quantity")).to_have_text("0.5", timeout=10_000)  # at once
    await ticket.get_by_role("button", name="Sell", exact=True).click()
    await ticket.get_by_label("Type", exact=True).select_option("TRAILING_STOP")
    await ticket.get_by_role("button", name="Sell BTCUSDT").click()
    trailing = page.locator("table.orders tr[data-status=NEW]")
    await expect(trailing.locator("td.trail")).to_have_text("2%")  # the scale the API gives
    await expect(trailing.locator("td.hwm")).not_to_have_text("—")
    (placed, bought) = await orders_of(trader.api, usdt)
    assert (placed["type"], placed["timeInForce"]) == ("TRAILING_STOP", "GTC")
    assert (bought["status"], bought["timeInForce"]) == ("FILLED", "GTC")
    assert [o["type"] for o in await orders_of(trader.api, usd)] == ["STOP"]
