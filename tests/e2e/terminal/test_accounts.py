"""Accounts on screen: your own portfolios only in the picker, staff opening another user's
portfolio read-only, positions and the account summary live, close and close-half."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from playwright.async_api import Page, expect

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.e2e.terminal.conftest import (
    Account,
    Api,
    choose_symbol,
    funded,
    log_in,
    orders_of,
    portfolio,
    screenshot,
)
from tradegraph.server import RunningServer


async def test_an_admins_order_never_fills_in_a_traders_portfolio(
    live: RunningServer, page: Page, trader: Account, admin_api: Api
) -> None:
    # The TRADER's USD portfolio is the oldest in USD: the old ticket took it for the ADMIN.
    theirs = await funded(trader.api, "USD", "1000")
    await log_in(page, live.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    await choose_symbol(page, "AAPL")
    picker = page.get_by_label("Portfolio")
    mine = picker.locator("optgroup[label='Your portfolios'] option")
    await expect(mine).not_to_have_count(0)  # the ADMIN's own paper portfolio, opened for it
    assert theirs not in await mine.evaluate_all("options => options.map(o => o.value)")
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Quantity").fill("1")
    await ticket.get_by_role("button", name="Buy AAPL").click()
    await expect(page.locator("table.orders tr[data-status=FILLED]")).to_have_count(
        1, timeout=10_000
    )
    assert (await portfolio(trader.api, theirs))["cash"] == "1000.00"  # untouched
    assert await orders_of(trader.api, theirs) == []
    own_id = await picker.input_value()
    assert own_id != theirs
    owned = await admin_api.data(f'{{ portfolio(id: "{own_id}") {{ owner {{ email }} }} }}')
    assert owned["portfolio"]["owner"]["email"] == ADMIN_EMAIL


async def test_staff_open_another_users_portfolio_only_by_choosing_it_read_only(
    live: RunningServer, page: Page, trader: Account
) -> None:
    theirs = await funded(trader.api, "USD", "1000", name="Client account")
    await log_in(page, live.url, ADMIN_EMAIL, ADMIN_PASSWORD)
    picker = page.get_by_label("Portfolio")
    others = picker.locator('optgroup[label="Other users\' (read-only)"] option')
    await expect(others.filter(has_text=trader.email)).to_have_count(1)
    await picker.select_option(theirs)
    account = page.locator("section.account")
    await expect(account).to_have_attribute("data-read-only", "true")
    await expect(account.locator(".owner")).to_contain_text(f"Read-only: {trader.email}")
    await expect(account.locator("[data-field=cash]")).to_have_text("1,000.00 USD")
    ticket = page.locator(".ticket-panel")
    await expect(ticket.locator("button[type=submit]")).to_be_disabled()
    await expect(ticket.locator(".note")).to_contain_text(trader.email)
    await expect(account.get_by_role("button", name="Deposit")).to_be_hidden()
    await choose_symbol(page, "PETR4")  # another currency: staff stay on the chosen portfolio
    await expect(picker).to_have_value(theirs)


async def test_positions_and_account_follow_trades_and_close_half(
    live: RunningServer, page: Page, trader: Account, tmp_path: Path
) -> None:
    pid = await funded(trader.api, "USD", "100000")
    await log_in(page, live.url, trader.email, trader.password)
    await choose_symbol(page, "AAPL")
    await expect(page.get_by_label("Portfolio")).to_have_value(pid)
    ticket = page.locator(".ticket-panel")
    await ticket.get_by_label("Quantity").fill("10")
    await expect(ticket.locator(".estimate")).to_contain_text("Buying power 100,000.00 USD")
    await ticket.get_by_role("button", name="Buy AAPL").click()
    row = page.locator("table.positions tr[data-symbol=AAPL]")
    await expect(row.locator("td.quantity")).to_have_text("10", timeout=10_000)
    state = await portfolio(trader.api, pid, "positions { symbol quantity averageCost }")
    (held,) = state["positions"]
    await expect(row.locator("td").nth(2)).to_have_text(f"{Decimal(held['averageCost']):,}")
    account = page.locator("section.account")
    await expect(account.locator("[data-field=cash]")).to_have_text(
        f"{Decimal(state['cash']):,} USD"
    )
    await expect(account.locator("[data-field=buyingPower]")).to_have_text(
        f"{Decimal(state['availableCash']):,} USD"
    )
    await ticket.get_by_label("Type").select_option("LIMIT")
    await ticket.get_by_label("Limit", exact=True).fill("200.00")
    await ticket.get_by_label("Class").select_option("BRACKET")
    await ticket.get_by_label("Take profit").fill("260.00")
    await ticket.get_by_label("Stop loss").fill("180.00")
    await ticket.get_by_role("button", name="Buy AAPL").click()
    await expect(page.locator("table.orders tr[data-status=HELD]")).to_have_count(2)
    await screenshot(page, "terminal-positions.png", tmp_path)
    await row.get_by_role("button", name="Close half of AAPL").click()
    await expect(row.locator("td.quantity")).to_have_text("5", timeout=10_000)
    state = await portfolio(trader.api, pid, "positions { quantity realizedPnl }")
    assert state["positions"][0]["quantity"] == "5"
    await row.get_by_role("button", name="Close AAPL").click()
    await expect(row).to_have_count(0, timeout=10_000)
    assert (await portfolio(trader.api, pid, "positions { symbol }"))["positions"] == []


async def test_create_a_portfolio_and_deposit_from_the_terminal(
    live: RunningServer, page: Page, trader: Account
) -> None:
    await funded(trader.api, "USD", "100")
    await log_in(page, live.url, trader.email, trader.password)
    await page.get_by_role("button", name="New portfolio").click()
    form = page.locator("form.create-portfolio")
    await form.get_by_label("Name").fill("Reais")
    await form.get_by_label("Currency").select_option("BRL")
    await form.get_by_role("button", name="Create").click()
    account = page.locator("section.account")
    await expect(account.locator(".owner")).to_have_text("Reais · BRL")
    await account.get_by_label("Deposit").fill("2500.5")
    await account.get_by_role("button", name="Deposit").click()
    await expect(account.locator("[data-field=cash]")).to_have_text("2,500.50 BRL")
    listed = await trader.api.data("{ portfolios { name baseCurrency cash } }")
    assert {"name": "Reais", "baseCurrency": "BRL", "cash": "2500.50"} in listed["portfolios"]
