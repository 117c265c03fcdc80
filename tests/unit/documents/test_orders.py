"""documents/portfolios.py: an order's average fill price and which statuses are open."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.support import unsaved
from tradegraph.documents import OrderStatus
from tradegraph.documents.orders import OPEN_STATUSES


def test_the_average_fill_price_is_weighted_by_quantity() -> None:
    # 3 @ 100 and 1 @ 104: 304 / 4.
    order = unsaved.order(filled_quantity=Decimal(4), filled_notional=Decimal(404))
    assert order.average_fill_price == Decimal(101)


def test_an_order_without_fills_has_no_average_price() -> None:
    assert unsaved.order().average_fill_price is None


@pytest.mark.parametrize("status", list(OrderStatus))
def test_only_new_and_partially_filled_orders_are_open(status: OrderStatus) -> None:
    assert status.is_open is (status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED))
    assert status.is_open is (status.value in OPEN_STATUSES)
