"""Pure rules of the trading desk: trailing stops, exit prices of order classes, how much a
close-out sells and how exits are built."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.unit import unsaved
from tradegraph.documents import OrderClass, OrderType, Side, TimeInForce
from tradegraph.errors import InvalidInput
from tradegraph.trading.closeouts import close_quantity
from tradegraph.trading.matching import trailing_state
from tradegraph.trading.order_classes import Exits, check_exits, leg_requests
from tradegraph.trading.orders import OrderRequest

D = Decimal


def test_a_sell_trailing_stop_follows_the_highest_bid_and_triggers_one_trail_below() -> None:
    order = unsaved.order(side=Side.SELL, type=OrderType.TRAILING_STOP, trail_price=D("1"))
    order.high_water_mark = D("10")
    assert trailing_state(order, D("12"), D("12.5")) == (D("12"), False)
    order.high_water_mark = D("12")
    assert trailing_state(order, D("11.01"), D("11.5")) == (D("12"), False)
    assert trailing_state(order, D("11"), D("11.5")) == (D("12"), True)


def test_a_buy_trailing_stop_follows_the_lowest_ask_by_percentage() -> None:
    order = unsaved.order(side=Side.BUY, type=OrderType.TRAILING_STOP, trail_percent=D("10"))
    assert trailing_state(order, D("9.9"), D("10")) == (D("10"), False)  # first mark
    order.high_water_mark = D("10")
    assert trailing_state(order, D("10.8"), D("10.99")) == (D("10"), False)
    assert trailing_state(order, D("10.9"), D("11")) == (D("10"), True)


def request(side: Side, type_: OrderType = OrderType.MARKET, **extra: object) -> OrderRequest:
    return OrderRequest("p", "PETR4", side, type_, D("10"), **extra)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("side", "take", "stop", "ok"),
    [
        (Side.BUY, "12", "9", True),
        (Side.BUY, "9", "12", False),
        (Side.BUY, "10", "10", False),
        (Side.SELL, "9", "12", True),
        (Side.SELL, "12", "9", False),
    ],
)
def test_a_bracket_takes_profit_on_the_far_side_of_its_stop(
    side: Side, take: str, stop: str, ok: bool
) -> None:
    exits = Exits(OrderClass.BRACKET, D(take), D(stop))
    if ok:
        check_exits(request(side), exits)
    else:
        with pytest.raises(InvalidInput):
            check_exits(request(side), exits)


def test_an_oco_is_an_exit_so_a_sell_oco_protects_a_long_position() -> None:
    sell = request(Side.SELL, OrderType.LIMIT, limit_price=D("12"))
    check_exits(sell, Exits(OrderClass.OCO, D("12"), D("9")))
    with pytest.raises(InvalidInput):
        check_exits(sell, Exits(OrderClass.OCO, D("9"), D("12")))


def test_bracket_exits_take_the_other_side_and_rest() -> None:
    entry = request(Side.BUY, time_in_force=TimeInForce.IOC)
    take, stop = leg_requests(entry, Exits(OrderClass.BRACKET, D("12"), D("9"), D("8.9")))
    assert (take.side, take.type, take.limit_price) == (Side.SELL, OrderType.LIMIT, D("12"))
    assert (stop.type, stop.stop_price, stop.limit_price) == (
        OrderType.STOP_LIMIT,
        D("9"),
        D("8.9"),
    )
    assert take.time_in_force is stop.time_in_force is TimeInForce.GTC


def test_close_quantity_is_the_whole_a_part_or_a_percentage_rounded_down_to_the_lot() -> None:
    assert close_quantity(D("10"), D("1"), None, None) == 10
    assert close_quantity(D("10"), D("1"), D("3"), None) == 3
    assert close_quantity(D("10"), D("1"), None, D("55")) == 5
    for quantity, percentage in ((D("1"), D("1")), (D("11"), None), (None, D("5")), (None, D(0))):
        with pytest.raises(InvalidInput):
            close_quantity(D("10"), D("1"), quantity, percentage)
