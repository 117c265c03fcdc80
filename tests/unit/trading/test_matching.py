"""trading/matching.py: the price an order fills at given a quote, stop triggers, quote depth
shared in arrival order, what a BUY's reservation affords and what it reserves.

IOC/FOK and the size each order may take live in MatchingEngine._try/_quantity, which read and
write the store; they are not covered here."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.support import unsaved
from tradegraph.documents import OrderType, Side
from tradegraph.trading.matching import (
    QuoteDepth,
    acts_as_limit,
    affordable_quantity,
    execution_price,
    reservation_price,
    stop_reached,
)

BID = Decimal("99.50")
ASK = Decimal("100.00")
TICK = Decimal("0.01")
NO_SLIPPAGE = Decimal(0)


def price(side: Side, type_: OrderType = OrderType.MARKET, **fields: Any) -> Decimal | None:
    order = unsaved.order(side=side, type=type_, **fields)
    return execution_price(order, BID, ASK, NO_SLIPPAGE, TICK)


def test_a_market_buy_takes_the_ask_and_a_market_sell_the_bid() -> None:
    assert price(Side.BUY) == Decimal("100.00")
    assert price(Side.SELL) == Decimal("99.50")


def test_slippage_moves_the_price_against_the_trader_and_rounds_to_the_tick_against_them() -> None:
    slippage = Decimal(10)  # 0.1%
    bid, ask = Decimal("99.97"), Decimal("100.03")
    buy = unsaved.order(side=Side.BUY)
    sell = unsaved.order(side=Side.SELL)
    # 100.03 * 1.001 = 100.13003 → up to 100.14; 99.97 * 0.999 = 99.87003 → down to 99.87.
    assert execution_price(buy, bid, ask, slippage, TICK) == Decimal("100.14")
    assert execution_price(sell, bid, ask, slippage, TICK) == Decimal("99.87")


@pytest.mark.parametrize(
    ("side", "limit", "expected"),
    [
        (Side.BUY, "99.99", None),  # below the ask: not crossed
        (Side.BUY, "100.00", "100.00"),  # at the ask
        (Side.BUY, "101.00", "100.00"),  # above: fills at the better ask, not the limit
        (Side.SELL, "99.51", None),  # above the bid: not crossed
        (Side.SELL, "99.50", "99.50"),
        (Side.SELL, "99.00", "99.50"),  # below: fills at the better bid
    ],
)
def test_a_limit_order_fills_only_when_the_touch_crosses_its_limit(
    side: Side, limit: str, expected: str | None
) -> None:
    got = price(side, OrderType.LIMIT, limit_price=Decimal(limit))
    assert got == (None if expected is None else Decimal(expected))


def test_slippage_never_takes_a_limit_order_beyond_its_limit() -> None:
    slippage = Decimal(10)
    buy = unsaved.order(side=Side.BUY, type=OrderType.LIMIT, limit_price=Decimal("100.05"))
    sell = unsaved.order(side=Side.SELL, type=OrderType.LIMIT, limit_price=Decimal("99.45"))
    # Slipped: 100.10 and 99.40; capped at the limits.
    assert execution_price(buy, BID, ASK, slippage, TICK) == Decimal("100.05")
    assert execution_price(sell, BID, ASK, slippage, TICK) == Decimal("99.45")


@pytest.mark.parametrize(
    ("side", "bid", "ask", "reached"),
    [
        (Side.BUY, "100.00", "100.99", False),
        (Side.BUY, "100.00", "101.00", True),  # the ask rises to the stop
        (Side.BUY, "101.50", "101.60", True),
        (Side.SELL, "99.01", "99.50", False),
        (Side.SELL, "99.00", "99.50", True),  # the bid falls to the stop
        (Side.SELL, "98.00", "98.10", True),
    ],
)
def test_a_buy_stop_triggers_on_the_ask_rising_and_a_sell_stop_on_the_bid_falling(
    side: Side, bid: str, ask: str, reached: bool
) -> None:
    stop = Decimal("101.00") if side is Side.BUY else Decimal("99.00")
    order = unsaved.order(side=side, type=OrderType.STOP, stop_price=stop)
    assert stop_reached(order, Decimal(bid), Decimal(ask)) is reached


def test_a_triggered_stop_fills_like_a_market_order() -> None:
    order = unsaved.order(
        side=Side.BUY, type=OrderType.STOP, stop_price=Decimal(99), triggered=True
    )
    assert not acts_as_limit(order)
    assert execution_price(order, BID, ASK, NO_SLIPPAGE, TICK) == ASK


def test_a_triggered_stop_limit_fills_like_a_limit_order() -> None:
    fields = {"type": OrderType.STOP_LIMIT, "stop_price": Decimal(99), "triggered": True}
    below = unsaved.order(side=Side.BUY, limit_price=Decimal("99.99"), **fields)
    above = unsaved.order(side=Side.BUY, limit_price=Decimal("100.50"), **fields)
    assert acts_as_limit(below)
    assert execution_price(below, BID, ASK, NO_SLIPPAGE, TICK) is None
    assert execution_price(above, BID, ASK, NO_SLIPPAGE, TICK) == ASK


def test_what_one_buy_takes_from_the_ask_size_is_not_there_for_the_next() -> None:
    depth = QuoteDepth(unsaved.T0, bid_left=Decimal(7), ask_left=Decimal(15))
    assert depth.left(Side.BUY) == Decimal(15)
    depth.take(Side.BUY, Decimal(10))  # the earlier order
    assert depth.left(Side.BUY) == Decimal(5)  # all the later one may have
    assert depth.left(Side.SELL) == Decimal(7)  # the bid side is another queue
    depth.take(Side.SELL, Decimal(7))
    assert depth.left(Side.SELL) == Decimal(0)


def test_a_quote_without_sizes_puts_no_limit_on_quantity() -> None:
    depth = QuoteDepth(unsaved.T0, bid_left=None, ask_left=None)
    depth.take(Side.BUY, Decimal(1_000_000))
    depth.take(Side.SELL, Decimal(1_000_000))
    assert depth.left(Side.BUY) is None
    assert depth.left(Side.SELL) is None


@pytest.mark.parametrize(
    ("reserved", "lot", "expected"),
    [
        ("1001", "1", "10"),  # 10 * 100 * 1.001 exactly
        ("1000.99", "1", "9"),  # a cent short of the 10th lot
        ("1000", "0.001", "9.990"),  # 1000 / 100.1 = 9.99001 → whole lots of 0.001
        ("0", "1", "0"),
    ],
)
def test_a_buy_affords_whole_lots_with_fees_included(
    reserved: str, lot: str, expected: str
) -> None:
    got = affordable_quantity(Decimal(reserved), Decimal(100), Decimal(10), Decimal(lot))
    assert got == Decimal(expected)


def test_nothing_is_affordable_at_a_price_of_zero() -> None:
    assert affordable_quantity(Decimal(100), Decimal(0), Decimal(10), Decimal(1)) == Decimal(0)


def test_limit_and_stop_limit_buys_reserve_at_their_limit() -> None:
    for type_ in (OrderType.LIMIT, OrderType.STOP_LIMIT):
        order = unsaved.order(type=type_, limit_price=Decimal("95.00"), stop_price=Decimal(90))
        assert reservation_price(order, ASK, Decimal(50), TICK) == Decimal("95.00")


def test_a_stop_buy_reserves_at_its_stop_with_slippage_even_without_a_quote() -> None:
    order = unsaved.order(type=OrderType.STOP, stop_price=Decimal("101.00"))
    # 101 * 1.001 = 101.101 → up to the tick.
    assert reservation_price(order, None, Decimal(10), TICK) == Decimal("101.11")


def test_a_market_buy_reserves_at_the_slipped_ask_and_cannot_without_a_quote() -> None:
    order = unsaved.order(type=OrderType.MARKET)
    assert reservation_price(order, Decimal("100.03"), Decimal(10), TICK) == Decimal("100.14")
    assert reservation_price(order, None, Decimal(10), TICK) is None
