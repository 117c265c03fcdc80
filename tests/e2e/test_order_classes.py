"""Order classes end to end: BRACKET, OCO and OTO legs, their activation and cancellation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from beanie import PydanticObjectId

from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    CANCEL_ORDER,
    dec,
    order_input,
    place,
    portfolio,
    publish_quote,
    quoted_portfolio,
)
from tradegraph.documents import Order, OrderStatus
from tradegraph.services import Services
from tradegraph.trading.order_classes import OCO_CANCELLED, recover_legs

LEG = "id status side type quantity filledQuantity limitPrice stopPrice orderClass"
PLACE = f"""mutation($input: PlaceOrderInput!) {{
  placeOrder(input: $input) {{ {LEG} legs {{ {LEG} parent {{ id }} }} }}
}}"""
ORDER = f"""query($id: ID!) {{ order(id: $id) {{ {LEG} legs {{ {LEG} }} }} }}"""
COUNT = """query($id: ID!) { orders(portfolioId: $id) { totalCount } }"""


async def place_class(gql: GraphQLClient, token: str, pid: str, side: str, **extra: Any) -> dict:
    variables = {"input": order_input(pid, side, extra.pop("quantity", "10"), **extra)}
    return (await gql.data(PLACE, variables, token))["placeOrder"]


async def oco_exits_of_ten(gql: GraphQLClient, admin_token: str, token: str) -> tuple[str, dict]:
    """A portfolio holding 10 (bought at the quote) and its OCO exits: a take-profit SELL LIMIT
    at 12.00 whose leg is a stop-loss at 9.00. Returns the portfolio id and the OCO order."""
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")
    take = await place_class(
        gql, token, pid, "SELL", type="LIMIT", timeInForce="GTC", orderClass="OCO",
        takeProfit={"limitPrice": "12.00"}, stopLoss={"stopPrice": "9.00"},
    )  # fmt: skip
    return pid, take


async def legs_of(gql: GraphQLClient, token: str, order_id: str) -> list[dict]:
    return (await gql.data(ORDER, {"id": order_id}, token))["order"]["legs"]


BRACKET = {
    "orderClass": "BRACKET",
    "takeProfit": {"limitPrice": "12.00"},
    "stopLoss": {"stopPrice": "9.00"},
}


async def resting_bracket(gql: GraphQLClient, admin_token: str, token: str) -> tuple[str, dict]:
    """A funded portfolio and a BRACKET BUY entry resting at 9.50 (the ask is above)."""
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(
        gql, token, pid, "BUY", type="LIMIT", limitPrice="9.50", timeInForce="GTC", **BRACKET
    )
    return pid, entry


async def test_bracket_entry_fill_activates_exits_and_the_take_profit_cancels_the_stop(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(gql, token, pid, "BUY", **BRACKET)
    assert (entry["status"], entry["orderClass"]) == ("FILLED", "BRACKET")
    take, stop = entry["legs"]
    assert [(o["side"], o["type"], o["status"]) for o in (take, stop)] == [
        ("SELL", "LIMIT", "NEW"),
        ("SELL", "STOP", "NEW"),
    ]
    assert take["parent"] == stop["parent"] == {"id": entry["id"]}
    sell = await gql.execute(
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
        {"input": order_input(pid, "SELL", "1")},
        token,
    )
    assert error_code(sell["errors"][0]) == "INSUFFICIENT_POSITION"  # promised once, to the pair

    await publish_quote(gql, admin_token, bid="12.00", ask="12.10")
    take, stop = await legs_of(gql, token, entry["id"])
    assert (take["status"], stop["status"]) == ("FILLED", "CANCELED")
    state = await portfolio(gql, token, pid)
    assert state["positions"] == []
    assert dec(state["cash"]) == dec(state["availableCash"]) == 1000 - 100 + 120


async def test_bracket_stop_loss_takes_the_pairs_reservation_and_cancels_the_take_profit(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(gql, token, pid, "BUY", **BRACKET)
    await publish_quote(gql, admin_token, bid="8.90", ask="9.00")
    take, stop = await legs_of(gql, token, entry["id"])
    assert (take["status"], stop["status"], dec(stop["filledQuantity"])) == (
        "CANCELED",
        "FILLED",
        10,
    )
    await publish_quote(gql, admin_token, bid="12.00", ask="12.10")  # the cancelled leg is done
    state = await portfolio(gql, token, pid)
    assert state["positions"] == []
    assert dec(state["cash"]) == dec(state["availableCash"]) == 1000 - 100 + 89


async def test_resting_entry_holds_its_legs_and_cancelling_it_cancels_them(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid, entry = await resting_bracket(gql, admin_token, token)
    assert entry["status"] == "NEW"
    assert [leg["status"] for leg in entry["legs"]] == ["HELD", "HELD"]
    await gql.data(CANCEL_ORDER, {"id": entry["id"]}, token)
    assert [leg["status"] for leg in await legs_of(gql, token, entry["id"])] == [
        "CANCELED",
        "CANCELED",
    ]
    state = await portfolio(gql, token, pid)
    assert dec(state["availableCash"]) == 1000


REPLACE_LIMIT = """mutation($id: ID!, $price: Decimal!) {
  replaceOrder(id: $id, input: {limitPrice: $price}) { id limitPrice legs { limitPrice stopPrice } }
}"""


async def test_a_resting_bracket_entry_cannot_move_its_limit_past_its_held_exits(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid, entry = await resting_bracket(gql, admin_token, token)
    before = await portfolio(gql, token, pid)

    error = await gql.error(REPLACE_LIMIT, {"id": entry["id"], "price": "9.00"}, token)

    assert (error_code(error), error["extensions"]["field"]) == ("BAD_USER_INPUT", "stopLoss")
    assert "9.00" in error["message"]  # names the stop-loss it would cross
    state = (await gql.data(ORDER, {"id": entry["id"]}, token))["order"]
    assert (state["status"], state["limitPrice"]) == ("NEW", "9.50")
    assert (await gql.data(COUNT, {"id": pid}, token))["orders"]["totalCount"] == 3
    assert await portfolio(gql, token, pid) == before
    # between its exits it moves, and the replacement carries them on
    moved = (await gql.data(REPLACE_LIMIT, {"id": entry["id"], "price": "9.40"}, token))[
        "replaceOrder"
    ]
    assert moved["limitPrice"] == "9.40"
    assert [(leg["limitPrice"], leg["stopPrice"]) for leg in moved["legs"]] == [
        ("12.00", None),
        (None, "9.00"),
    ]


async def test_oto_activates_its_one_exit_for_the_quantity_filled(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(
        gql,
        token,
        pid,
        "BUY",
        type="LIMIT",
        limitPrice="9.50",
        timeInForce="GTC",
        orderClass="OTO",
        stopLoss={"stopPrice": "9.00", "limitPrice": "8.90"},
    )
    await publish_quote(gql, admin_token, bid="9.40", ask="9.50", askSize="4")
    assert [leg["status"] for leg in await legs_of(gql, token, entry["id"])] == ["HELD"]
    await gql.data(CANCEL_ORDER, {"id": entry["id"]}, token)  # 4 of 10 filled
    (stop,) = await legs_of(gql, token, entry["id"])
    assert (stop["type"], stop["status"], dec(stop["quantity"])) == ("STOP_LIMIT", "NEW", 4)
    await publish_quote(gql, admin_token, bid="8.95", ask="9.00")
    (stop,) = await legs_of(gql, token, entry["id"])
    assert stop["status"] == "FILLED"
    assert (await portfolio(gql, token, pid))["positions"] == []


async def test_oco_first_partial_fill_cancels_the_other_exit(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")
    take = await place_class(
        gql,
        token,
        pid,
        "SELL",
        type="LIMIT",
        timeInForce="GTC",
        orderClass="OCO",
        takeProfit={"limitPrice": "12.00"},
        stopLoss={"stopPrice": "9.00"},
    )
    assert (take["type"], dec(take["limitPrice"]), take["status"]) == ("LIMIT", 12, "NEW")
    (stop,) = take["legs"]
    assert (stop["type"], stop["side"], stop["status"]) == ("STOP", "SELL", "NEW")
    await publish_quote(gql, admin_token, bid="12.00", ask="12.10", bidSize="3")
    state = (await gql.data(ORDER, {"id": take["id"]}, token))["order"]
    assert (state["status"], dec(state["filledQuantity"])) == ("PARTIALLY_FILLED", 3)
    assert [leg["status"] for leg in state["legs"]] == ["CANCELED"]
    await gql.data(CANCEL_ORDER, {"id": take["id"]}, token)
    state = await portfolio(gql, token, pid)
    assert dec(state["positions"][0]["quantity"]) == 7
    await publish_quote(gql, admin_token, bid="11.00", ask="11.10")
    again = await place(gql, token, pid, "SELL", "7")  # all 7 available again, none promised
    assert again["status"] == "FILLED"


@pytest.mark.parametrize(
    ("side", "extra", "field"),
    [
        ("BUY", {**BRACKET, "takeProfit": {"limitPrice": "8.00"}}, "takeProfit"),
        ("SELL", BRACKET, "takeProfit"),  # a SELL entry takes profit below its stop
        ("BUY", {"orderClass": "BRACKET", "takeProfit": {"limitPrice": "12.00"}}, "takeProfit"),
        ("BUY", {**BRACKET, "orderClass": "OTO"}, "takeProfit"),
        ("BUY", {"takeProfit": {"limitPrice": "12.00"}}, "takeProfit"),  # SIMPLE
        (
            "BUY",
            {**BRACKET, "type": "LIMIT", "limitPrice": "12.50", "timeInForce": "GTC"},
            "takeProfit",
        ),
        ("BUY", {**BRACKET, "stopLoss": {"stopPrice": "9.00", "limitPrice": "9.10"}}, "stopLoss"),
        ("BUY", {**BRACKET, "stopLoss": {"stopPrice": "9.005"}}, "stopLoss"),
        ("SELL", {**BRACKET, "orderClass": "OCO", "type": "MARKET"}, "type"),
    ],
)
async def test_exit_prices_on_the_wrong_side_are_bad_user_input_and_store_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict, side: str, extra: dict, field: str
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    await place(gql, token, pid, "BUY", "10")
    variables = {"input": order_input(pid, side, "10", **extra)}
    error = await gql.error(PLACE, variables, token)
    assert (error_code(error), error["extensions"]["field"]) == ("BAD_USER_INPUT", field)
    assert (await gql.data(COUNT, {"id": pid}, token))["orders"]["totalCount"] == 1
    state = await portfolio(gql, token, pid)
    assert dec(state["availableCash"]) == dec(state["cash"]) == 900


async def test_cancel_all_orders_cancels_held_legs_with_their_entry(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid, entry = await resting_bracket(gql, admin_token, token)
    cancelled = await gql.data(
        "mutation($pid: ID!) { cancelAllOrders(portfolioId: $pid) { id status } }",
        {"pid": pid},
        token,
    )
    expected = {entry["id"], *(leg["id"] for leg in entry["legs"])}
    assert {o["id"] for o in cancelled["cancelAllOrders"]} == expected
    assert {o["status"] for o in cancelled["cancelAllOrders"]} == {"CANCELED"}
    assert dec((await portfolio(gql, token, pid))["availableCash"]) == 1000


async def test_an_interrupted_oco_hand_over_is_delivered_by_recovery_once(
    gql: GraphQLClient, services: Services, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token)
    entry = await place_class(gql, token, pid, "BUY", **BRACKET)
    take_id, stop_id = (leg["id"] for leg in entry["legs"])
    take = await Order.get(PydanticObjectId(take_id))
    assert take is not None
    assert take.reserved == 10

    # The stop-loss was about to fill: the take-profit handed its reservation over (the commit)
    # and the process died before the stop-loss received it.
    moved = await services.engine.execution.swap(
        take,
        {
            "status": OrderStatus.CANCELED,
            "reject_reason": OCO_CANCELLED,
            "reserved": Decimal(0),
            "moved_to": PydanticObjectId(stop_id),
            "reserve_delta": take.reserved,
            "move_pending": True,
        },
    )
    assert moved is not None
    later = datetime.now(UTC) + timedelta(minutes=5)
    assert await recover_legs(services.order_classes, now=later) == 1
    assert await recover_legs(services.order_classes, now=later) == 0
    stop = await Order.get(PydanticObjectId(stop_id))
    assert stop is not None
    assert (stop.reserved, stop.received) == (10, [take_id])
    promised = await gql.execute(
        "mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }",
        {"input": order_input(pid, "SELL", "1")},
        token,
    )
    assert error_code(promised["errors"][0]) == "INSUFFICIENT_POSITION"  # still promised once
    await publish_quote(gql, admin_token, bid="8.90", ask="9.00")
    state = await portfolio(gql, token, pid)
    assert state["positions"] == []
    assert dec(state["cash"]) == dec(state["availableCash"]) == 1000 - 100 + 89


REPLACE_QUANTITY = """mutation($id: ID!, $quantity: Decimal!) {
  replaceOrder(id: $id, input: {quantity: $quantity}) { id }
}"""


@pytest.mark.parametrize("leg", ["take-profit", "stop-loss"])
async def test_an_oco_legs_quantity_cannot_be_replaced_and_nothing_oversells(
    gql: GraphQLClient, admin_token: str, trader: dict, leg: str
) -> None:
    token = trader["accessToken"]
    pid, take = await oco_exits_of_ten(gql, admin_token, token)
    target = take["id"] if leg == "take-profit" else take["legs"][0]["id"]
    error = await gql.error(REPLACE_QUANTITY, {"id": target, "quantity": "100"}, token)
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "quantity"
    await publish_quote(gql, admin_token, bid="8.90", ask="8.95", bidSize="1000")
    state = await portfolio(gql, token, pid)
    # The stop sells the 10 held, never more: no position goes short.
    assert all(dec(p["quantity"]) >= 0 for p in state["positions"])
    assert (await gql.data(ORDER, {"id": target}, token))["order"]["quantity"] == "10"


async def test_an_oco_leg_that_cannot_trade_does_not_cancel_its_peer(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    _, take = await oco_exits_of_ten(gql, admin_token, token)
    await publish_quote(gql, admin_token, bid="8.90", ask="8.95", bidSize="0")  # no depth
    state = (await gql.data(ORDER, {"id": take["id"]}, token))["order"]
    assert dec(state["legs"][0]["filledQuantity"]) == 0  # nothing traded...
    assert state["status"] == "NEW"  # ...so the take-profit still stands
