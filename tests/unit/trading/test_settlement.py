"""trading/settlement.py: cash a fill moves and the position it leaves (average-cost method,
fees in the cost basis, realized P&L on sales). Everything else there writes the store."""

from __future__ import annotations

from decimal import Decimal

from tests.support import unsaved
from tradegraph.documents import Side
from tradegraph.trading.settlement import _position_after, cash_change


def test_a_buy_pays_notional_plus_fee_and_a_sell_receives_notional_less_fee() -> None:
    fill = unsaved.fill("10", "100.25", fee="1.0025")
    assert cash_change(Side.BUY, fill) == Decimal("-1003.5025")
    assert cash_change(Side.SELL, fill) == Decimal("1001.4975")


def test_buys_add_quantity_and_cost_with_fees_and_realize_nothing() -> None:
    position = unsaved.position()
    values, realized = _position_after(position, Side.BUY, unsaved.fill("10", "100", fee="1"))
    assert realized == Decimal(0)
    assert values == {
        "quantity": Decimal(10),
        "available": Decimal(10),
        "cost_basis": Decimal(1001),
    }
    position = unsaved.position(**values)
    values, _ = _position_after(position, Side.BUY, unsaved.fill("10", "110", fee="1.1"))
    assert values["quantity"] == Decimal(20)
    assert values["cost_basis"] == Decimal("2102.1")  # average cost 105.105


def test_a_partial_sale_realizes_against_the_average_cost() -> None:
    position = unsaved.position(
        quantity=Decimal(20),
        available=Decimal(15),
        cost_basis=Decimal("2102.1"),
        realized_pnl=Decimal("3"),
    )
    values, realized = _position_after(position, Side.SELL, unsaved.fill("5", "120", fee="0.6"))
    # Out: a quarter of the basis, 525.525; in: 600 - 0.6.
    assert realized == Decimal("73.875")
    assert values == {
        "quantity": Decimal(15),
        "cost_basis": Decimal("1576.575"),
        "realized_pnl": Decimal("76.875"),
    }


def test_a_sale_leaves_available_alone_because_its_order_already_reserved_it() -> None:
    position = unsaved.position(
        quantity=Decimal(20), available=Decimal(15), cost_basis=Decimal(2000)
    )
    values, _ = _position_after(position, Side.SELL, unsaved.fill("5", "100"))
    assert "available" not in values


def test_selling_everything_takes_out_the_whole_cost_basis() -> None:
    position = unsaved.position(quantity=Decimal(20), cost_basis=Decimal("2102.1"))
    values, realized = _position_after(position, Side.SELL, unsaved.fill("20", "100", fee="2"))
    assert realized == Decimal("-104.1")  # 2000 - 2 - 2102.1
    assert values["quantity"] == Decimal(0)
    assert values["cost_basis"] == Decimal(0)


def test_partial_sales_round_the_basis_out_but_never_lose_any_of_it() -> None:
    position = unsaved.position(quantity=Decimal(3), cost_basis=Decimal(100))
    taken_out = []
    for number in (1, 2, 3):
        values, realized = _position_after(
            position, Side.SELL, unsaved.fill("1", "0", number=number)
        )
        taken_out.append(-realized)  # at price 0 and no fee, realized = -basis out
        position = unsaved.position(**values)
    # 100/3 to 8 places, then half of the rest (half-even), then exactly what is left.
    assert taken_out == [Decimal("33.33333333"), Decimal("33.33333334"), Decimal("33.33333333")]
    assert sum(taken_out) == Decimal(100)
    assert position.cost_basis == Decimal(0)
