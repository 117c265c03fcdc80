"""trading/valuation.py: a position at the market, and allocation of equity into slices."""

from __future__ import annotations

from decimal import Decimal

from tests.support import unsaved
from tradegraph.trading.valuation import (
    CASH,
    PortfolioValue,
    PositionValue,
    Slice,
    allocation,
    value_position,
)


def held(symbol: str, asset_class: str, market_value: str) -> PositionValue:
    value = Decimal(market_value)
    return PositionValue(
        symbol=symbol,
        asset_class=asset_class,
        quantity=Decimal(1),
        average_cost=value,
        market_price=value,
        market_value=value,
        unrealized_pnl=Decimal(0),
        realized_pnl=Decimal(0),
        cost_basis=value,
    )


def portfolio_value(cash: str, *positions: PositionValue) -> PortfolioValue:
    equity = Decimal(cash) + sum((p.market_value for p in positions), Decimal(0))
    return PortfolioValue(
        portfolio_id="p",
        cash=Decimal(cash),
        equity=equity,
        unrealized_pnl=Decimal(0),
        realized_pnl=Decimal(0),
        positions=list(positions),
        timestamp=unsaved.T0,
    )


def test_a_position_is_worth_its_quantity_at_the_mid_against_its_average_cost() -> None:
    position = unsaved.position(
        quantity=Decimal(20), cost_basis=Decimal("2102.1"), realized_pnl=Decimal(5)
    )
    value = value_position(position, "STOCK", Decimal("110.00"))
    assert value.average_cost == Decimal("105.105")
    assert value.market_price == Decimal("110.00")
    assert value.market_value == Decimal("2200.00")
    assert value.unrealized_pnl == Decimal("97.90")
    assert value.realized_pnl == Decimal(5)


def test_before_the_first_quote_a_position_is_worth_its_cost() -> None:
    position = unsaved.position(quantity=Decimal(20), cost_basis=Decimal("2102.1"))
    value = value_position(position, "STOCK", None)
    assert value.market_price is None
    assert value.market_value == Decimal("2102.1")
    assert value.unrealized_pnl == Decimal(0)


def test_a_closed_position_has_no_average_cost_and_no_unrealized_pnl() -> None:
    position = unsaved.position(realized_pnl=Decimal("-12.5"))
    value = value_position(position, "STOCK", Decimal(100))
    assert value.average_cost is None
    assert value.market_value == Decimal(0)
    assert value.unrealized_pnl == Decimal(0)
    assert value.realized_pnl == Decimal("-12.5")


def test_allocation_by_asset_class_sums_holdings_and_adds_cash_largest_first() -> None:
    value = portfolio_value(
        "250",
        held("AAPL", "STOCK", "300"),
        held("MSFT", "STOCK", "200"),
        held("BTCUSDT", "CRYPTO", "250"),
    )
    assert allocation(value, by_symbol=False) == [
        Slice("STOCK", Decimal(500), Decimal("0.5")),
        Slice("CASH", Decimal(250), Decimal("0.25")),  # a tie: by key
        Slice("CRYPTO", Decimal(250), Decimal("0.25")),
    ]


def test_allocation_by_symbol_has_one_slice_per_holding_and_weights_summing_to_one() -> None:
    value = portfolio_value("100", held("AAPL", "STOCK", "100"), held("MSFT", "STOCK", "100"))
    slices = allocation(value, by_symbol=True)
    assert [s.key for s in slices] == ["AAPL", CASH, "MSFT"]
    assert all(s.weight == Decimal(1) / Decimal(3) for s in slices)
    assert sum(s.market_value for s in slices) == value.equity


def test_an_empty_portfolio_is_one_cash_slice_without_a_weight() -> None:
    assert allocation(portfolio_value("0"), by_symbol=True) == [Slice(CASH, Decimal(0), None)]


def test_weights_are_null_when_equity_is_not_positive() -> None:
    value = portfolio_value("-100", held("AAPL", "STOCK", "100"))
    assert value.equity == 0
    assert [s.weight for s in allocation(value, by_symbol=False)] == [None, None]


def test_slices_add_up_to_equity_even_for_a_symbol_named_cash() -> None:
    value = portfolio_value("100", held("CASH", "ETF", "50"))
    slices = allocation(value, by_symbol=True)
    assert sum(s.market_value for s in slices) == value.equity
