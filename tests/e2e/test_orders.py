"""Orders end to end: placement, matching against published quotes, settlement, rejections."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    PLACE_ORDER,
    create_instrument,
    dec,
    funded_portfolio,
    order_input,
    place,
    portfolio,
    publish_quote,
    quoted_portfolio,
)
from tradegraph.services import Services


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
    assert dec((await portfolio(gql, token, pid))["positions"][0]["quantity"]) == 20

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
    pid = await quoted_portfolio(gql, admin_token, token)
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


CANCEL = """mutation($id: ID!) { cancelOrder(id: $id) { id status rejectReason } }"""
ORDERS = """query($id: ID!, $filter: OrderFilter, $after: String) {
  orders(portfolioId: $id, filter: $filter, first: 2, after: $after) {
    totalCount edges { node { clientOrderId status } } pageInfo { hasNextPage endCursor }
  }
}"""


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "-1"}, "quantity"),
        ({"quantity": "1.5"}, "quantity"),  # lot size 1
        ({"type": "LIMIT", "limitPrice": "10.005"}, "limitPrice"),  # tick size 0.01
        ({"type": "LIMIT"}, "limitPrice"),
        ({"type": "STOP_LIMIT", "stopPrice": "10.00"}, "limitPrice"),
        ({"type": "STOP"}, "stopPrice"),
        ({"type": "STOP_LIMIT", "limitPrice": "10.00"}, "stopPrice"),
        ({"symbol": "AAPL"}, "symbol"),  # quoted in USD, portfolio in BRL
    ],
)
async def test_malformed_orders_are_bad_user_input_and_leave_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict, overrides: dict, field: str
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="AAPL", name="Apple", currency="USD")
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    variables = {"input": {**order_input(pid, "BUY", "1"), **overrides}}
    error = await gql.error(PLACE_ORDER, variables, token)
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == field
    state = await portfolio(gql, token, pid)
    assert (dec(state["cash"]), dec(state["availableCash"]), state["positions"]) == (1000, 1000, [])
    assert (await gql.data(ORDERS, {"id": pid}, token))["orders"]["totalCount"] == 0


async def test_risk_refusals_leave_nothing_behind(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "100", ask="10.01")

    unknown = await gql.error(
        PLACE_ORDER, {"input": order_input(pid, "BUY", "1", symbol="X")}, token
    )
    assert error_code(unknown) == "NOT_FOUND"
    too_dear = await gql.error(PLACE_ORDER, {"input": order_input(pid, "BUY", "10")}, token)
    assert error_code(too_dear) == "INSUFFICIENT_FUNDS"
    assert dec(too_dear["extensions"]["required"]) == dec("100.10")
    not_held = await gql.error(PLACE_ORDER, {"input": order_input(pid, "SELL", "1")}, token)
    assert error_code(not_held) == "INSUFFICIENT_POSITION"

    await place(gql, token, pid, "BUY", "2")
    await place(gql, token, pid, "SELL", "2", type="LIMIT", limitPrice="20.00", timeInForce="GTC")
    promised = await gql.error(PLACE_ORDER, {"input": order_input(pid, "SELL", "1")}, token)
    assert error_code(promised) == "INSUFFICIENT_POSITION"  # both shares are on offer already
    listing = (await gql.data(ORDERS, {"id": pid}, token))["orders"]
    assert listing["totalCount"] == 2
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == dec("79.98")


async def test_market_order_without_a_quote_is_rejected_with_a_reason(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "100")
    order = await place(gql, token, pid, "BUY", "1")
    assert order["status"] == "REJECTED"
    assert "no quote" in order["rejectReason"]
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 100


async def test_cancel_releases_the_reservation_and_a_finished_order_is_conflict(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "100", ask="10.10")
    resting = await place(
        gql, token, pid, "BUY", "5", type="LIMIT", limitPrice="9.00", timeInForce="GTC"
    )
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 55
    cancelled = (await gql.data(CANCEL, {"id": resting["id"]}, token))["cancelOrder"]
    assert cancelled["status"] == "CANCELED"
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 100
    again = await gql.error(CANCEL, {"id": resting["id"]}, token)
    assert error_code(again) == "CONFLICT"
    await publish_quote(gql, admin_token, bid="8.00", ask="8.50")  # would have crossed
    state = await portfolio(gql, token, pid)
    assert (dec(state["cash"]), state["positions"]) == (100, [])


async def test_quoted_size_limits_fills_ioc_cancels_the_rest_fok_trades_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "10000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00", askSize="30", bidSize="30")
    fok = await place(gql, token, pid, "BUY", "40", timeInForce="FOK")
    assert (fok["status"], fok["filledQuantity"], fok["fills"]) == ("CANCELED", "0", [])
    ioc = await place(gql, token, pid, "BUY", "20", timeInForce="IOC")
    assert (ioc["status"], dec(ioc["filledQuantity"])) == ("FILLED", 20)
    # 10 left at this quote: a GTC market order takes them and waits for the next quote.
    gtc = await place(gql, token, pid, "BUY", "25", timeInForce="GTC")
    assert (gtc["status"], dec(gtc["filledQuantity"])) == ("PARTIALLY_FILLED", 10)
    ioc_rest = await place(gql, token, pid, "BUY", "5", timeInForce="IOC")
    assert (ioc_rest["status"], ioc_rest["filledQuantity"]) == ("CANCELED", "0")
    await publish_quote(gql, admin_token, bid="9.90", ask="9.95", askSize="100")
    listing = await gql.data(ORDERS, {"id": pid, "filter": {"status": ["FILLED"]}}, token)
    assert listing["orders"]["totalCount"] == 2
    state = await portfolio(gql, token, pid)
    assert dec(state["positions"][0]["quantity"]) == 45
    assert dec(state["cash"]) == dec("10000") - 30 * dec("10.00") - 15 * dec("9.95")
    assert dec(state["availableCash"]) == dec(state["cash"])  # the unspent reservation is back


async def test_a_resting_buy_never_spends_more_than_it_reserved(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "10000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00", askSize="10")
    order = await place(gql, token, pid, "BUY", "25", timeInForce="GTC")  # reserves 250.00
    assert dec(order["filledQuantity"]) == 10
    await publish_quote(gql, admin_token, bid="10.40", ask="10.50")  # 150.00 buys 14 at 10.50
    done = (
        await gql.data(
            f'{{ order(id: "{order["id"]}") {{ status filledQuantity rejectReason }} }}',
            token=token,
        )
    )["order"]
    assert (done["status"], dec(done["filledQuantity"])) == ("CANCELED", 24)
    assert "reserved cash" in done["rejectReason"]
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == dec("10000") - dec("100.00") - 14 * dec("10.50")
    assert dec(state["availableCash"]) == dec(state["cash"])


async def test_stop_orders_trigger_on_the_quote(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "10000", ask="10.10")
    await place(gql, token, pid, "BUY", "10")
    stop = await place(
        gql, token, pid, "SELL", "10", type="STOP", stopPrice="9.50", timeInForce="GTC"
    )
    stop_buy = await place(
        gql,
        token,
        pid,
        "BUY",
        "5",
        type="STOP_LIMIT",
        stopPrice="11.00",
        limitPrice="11.05",
        timeInForce="GTC",
    )
    await publish_quote(gql, admin_token, bid="9.60", ask="9.70")
    assert (await gql.data(f'{{ order(id: "{stop["id"]}") {{ status }} }}', token=token))["order"][
        "status"
    ] == "NEW"
    await publish_quote(gql, admin_token, bid="9.40", ask="9.45")  # bid falls to the stop
    sold = (
        await gql.data(
            f'{{ order(id: "{stop["id"]}") {{ status averageFillPrice }} }}', token=token
        )
    )["order"]
    assert (sold["status"], dec(sold["averageFillPrice"])) == ("FILLED", dec("9.40"))
    await publish_quote(gql, admin_token, bid="11.05", ask="11.10")  # triggered, limit not met
    await publish_quote(gql, admin_token, bid="10.90", ask="11.00")  # now the limit is met
    bought = (
        await gql.data(
            f'{{ order(id: "{stop_buy["id"]}") {{ status averageFillPrice }} }}', token=token
        )
    )["order"]
    assert (bought["status"], dec(bought["averageFillPrice"])) == ("FILLED", dec("11.00"))


async def test_day_orders_expire_at_the_session_close_and_release_cash(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "100", ask="10.10")
    order = await place(gql, token, pid, "BUY", "5", type="LIMIT", limitPrice="9.00")
    expires = datetime.fromisoformat(order["expiresAt"])
    local = expires.astimezone(ZoneInfo("America/Sao_Paulo"))
    assert (local.hour, local.minute) == (17, 0)
    assert timedelta(0) < expires - datetime.now(UTC) <= timedelta(days=1)
    # The test cannot wait for 17:00 in São Paulo: ask the engine to sweep as of then.
    assert await services.engine.expire_due(now=expires) == 1
    expired = (
        await gql.data(f'{{ order(id: "{order["id"]}") {{ status rejectReason }} }}', token=token)
    )["order"]
    assert expired["status"] == "EXPIRED"
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 100


async def test_orders_list_newest_first_with_cursors(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    for n in range(3):
        await place(gql, token, pid, "BUY", "1", clientOrderId=f"o{n}")
    first = (await gql.data(ORDERS, {"id": pid}, token))["orders"]
    assert [e["node"]["clientOrderId"] for e in first["edges"]] == ["o2", "o1"]
    assert first["pageInfo"]["hasNextPage"] is True
    rest = (await gql.data(ORDERS, {"id": pid, "after": first["pageInfo"]["endCursor"]}, token))[
        "orders"
    ]
    assert [e["node"]["clientOrderId"] for e in rest["edges"]] == ["o0"]
    assert rest["pageInfo"]["hasNextPage"] is False
