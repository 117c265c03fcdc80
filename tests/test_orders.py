"""Orders end to end: placement, matching against published quotes, settlement, rejections."""

from __future__ import annotations

import asyncio

from tests.clients import GraphQLClient, error_code
from tests.trading import (
    PLACE_ORDER,
    create_instrument,
    dec,
    funded_portfolio,
    order_input,
    place,
    portfolio,
    publish_quote,
)


async def test_buy_mark_to_market_limit_sell_and_realized_pnl_by_average_cost(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "10000.00")
    await publish_quote(gql, admin_token, bid="100.00", ask="100.50")

    bought = await place(gql, token, pid, "BUY", "10")
    assert bought["status"] == "FILLED"
    assert dec(bought["averageFillPrice"]) == dec("100.50")  # a BUY takes the ask
    assert [dec(f["price"]) for f in bought["fills"]] == [dec("100.50")]

    await publish_quote(gql, admin_token, bid="101.00", ask="101.20")
    second = await place(gql, token, pid, "BUY", "10")
    assert dec(second["averageFillPrice"]) == dec("101.20")

    await publish_quote(gql, admin_token, bid="104.00", ask="104.20")
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == dec("10000") - dec("1005.00") - dec("1012.00")
    (position,) = state["positions"]
    assert dec(position["quantity"]) == 20
    assert dec(position["averageCost"]) == dec("100.85")
    assert dec(position["marketPrice"]) == dec("104.10")  # the mid
    assert dec(position["marketValue"]) == dec("2082.00")
    assert dec(position["unrealizedPnl"]) == dec("2082.00") - dec("2017.00")
    assert dec(state["equity"]) == dec("7983.00") + dec("2082.00")

    sell = await place(
        gql, token, pid, "SELL", "15", type="LIMIT", limitPrice="105.00", timeInForce="GTC"
    )
    assert sell["status"] == "NEW"  # bid 104.00 is below the limit
    await publish_quote(gql, admin_token, bid="104.99", ask="105.10")
    assert (await portfolio(gql, token, pid))["positions"][0]["quantity"] in ("20", "20.0")

    await publish_quote(gql, admin_token, bid="105.30", ask="105.40")  # the bid crosses
    state = await portfolio(gql, token, pid)
    (position,) = state["positions"]
    assert dec(position["quantity"]) == 5
    assert dec(position["averageCost"]) == dec("100.85")  # selling leaves the average alone
    # Filled at the bid of the crossing quote: 15 * (105.30 - 100.85) = 66.75
    assert dec(position["realizedPnl"]) == dec("66.75")
    assert dec(state["realizedPnl"]) == dec("66.75")
    assert dec(state["cash"]) == dec("7983.00") + dec("1579.50")


async def test_same_client_order_id_returns_the_existing_order_and_trades_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    first = await place(gql, token, pid, "BUY", "5", clientOrderId="abc-1")
    again = await place(gql, token, pid, "BUY", "5", clientOrderId="abc-1")
    assert again["id"] == first["id"]
    assert again["clientOrderId"] == "abc-1"
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == dec("950")
    assert dec(state["positions"][0]["quantity"]) == 5


async def test_concurrent_market_buys_fill_exactly_what_cash_affords(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000.00")
    await publish_quote(gql, admin_token, bid="99.00", ask="100.00")
    variables = {"input": order_input(pid, "BUY", "1")}
    results = await asyncio.gather(*(gql.execute(PLACE_ORDER, variables, token) for _ in range(20)))
    filled = [r for r in results if "errors" not in r]
    refused = [r for r in results if "errors" in r]
    assert len(filled) == 10
    assert all(r["data"]["placeOrder"]["status"] == "FILLED" for r in filled)
    assert {error_code(r["errors"][0]) for r in refused} == {"INSUFFICIENT_FUNDS"}
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == 0
    assert dec(state["availableCash"]) == 0
    assert dec(state["positions"][0]["quantity"]) == 10
