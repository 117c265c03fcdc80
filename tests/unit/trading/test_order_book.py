"""trading/order_book.py: a quote the book lets pass by an order is one the matching rules
would do nothing with (so matching from the book trades what matching every order trades)."""

from __future__ import annotations

from decimal import Decimal
from itertools import product

import pytest

from tests.support import unsaved
from tradegraph.documents import OrderType, Side
from tradegraph.trading.matching import execution_price, stop_reached
from tradegraph.trading.order_book import RestingOrder

PRICES = [Decimal(p) for p in ("9.90", "9.95", "10.00", "10.05", "10.10")]
QUOTES = [(bid, ask) for bid, ask in product(PRICES, PRICES) if bid <= ask]
TICK = Decimal("0.01")


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize("price", PRICES)
def test_a_limit_is_passed_by_exactly_when_the_touch_does_not_cross_it(
    side: Side, price: Decimal
) -> None:
    order = unsaved.order(side=side, type=OrderType.LIMIT, limit_price=price)
    for bid, ask in QUOTES:
        crossed = execution_price(order, bid, ask, Decimal(0), TICK) is not None
        assert RestingOrder.of(order).may_act(bid, ask) == crossed, (bid, ask)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
@pytest.mark.parametrize("order_type", [OrderType.STOP, OrderType.STOP_LIMIT])
def test_an_untriggered_stop_is_passed_by_exactly_until_it_is_reached(
    side: Side, order_type: OrderType
) -> None:
    order = unsaved.order(
        side=side, type=order_type, stop_price=Decimal("10.00"), limit_price=Decimal("10.00")
    )
    for bid, ask in QUOTES:
        reached = stop_reached(order, bid, ask)
        assert RestingOrder.of(order).may_act(bid, ask) == reached, (bid, ask)


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_a_triggered_stop_limit_waits_for_its_limit_and_a_triggered_stop_always_acts(
    side: Side,
) -> None:
    stop_limit = unsaved.order(
        side=side,
        type=OrderType.STOP_LIMIT,
        stop_price=Decimal("10.00"),
        limit_price=Decimal("10.00"),
        triggered=True,
    )
    stop = unsaved.order(
        side=side, type=OrderType.STOP, stop_price=Decimal("10.00"), triggered=True
    )
    for bid, ask in QUOTES:
        crossed = execution_price(stop_limit, bid, ask, Decimal(0), TICK) is not None
        assert RestingOrder.of(stop_limit).may_act(bid, ask) == crossed
        assert RestingOrder.of(stop).may_act(bid, ask)


@pytest.mark.parametrize("order_type", [OrderType.MARKET, OrderType.TRAILING_STOP])
def test_market_orders_and_trailing_stops_see_every_quote(order_type: OrderType) -> None:
    order = unsaved.order(type=order_type, trail_price=Decimal("0.10"))
    assert all(RestingOrder.of(order).may_act(bid, ask) for bid, ask in QUOTES)
