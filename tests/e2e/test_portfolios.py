"""Portfolios: cash movements, ownership everywhere, valuation views, exports, live value."""

from __future__ import annotations

import asyncio
import csv
import io
from datetime import UTC, datetime

import httpx
import pytest

from tests.e2e.conftest import register
from tests.support.clients import GraphQLClient, connected, error_code, wait_for_subscribers
from tests.support.trading import (
    CANCEL_ORDER,
    DEPOSIT,
    PLACE_ORDER,
    WITHDRAW,
    create_instrument,
    dec,
    funded_portfolio,
    order_input,
    place,
    portfolio,
    publish_quote,
    quoted_portfolio,
)
from tradegraph.server import RunningServer

ALLOCATION = """query($id: ID!) { portfolio(id: $id) {
  byClass: allocation(by: ASSET_CLASS) { key marketValue weight }
  bySymbol: allocation(by: SYMBOL) { key marketValue weight }
} }"""
PERFORMANCE = """query($id: ID!, $from: DateTime) { portfolio(id: $id) {
  history(from: $from, interval: ONE_HOUR) { time cash equity netDeposits }
  performance(from: $from, interval: ONE_HOUR) {
    totalReturn timeWeightedReturn maxDrawdown volatility sharpe winRate
  }
} }"""
PORTFOLIO_VALUE = """subscription($id: ID!) {
  portfolioValue(portfolioId: $id) { portfolioId cash equity unrealizedPnl timestamp }
}"""
ORDER_UPDATES = """subscription($id: ID!) {
  orderUpdates(portfolioId: $id) { id status filledQuantity }
}"""


async def test_deposit_and_withdraw_move_cash_and_refuse_bad_amounts(
    gql: GraphQLClient, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await funded_portfolio(gql, token, "100.10")
    for amount in ("0", "-5", "NaN"):
        error = await gql.error(DEPOSIT, {"id": pid, "amount": amount}, token)
        assert error_code(error) == "BAD_USER_INPUT", amount
    error = await gql.error(WITHDRAW, {"id": pid, "amount": "100.11"}, token)
    assert error_code(error) == "INSUFFICIENT_FUNDS"
    assert "100.1" in error["message"]
    left = (await gql.data(WITHDRAW, {"id": pid, "amount": "0.10"}, token))["withdraw"]
    assert dec(left["cash"]) == dec("100.00")
    assert dec((await portfolio(gql, token, pid))["cash"]) == dec("100.00")


async def test_other_traders_see_nothing_and_analysts_read_but_cannot_trade(
    gql: GraphQLClient, http: httpx.AsyncClient, admin_token: str, trader: dict, analyst_token: str
) -> None:
    owner = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, owner, "500")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    order = await place(
        gql, owner, pid, "BUY", "1", type="LIMIT", limitPrice="9.00", timeInForce="GTC"
    )
    stranger = (await register(gql, "stranger@example.com"))["accessToken"]

    for query, variables in (
        ("query($id: ID!) { portfolio(id: $id) { cash } }", {"id": pid}),
        ("query($id: ID!) { orders(portfolioId: $id) { totalCount } }", {"id": pid}),
        ("query($id: ID!) { order(id: $id) { id } }", {"id": order["id"]}),
        (DEPOSIT, {"id": pid, "amount": "1"}),
        (WITHDRAW, {"id": pid, "amount": "1"}),
        (PLACE_ORDER, {"input": order_input(pid, "BUY", "1")}),
        (CANCEL_ORDER, {"id": order["id"]}),
    ):
        error = await gql.error(query, variables, stranger)
        assert error_code(error) == "NOT_FOUND", query
    listed = await gql.data("{ portfolios { id } }", token=stranger)
    assert listed["portfolios"] == []

    assert (await portfolio(gql, analyst_token, pid))["id"] == pid
    assert [
        p["id"]
        for p in (await gql.data("{ portfolios { id } }", token=analyst_token))["portfolios"]
    ] == [pid]
    for query, variables in (
        (DEPOSIT, {"id": pid, "amount": "1"}),
        (PLACE_ORDER, {"input": order_input(pid, "BUY", "1")}),
        (CANCEL_ORDER, {"id": order["id"]}),
    ):
        assert error_code(await gql.error(query, variables, analyst_token)) == "FORBIDDEN"
    state = await portfolio(gql, owner, pid)
    assert dec(state["cash"]) == 500
    assert dec(state["availableCash"]) == 491  # only the owner's resting order reserves

    for path in ("positions.csv", "orders.csv"):
        url = f"/exports/portfolios/{pid}/{path}"
        assert (await http.get(url)).status_code == 401
        bad = await http.get(url, headers={"authorization": "Bearer nonsense"})
        assert bad.status_code == 401
        hidden = await http.get(url, headers={"authorization": f"Bearer {stranger}"})
        assert hidden.status_code == 404
        assert hidden.json()["error"]["code"] == "NOT_FOUND"  # an error, no CSV rows


