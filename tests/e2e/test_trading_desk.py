"""The trading desk end to end: replaceOrder, trailing stops, close-outs and cancelAllOrders."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from beanie import PydanticObjectId

from tests.e2e.conftest import register
from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    ORDER_FIELDS,
    create_instrument,
    dec,
    funded_portfolio,
    place,
    portfolio,
    publish_quote,
    quoted_portfolio,
)
from tradegraph.documents import Order
from tradegraph.services import Services
from tradegraph.trading.replace import ReplaceRequest, replaced_request
from tradegraph.trading.settlement import recover

REPLACE = f"""mutation($id: ID!, $input: ReplaceOrderInput!) {{
  replaceOrder(id: $id, input: $input) {{
    {ORDER_FIELDS} replaces {{ id status replacedBy {{ id }} }} replacedBy {{ id }}
  }}
}}"""
ORDER = """query($id: ID!) {
  order(id: $id) { id status quantity filledQuantity limitPrice highWaterMark
    replacedBy { id status } replaces { id } }
}"""
COUNT = """query($id: ID!) { orders(portfolioId: $id) { totalCount } }"""
CLOSE = f"""mutation($pid: ID!, $symbol: String!, $quantity: Decimal, $percentage: Decimal) {{
  closePosition(portfolioId: $pid, symbol: $symbol, quantity: $quantity,
                percentage: $percentage) {{ {ORDER_FIELDS} }}
}}"""
CLOSE_ALL = """mutation($pid: ID!, $cancel: Boolean!) {
  closeAllPositions(portfolioId: $pid, cancelOrders: $cancel) { symbol side type quantity status }
}"""
CANCEL_ALL = """mutation($pid: ID!) { cancelAllOrders(portfolioId: $pid) { id status } }"""


async def resting_buy(gql: GraphQLClient, token: str, pid: str, quantity: str, limit: str) -> dict:
    return await place(
        gql, token, pid, "BUY", quantity, type="LIMIT", limitPrice=limit, timeInForce="GTC"
    )


async def test_replace_moves_the_reservation_to_a_new_order_and_links_both(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    old = await resting_buy(gql, token, pid, "10", "9.00")
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 910

    new = (await gql.data(REPLACE, {"id": old["id"], "input": {"limitPrice": "9.50"}}, token))[
        "replaceOrder"
    ]
    assert new["id"] != old["id"]
    assert (new["status"], dec(new["limitPrice"]), dec(new["quantity"])) == ("NEW", 9.5, 10)
    assert new["replaces"] == {
        "id": old["id"],
        "status": "REPLACED",
        "replacedBy": {"id": new["id"]},
    }
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 905  # one reservation

    smaller = (await gql.data(REPLACE, {"id": new["id"], "input": {"quantity": "4"}}, token))[
        "replaceOrder"
    ]
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 962  # surplus returned
    await publish_quote(gql, admin_token, bid="9.00", ask="9.20")  # crosses 9.50, not 9.00
    filled = (await gql.data(ORDER, {"id": smaller["id"]}, token))["order"]
    assert (filled["status"], dec(filled["filledQuantity"])) == ("FILLED", 4)
    for replaced in (old, new):  # the replaced orders never trade again
        state = (await gql.data(ORDER, {"id": replaced["id"]}, token))["order"]
        assert (state["status"], dec(state["filledQuantity"])) == ("REPLACED", 0)
    state = await portfolio(gql, token, pid)
    assert dec(state["positions"][0]["quantity"]) == 4
    assert dec(state["cash"]) == dec(state["availableCash"]) == dec("1000") - dec("36.80")


async def test_refused_replacements_change_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "100", ask="10.10")
    old = await resting_buy(gql, token, pid, "5", "9.00")

    for changes, code in (
        ({"quantity": "20"}, "INSUFFICIENT_FUNDS"),
        ({"limitPrice": "9.005"}, "BAD_USER_INPUT"),
        ({"stopPrice": "8.00"}, "BAD_USER_INPUT"),
        ({"trailPercent": "1"}, "BAD_USER_INPUT"),
    ):
        error = await gql.error(REPLACE, {"id": old["id"], "input": changes}, token)
        assert error_code(error) == code, changes
    state = (await gql.data(ORDER, {"id": old["id"]}, token))["order"]
    assert (state["status"], state["replacedBy"]) == ("NEW", None)
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 55
    assert (await gql.data(COUNT, {"id": pid}, token))["orders"]["totalCount"] == 1

    await publish_quote(gql, admin_token, bid="8.50", ask="8.90")
    conflict = await gql.error(REPLACE, {"id": old["id"], "input": {"quantity": "6"}}, token)
    assert error_code(conflict) == "CONFLICT"  # FILLED


async def test_replacing_a_partly_filled_order_keeps_what_filled(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    old = await resting_buy(gql, token, pid, "10", "9.00")
    await publish_quote(gql, admin_token, bid="8.90", ask="9.00", askSize="3")
    assert (await gql.data(ORDER, {"id": old["id"]}, token))["order"]["status"] == (
        "PARTIALLY_FILLED"
    )
    await publish_quote(gql, admin_token, bid="9.50", ask="9.60")  # no longer crossing
    below = await gql.error(REPLACE, {"id": old["id"], "input": {"quantity": "2"}}, token)
    assert (error_code(below), below["extensions"]["field"]) == ("BAD_USER_INPUT", "quantity")
    new = (await gql.data(REPLACE, {"id": old["id"], "input": {"quantity": "5"}}, token))[
        "replaceOrder"
    ]
    assert (dec(new["quantity"]), dec(new["filledQuantity"]), new["status"]) == (5, 3, "NEW")
    state = await portfolio(gql, token, pid)
    assert dec(state["cash"]) == dec("973")
    assert dec(state["availableCash"]) == dec("973") - dec("18")  # 2 more at 9.00


async def test_replace_racing_with_fills_never_fills_the_old_order_after_the_answer(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "10000", ask="10.10")
    spent, bought = dec(0), dec(0)
    for round_ in range(8):
        old = await resting_buy(gql, token, pid, "10", "9.00")
        ask = f"8.{90 + round_ % 5}"
        replace = gql.execute(REPLACE, {"id": old["id"], "input": {"limitPrice": "8.00"}}, token)
        answer, _ = await asyncio.gather(
            replace, publish_quote(gql, admin_token, bid="8.80", ask=ask)
        )
        after = (await gql.data(ORDER, {"id": old["id"]}, token))["order"]
        if "errors" in answer:  # the fill won: the old order is FILLED, nothing replaced
            assert error_code(answer["errors"][0]) == "CONFLICT"
            assert (after["status"], after["replacedBy"]) == ("FILLED", None)
            spent, bought = spent + 10 * dec(ask), bought + 10
        else:  # the replace won: the old order never filled, the new one rests at 8.00
            new = answer["data"]["replaceOrder"]
            assert (after["status"], dec(after["filledQuantity"])) == ("REPLACED", 0)
            assert new["status"] == "NEW"
            await gql.data(
                "mutation($id: ID!) { cancelOrder(id: $id) { id } }", {"id": new["id"]}, token
            )
        await publish_quote(gql, admin_token, bid="10.00", ask="10.10")
    state = await portfolio(gql, token, pid)
    held = dec(state["positions"][0]["quantity"]) if state["positions"] else dec(0)
    assert held == bought  # every fill belongs to an order the answer called FILLED
    assert dec(state["cash"]) == dec(state["availableCash"]) == 10000 - spent  # none reserved


async def test_only_the_owner_replaces_and_closes(
    gql: GraphQLClient, admin_token: str, trader: dict, analyst_token: str
) -> None:
    token = trader["accessToken"]
    other = (await register(gql, "other-desk@example.com"))["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    await place(gql, token, pid, "BUY", "5")
    old = await resting_buy(gql, token, pid, "5", "9.00")
    for caller, code in ((other, "NOT_FOUND"), (analyst_token, "FORBIDDEN")):
        replace = {"id": old["id"], "input": {"quantity": "6"}}
        assert error_code(await gql.error(REPLACE, replace, caller)) == code
        close = {"pid": pid, "symbol": "PETR4"}
        assert error_code(await gql.error(CLOSE, close, caller)) == code
        assert error_code(await gql.error(CLOSE_ALL, {"pid": pid, "cancel": True}, caller)) == code
        assert error_code(await gql.error(CANCEL_ALL, {"pid": pid}, caller)) == code
    state = await portfolio(gql, token, pid)
    assert dec(state["positions"][0]["quantity"]) == 5
    assert (await gql.data(ORDER, {"id": old["id"]}, token))["order"]["status"] == "NEW"


async def test_trailing_stop_follows_the_best_price_and_triggers_on_the_trail(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")
    sell = await place(
        gql, token, pid, "SELL", "10", type="TRAILING_STOP", trailPrice="1.00", timeInForce="GTC"
    )
    assert sell["status"] == "NEW"
    for bid, mark, status in (
        ("12.00", "12.00", "NEW"),
        ("11.50", "12.00", "NEW"),  # above 12.00 - 1.00: the mark holds, no trigger
        ("11.00", "12.00", "FILLED"),
    ):
        await publish_quote(gql, admin_token, bid=bid, ask="12.50")
        state = (await gql.data(ORDER, {"id": sell["id"]}, token))["order"]
        assert (dec(state["highWaterMark"]), state["status"]) == (dec(mark), status), bid
    assert (await portfolio(gql, token, pid))["positions"] == []

    buy = await place(
        gql, token, pid, "BUY", "1", type="TRAILING_STOP", trailPercent="10", timeInForce="GTC"
    )
    await publish_quote(gql, admin_token, bid="9.90", ask="10.00")
    await publish_quote(gql, admin_token, bid="10.90", ask="10.99")
    assert (await gql.data(ORDER, {"id": buy["id"]}, token))["order"]["status"] == "NEW"
    await publish_quote(gql, admin_token, bid="10.95", ask="11.00")  # 10.00 + 10%
    state = (await gql.data(ORDER, {"id": buy["id"]}, token))["order"]
    assert (state["status"], dec(state["highWaterMark"])) == ("FILLED", 10)


async def test_trailing_stop_needs_exactly_one_trail(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    for extra in ({}, {"trailPrice": "1.00", "trailPercent": "5"}, {"trailPercent": "100"}):
        error = await gql.error(
            "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
            {
                "input": {
                    "portfolioId": pid,
                    "symbol": "PETR4",
                    "side": "BUY",
                    "type": "TRAILING_STOP",
                    "quantity": "1",
                    **extra,
                }
            },
            token,
        )
        assert error_code(error) == "BAD_USER_INPUT", extra
    assert (await gql.data(COUNT, {"id": pid}, token))["orders"]["totalCount"] == 0
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 1000


async def test_close_position_by_percentage_quantity_or_whole(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")

    for variables, code in (
        ({"quantity": "1", "percentage": "10"}, "BAD_USER_INPUT"),
        ({"quantity": "11"}, "BAD_USER_INPUT"),
        ({"percentage": "5"}, "BAD_USER_INPUT"),  # half a share, lot size 1
        ({"percentage": "101"}, "BAD_USER_INPUT"),
    ):
        error = await gql.error(CLOSE, {"pid": pid, "symbol": "PETR4", **variables}, token)
        assert error_code(error) == code, variables
    assert error_code(await gql.error(CLOSE, {"pid": pid, "symbol": "VALE3"}, token)) == (
        "NOT_FOUND"
    )
    assert dec((await portfolio(gql, token, pid))["positions"][0]["quantity"]) == 10

    half = (await gql.data(CLOSE, {"pid": pid, "symbol": "PETR4", "percentage": "55"}, token))[
        "closePosition"
    ]
    assert (half["side"], half["type"], dec(half["quantity"]), half["status"]) == (
        "SELL",
        "MARKET",
        5,
        "FILLED",
    )
    two = await gql.data(CLOSE, {"pid": pid, "symbol": "PETR4", "quantity": "2"}, token)
    assert dec(two["closePosition"]["quantity"]) == 2
    rest = (await gql.data(CLOSE, {"pid": pid, "symbol": "PETR4"}, token))["closePosition"]
    assert dec(rest["quantity"]) == 3
    assert (await portfolio(gql, token, pid))["positions"] == []


async def test_close_all_positions_cancels_orders_first_and_cancel_all_releases(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await publish_quote(gql, admin_token, bid="20.00", ask="20.00", symbol="VALE3")
    await place(gql, token, pid, "BUY", "10")
    await place(gql, token, pid, "BUY", "5", symbol="VALE3")
    resting = await resting_buy(gql, token, pid, "1", "5.00")
    await place(gql, token, pid, "SELL", "4", type="LIMIT", limitPrice="30.00", timeInForce="GTC")

    cancelled = (await gql.data(CANCEL_ALL, {"pid": pid}, token))["cancelAllOrders"]
    assert {o["status"] for o in cancelled} == {"CANCELED"}
    assert resting["id"] in {o["id"] for o in cancelled}
    assert len(cancelled) == 2
    assert (await gql.data(CANCEL_ALL, {"pid": pid}, token))["cancelAllOrders"] == []
    state = await portfolio(gql, token, pid)
    assert dec(state["availableCash"]) == dec(state["cash"]) == 800

    await place(gql, token, pid, "SELL", "4", type="LIMIT", limitPrice="30.00", timeInForce="GTC")
    kept = (await gql.data(CLOSE_ALL, {"pid": pid, "cancel": False}, token))["closeAllPositions"]
    assert [(o["symbol"], dec(o["quantity"])) for o in kept] == [("PETR4", 6), ("VALE3", 5)]
    closed = (await gql.data(CLOSE_ALL, {"pid": pid, "cancel": True}, token))["closeAllPositions"]
    assert [(o["symbol"], dec(o["quantity"]), o["status"]) for o in closed] == [
        ("PETR4", 4, "FILLED")
    ]
    state = await portfolio(gql, token, pid)
    assert state["positions"] == []
    assert dec(state["cash"]) == dec(state["availableCash"]) == 1000


async def crash_mid_replace(
    services: Services, order_id: str, changes: ReplaceRequest, commit: bool
) -> Order:
    """Runs replaceOrder's steps up to a "crash": the candidate stored (and its extra
    reserved), then, with `commit`, the old order turned REPLACED; nothing after."""
    replacements = services.replacements
    old = await Order.get(PydanticObjectId(order_id))
    assert old is not None
    new = await replacements._candidate(old, replaced_request(old, changes))
    if commit:
        assert await services.engine.execution.hand_over(old, new) is not None
    return new


async def test_recovery_finishes_a_committed_replacement_and_undoes_an_uncommitted_one(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", ask="10.10")
    first = await resting_buy(gql, token, pid, "10", "9.00")  # reserves 90
    second = await resting_buy(gql, token, pid, "10", "8.00")  # reserves 80
    later = datetime.now(UTC) + timedelta(minutes=5)

    # Committed: the old order says REPLACED, the new one (4 at 9.00) is not live yet.
    committed = await crash_mid_replace(services, first["id"], ReplaceRequest(D(4)), True)
    # Not committed: the candidate (20 at 8.00) reserved 80 more, the old order still holds 80.
    undone = await crash_mid_replace(services, second["id"], ReplaceRequest(D(20)), False)
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 1000 - 90 - 160
    listed = await gql.data(COUNT, {"id": pid}, token)
    assert listed["orders"]["totalCount"] == 2  # candidates are never listed

    assert await recover(now=later) == 2
    assert await recover(now=later) == 0
    state = await portfolio(gql, token, pid)
    assert dec(state["availableCash"]) == 1000 - 36 - 80  # the surplus and the extra returned
    live = (await gql.data(ORDER, {"id": str(committed.id)}, token))["order"]
    assert (live["status"], live["replaces"]) == ("NEW", {"id": first["id"]})
    assert await Order.get(undone.id) is None
    kept = (await gql.data(ORDER, {"id": second["id"]}, token))["order"]
    assert (kept["status"], kept["replacedBy"]) == ("NEW", None)
    await publish_quote(gql, admin_token, bid="7.00", ask="7.50")  # both cross now
    state = await portfolio(gql, token, pid)
    assert dec(state["positions"][0]["quantity"]) == 14  # 4 + 10: nothing else ever traded


async def test_concurrent_close_outs_never_sell_more_than_is_held(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")
    await resting_buy(gql, token, pid, "1", "5.00")
    calls = [
        gql.execute(CLOSE, {"pid": pid, "symbol": "PETR4", "quantity": "4"}, token)
        for _ in range(5)
    ] + [gql.execute(CLOSE_ALL, {"pid": pid, "cancel": True}, token) for _ in range(2)]
    results = await asyncio.gather(*calls)
    sold = dec(0)
    for result in results:
        if "errors" in result:
            refusals = ("INSUFFICIENT_POSITION", "NOT_FOUND", "BAD_USER_INPUT")  # less held now
            assert error_code(result["errors"][0]) in refusals
            continue
        data = result["data"]
        orders = data.get("closeAllPositions") or [data.get("closePosition")]
        sold += sum((dec(o["quantity"]) for o in orders if o and o["status"] == "FILLED"), dec(0))
    assert sold == 10
    state = await portfolio(gql, token, pid)
    assert state["positions"] == []
    assert dec(state["cash"]) == dec(state["availableCash"]) == 1000  # the resting BUY cancelled
