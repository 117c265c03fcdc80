"""trading/order_rules.py: the checks an order request passes before it may trade, and when a DAY
order's trading day ends. What a BUY reserves (OrdersService._reservation: notional at
reservation_price plus fee_of) is a method of the service: see test_matching.py for its price."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from tests.support import unsaved
from tradegraph.documents import OrderType, Side, TimeInForce
from tradegraph.errors import InvalidInput
from tradegraph.trading.order_rules import MAX_CLIENT_ORDER_ID, OrderRequest, check_order, day_end


def request(**fields: Any) -> OrderRequest:
    values: dict[str, Any] = {
        "portfolio_id": "p",
        "symbol": "AAPL",
        "side": Side.BUY,
        "type": OrderType.MARKET,
        "quantity": Decimal(10),
    }
    return OrderRequest(**(values | fields))


def refusal(order: OrderRequest, **instrument_fields: Any) -> tuple[str, str]:
    """(field, message) of the refusal."""
    with pytest.raises(InvalidInput) as refused:
        check_order(order, unsaved.instrument(**instrument_fields), unsaved.portfolio())
    return refused.value.details["field"], refused.value.message


def accepted(order: OrderRequest, **instrument_fields: Any) -> None:
    check_order(order, unsaved.instrument(**instrument_fields), unsaved.portfolio())


@pytest.mark.parametrize(
    "order",
    [
        request(),
        request(type=OrderType.LIMIT, limit_price=Decimal("100.01")),
        request(type=OrderType.STOP, stop_price=Decimal("99.99")),
        request(type=OrderType.STOP_LIMIT, stop_price=Decimal(99), limit_price=Decimal("99.5")),
        request(type=OrderType.LIMIT, limit_price=Decimal(1), time_in_force=TimeInForce.IOC),
        request(time_in_force=TimeInForce.FOK, side=Side.SELL),
        request(client_order_id="x" * MAX_CLIENT_ORDER_ID),
    ],
)
def test_well_formed_orders_pass(order: OrderRequest) -> None:
    accepted(order)


@pytest.mark.parametrize("quantity", ["0", "-1"])
def test_quantity_must_be_positive(quantity: str) -> None:
    assert refusal(request(quantity=Decimal(quantity))) == (
        "quantity",
        "quantity must be greater than 0",
    )


def test_quantity_must_be_a_multiple_of_the_lot_size() -> None:
    lot = {"lot_size": Decimal("0.001")}
    accepted(request(quantity=Decimal("0.002")), **lot)
    field, message = refusal(request(quantity=Decimal("0.0015")), **lot)
    assert field == "quantity"
    assert "multiple of the lot size 0.001 of AAPL" in message


def test_the_quantity_rule_is_reported_before_a_missing_price() -> None:
    assert refusal(request(type=OrderType.LIMIT, quantity=Decimal(0)))[0] == "quantity"


@pytest.mark.parametrize(
    ("order", "field", "message"),
    [
        (request(type=OrderType.LIMIT), "limitPrice", "LIMIT orders need limitPrice"),
        (request(type=OrderType.STOP), "stopPrice", "STOP orders need stopPrice"),
        (
            request(type=OrderType.STOP_LIMIT, stop_price=Decimal(1)),
            "limitPrice",
            "STOP_LIMIT orders need limitPrice",
        ),
        (
            request(type=OrderType.STOP_LIMIT, limit_price=Decimal(1)),
            "stopPrice",
            "STOP_LIMIT orders need stopPrice",
        ),
        (
            request(limit_price=Decimal(1)),
            "limitPrice",
            "limitPrice does not apply to MARKET orders",
        ),
        (
            request(type=OrderType.LIMIT, limit_price=Decimal(1), stop_price=Decimal(1)),
            "stopPrice",
            "stopPrice does not apply to LIMIT orders",
        ),
    ],
)
def test_each_order_type_needs_exactly_its_prices(
    order: OrderRequest, field: str, message: str
) -> None:
    assert refusal(order) == (field, message)


@pytest.mark.parametrize("bad", ["0", "-0.01"])
def test_prices_must_be_positive(bad: str) -> None:
    assert refusal(request(type=OrderType.LIMIT, limit_price=Decimal(bad))) == (
        "limitPrice",
        "limitPrice must be greater than 0",
    )
    assert refusal(request(type=OrderType.STOP, stop_price=Decimal(bad))) == (
        "stopPrice",
        "stopPrice must be greater than 0",
    )


def test_prices_must_be_multiples_of_the_tick_size() -> None:
    assert refusal(request(type=OrderType.LIMIT, limit_price=Decimal("100.005"))) == (
        "limitPrice",
        "limitPrice 100.005 is not a multiple of the tick size 0.01 of AAPL",
    )
    field, _ = refusal(
        request(type=OrderType.STOP, stop_price=Decimal("0.5")), tick_size=Decimal(1)
    )
    assert field == "stopPrice"


@pytest.mark.parametrize("tif", [TimeInForce.IOC, TimeInForce.FOK])
@pytest.mark.parametrize("type_", [OrderType.STOP, OrderType.STOP_LIMIT])
def test_ioc_and_fok_do_not_apply_to_stop_orders(tif: TimeInForce, type_: OrderType) -> None:
    prices = {"stop_price": Decimal(1)}
    if type_ is OrderType.STOP_LIMIT:
        prices["limit_price"] = Decimal(1)
    assert refusal(request(type=type_, time_in_force=tif, **prices))[0] == "timeInForce"


def test_the_instrument_must_trade_in_the_portfolios_currency() -> None:
    assert refusal(request(), currency="BRL") == (
        "symbol",
        "AAPL trades in BRL; this portfolio holds USD",
    )


@pytest.mark.parametrize("client_order_id", ["", "x" * (MAX_CLIENT_ORDER_ID + 1)])
def test_client_order_ids_are_1_to_64_characters(client_order_id: str) -> None:
    assert refusal(request(client_order_id=client_order_id))[0] == "clientOrderId"


def test_a_day_order_ends_at_the_next_session_close_in_the_instruments_zone() -> None:
    nyse = unsaved.instrument(timezone="America/New_York", session_close="16:00")
    before_close = datetime(2024, 3, 8, 20, 0, tzinfo=UTC)  # 15:00 EST
    assert day_end(nyse, before_close) == datetime(2024, 3, 8, 21, 0, tzinfo=UTC)


def test_at_or_after_the_close_a_day_order_lives_until_the_next_days_close() -> None:
    nyse = unsaved.instrument(timezone="America/New_York", session_close="16:00")
    at_close = datetime(2024, 3, 8, 21, 0, tzinfo=UTC)
    assert day_end(nyse, at_close) == datetime(2024, 3, 9, 21, 0, tzinfo=UTC)


def test_the_next_close_follows_a_daylight_saving_change() -> None:
    nyse = unsaved.instrument(timezone="America/New_York", session_close="16:00")
    saturday_evening = datetime(2024, 3, 9, 22, 0, tzinfo=UTC)  # 17:00 EST; DST starts Sunday
    assert day_end(nyse, saturday_evening) == datetime(2024, 3, 10, 20, 0, tzinfo=UTC)  # EDT


def test_a_midnight_close_in_utc_is_the_end_of_the_calendar_day() -> None:
    assert day_end(unsaved.instrument(), unsaved.T0) == datetime(2024, 3, 2, 0, 0, tzinfo=UTC)
