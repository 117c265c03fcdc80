"""Pure rules of the trading desk: trailing stops, exit prices of order classes, how much a
close-out sells and how exits are built."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from beanie import PydanticObjectId

from tests.support import unsaved
from tradegraph.documents import (
    AssetClass,
    LedgerEntry,
    LedgerKind,
    OrderClass,
    OrderType,
    Side,
    TimeInForce,
)
from tradegraph.errors import InvalidInput
from tradegraph.trading.closeouts import close_quantity
from tradegraph.trading.day_pnl import day_start, position_day
from tradegraph.trading.exits import Exits, check_exits, leg_requests
from tradegraph.trading.matching import trailing_state
from tradegraph.trading.order_rules import OrderRequest
from tradegraph.trading.valuation import PositionValue

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
    return OrderRequest("p", "PETR4", side, type_, D("10"), **extra)  # type: ignore[arg-type]  # any field, by name


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


def test_the_day_starts_at_the_last_session_close_in_the_instruments_zone_or_24h_for_crypto() -> (
    None
):
    now = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)  # 12:00 in São Paulo
    stock = unsaved.instrument(timezone="America/Sao_Paulo", session_close="17:00")
    assert day_start(stock, now) == datetime(2026, 3, 9, 20, 0, tzinfo=UTC)
    later = datetime(2026, 3, 10, 21, 0, tzinfo=UTC)  # 18:00 there: today's close passed
    assert day_start(stock, later) == datetime(2026, 3, 10, 20, 0, tzinfo=UTC)
    coin = unsaved.instrument(asset_class=AssetClass.CRYPTO)
    assert day_start(coin, now) == now - timedelta(hours=24)


def test_a_position_held_overnight_counts_from_the_previous_close() -> None:
    position = PositionValue(
        "PETR4", "STOCK", D(10), D(9), D(11), D(110), D(20), D(0), D(90)
    )  # 10 held since yesterday, bought at 9
    assert position_day(position, D(10), []).day_pnl == 10  # 10 * (11 - 10)
    assert position_day(position, D(10), []).change_today == D("0.1")
    sold_today = ledger_fill(Side.SELL, D(5), D(52))
    bought_today = ledger_fill(Side.BUY, D(5), D(-51))
    # 10 held then at 10, 5 sold today for 52, 5 bought back for 51: 110 - 100 + 52 - 51
    assert position_day(position, D(10), [sold_today, bought_today]).day_pnl == 11
    assert position_day(position, None, []).day_pnl == 0  # no history: overnight counts 0


def ledger_fill(side: Side, quantity: Decimal, amount: Decimal) -> LedgerEntry:
    return LedgerEntry.model_construct(
        id="f",
        portfolio_id=PydanticObjectId(),
        kind=LedgerKind.FILL,
        amount=amount,
        timestamp=datetime.now(UTC),
        symbol="PETR4",
        side=side,
        quantity=quantity,
    )