async def test_positions_and_orders_export_as_csv(
    gql: GraphQLClient, http: httpx.AsyncClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", bid="20.00", ask="20.10")
    bought = await place(gql, token, pid, "BUY", "3", clientOrderId="csv-1")
    await publish_quote(gql, admin_token, bid="21.00", ask="21.20")
    auth = {"authorization": f"Bearer {token}"}

    response = await http.get(f"/exports/portfolios/{pid}/positions.csv", headers=auth)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert row["symbol"] == "PETR4"
    assert dec(row["quantity"]) == 3
    # at the scales of the GraphQL fields: prices at the tick (a mid one more), cash at cents
    assert (row["average_cost"], row["market_price"]) == ("20.10", "21.100")
    assert (row["unrealized_pnl"], row["realized_pnl"]) == ("3.00", "0.00")

    response = await http.get(f"/exports/portfolios/{pid}/orders.csv", headers=auth)
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["id"], row["client_order_id"], row["status"]) == (bought["id"], "csv-1", "FILLED")
    assert row["average_fill_price"] == "20.10"


async def test_allocation_splits_equity_by_asset_class_and_symbol_with_cash(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="HGLG11", name="CSHG Log", assetClass="REIT")
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await publish_quote(gql, admin_token, bid="50.00", ask="50.00", symbol="HGLG11")
    await place(gql, token, pid, "BUY", "30")
    await place(gql, token, pid, "BUY", "4", symbol="HGLG11")
    data = (await gql.data(ALLOCATION, {"id": pid}, token))["portfolio"]
    by_class = {s["key"]: (dec(s["marketValue"]), dec(s["weight"])) for s in data["byClass"]}
    assert by_class == {
        "CASH": (500, dec("0.5")),
        "STOCK": (300, dec("0.3")),
        "REIT": (200, dec("0.2")),
    }
    assert [s["key"] for s in data["bySymbol"]] == ["CASH", "PETR4", "HGLG11"]


async def test_history_and_performance_follow_deposits_and_trades(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    funded = datetime.now(UTC).isoformat()
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await place(gql, token, pid, "BUY", "50")
    await publish_quote(gql, admin_token, bid="12.00", ask="12.00")
    await place(gql, token, pid, "SELL", "50")
    since_creation = (await gql.data(PERFORMANCE, {"id": pid}, token))["portfolio"]
    assert dec(since_creation["history"][0]["equity"]) == 0  # before the deposit
    # No return is defined over a period that starts from nothing.
    assert since_creation["performance"]["timeWeightedReturn"] is None

    data = (await gql.data(PERFORMANCE, {"id": pid, "from": funded}, token))["portfolio"]
    assert dec(data["history"][0]["equity"]) == 1000
    last = data["history"][-1]
    assert dec(last["cash"]) == dec("1100")
    assert dec(last["equity"]) == dec("1100")
    assert dec(last["netDeposits"]) == dec("1000")
    performance = data["performance"]
    assert dec(performance["totalReturn"]) == dec("0.1")
    assert dec(performance["winRate"]) == 1
    assert dec(performance["timeWeightedReturn"]) == dec("0.1")
    assert dec(performance["maxDrawdown"]) == 0


async def test_live_portfolio_value_and_order_updates_reach_the_owner_only(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)

    stranger = (await register(gql, "stranger@example.com"))["accessToken"]
    intruder = await connected(server.url, stranger)
    for number, query in enumerate((ORDER_UPDATES, PORTFOLIO_VALUE)):
        await intruder.subscribe(str(number), query, {"id": pid})
        message = await intruder.receive()
        assert message["id"] == str(number)
        assert message["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"
        assert message["payload"].get("data") is None
        assert await intruder.receive() == {"id": str(number), "type": "complete"}
    await intruder.close()

    client = await connected(server.url, token)
    await client.subscribe("orders", ORDER_UPDATES, {"id": pid})
    await client.subscribe("value", PORTFOLIO_VALUE, {"id": pid})
    await wait_for_subscribers(http, f"tradegraph.orders.{pid}", 1)
    first = await client.receive()
    assert first["id"] == "value"
    assert dec(first["payload"]["data"]["portfolioValue"]["equity"]) == 1000

    order = await place(
        gql, token, pid, "BUY", "10", type="LIMIT", limitPrice="9.50", timeInForce="GTC"
    )
    await publish_quote(gql, admin_token, bid="9.40", ask="9.50")
    seen: list[str] = []
    equity = None
    async with asyncio.timeout(10):
        while seen[-1:] != ["FILLED"] or equity != dec("999.50"):
            message = await client.receive()
            payload = message["payload"]["data"]
            if message["id"] == "orders":
                assert payload["orderUpdates"]["id"] == order["id"]
                seen.append(payload["orderUpdates"]["status"])
            else:
                equity = dec(payload["portfolioValue"]["equity"])
    assert seen == ["NEW", "FILLED"]  # every status change, in order
    await client.close()


@pytest.mark.parametrize("amount", ["1e400", "abc"])
async def test_malformed_decimal_is_bad_user_input(
    gql: GraphQLClient, trader: dict, amount: str
) -> None:
    pid = await funded_portfolio(gql, trader["accessToken"], "0")
    error = await gql.error(DEPOSIT, {"id": pid, "amount": amount}, trader["accessToken"])
    assert error_code(error) == "BAD_USER_INPUT"
