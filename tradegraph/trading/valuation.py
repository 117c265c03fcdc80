"""Marking a portfolio to market: positions at the last quote's mid, equity and allocation."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from tradegraph.decimals import ZERO
from tradegraph.documents import Portfolio, Position
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData

CASH = "CASH"


@dataclass(frozen=True)
class PositionValue:
    symbol: str
    asset_class: str
    quantity: Decimal
    average_cost: Decimal | None  # null for a closed position
    market_price: Decimal | None  # last mid; null before the first quote
    market_value: Decimal  # at the market price; at cost while there is no quote
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    cost_basis: Decimal


@dataclass(frozen=True)
class PortfolioValue:
    portfolio_id: str
    cash: Decimal
    equity: Decimal
    unrealized_pnl: Decimal
    realized_pnl: Decimal
    positions: list[PositionValue]
    timestamp: datetime
    day_pnl: Decimal | None = None  # filled in for live values (trading/day_pnl.py)


@dataclass(frozen=True)
class Slice:
    key: str
    market_value: Decimal
    weight: Decimal | None  # of equity; null when equity is not positive


def value_position(position: Position, asset_class: str, mid: Decimal | None) -> PositionValue:
    quantity = position.quantity
    average = position.cost_basis / quantity if quantity else None
    market_value = quantity * mid if mid is not None else position.cost_basis
    return PositionValue(
        symbol=position.symbol,
        asset_class=asset_class,
        quantity=quantity,
        average_cost=average,
        market_price=mid,
        market_value=market_value,
        unrealized_pnl=market_value - position.cost_basis if quantity else ZERO,
        realized_pnl=position.realized_pnl,
        cost_basis=position.cost_basis,
    )


async def value_portfolio(
    portfolio: Portfolio, market: MarketData, include_closed: bool = False
) -> PortfolioValue:
    every = await Position.find(Position.portfolio_id == portfolio.id).sort("symbol").to_list()
    symbols = [p.symbol for p in every if include_closed or p.quantity > 0]
    quotes = await market.latest_many(symbols)
    mids = {symbol: quote.mid for symbol, quote in quotes.items()}
    classes = await asset_classes(market.instruments, symbols)
    return value_holdings(
        str(portfolio.id), portfolio.cash, every, mids, classes, include_closed, datetime.now(UTC)
    )


async def asset_classes(instruments: Instruments, symbols: Iterable[str]) -> dict[str, str]:
    """Each symbol's asset class, UNKNOWN for one no longer listed (instruments are cached)."""
    classes = {}
    for symbol in symbols:
        instrument = await instruments.get(symbol)
        classes[symbol] = instrument.asset_class.value if instrument else "UNKNOWN"
    return classes


def value_holdings(
    portfolio_id: str,
    cash: Decimal,
    every: list[Position],
    mids: Mapping[str, Decimal],
    classes: Mapping[str, str],
    include_closed: bool,
    timestamp: datetime,
) -> PortfolioValue:
    """The value of cash and positions (`every` one, closed ones too, by symbol) at `mids`:
    the one computation behind stored and live values (pure)."""
    positions = [p for p in every if include_closed or p.quantity > 0]
    values = [
        value_position(p, classes.get(p.symbol, "UNKNOWN"), mids.get(p.symbol)) for p in positions
    ]
    held = sum((v.market_value for v in values), ZERO)
    unrealized = sum((v.unrealized_pnl for v in values), ZERO)
    realized = sum((p.realized_pnl for p in every), ZERO)
    return PortfolioValue(
        portfolio_id=portfolio_id,
        cash=cash,
        equity=cash + held,
        unrealized_pnl=unrealized,
        realized_pnl=realized,
        positions=values,
        timestamp=timestamp,
    )


def allocation(value: PortfolioValue, by_symbol: bool) -> list[Slice]:
    """Slices of equity by asset class or by symbol, with cash as the slice CASH; largest first."""
    totals: dict[str, Decimal] = {}
    for position in value.positions:
        key = position.symbol if by_symbol else position.asset_class
        totals[key] = totals.get(key, ZERO) + position.market_value
    totals[CASH] = totals.get(CASH, ZERO) + value.cash  # a symbol named CASH is not lost
    slices = [
        Slice(key, amount, amount / value.equity if value.equity > 0 else None)
        for key, amount in totals.items()
    ]
    return sorted(slices, key=lambda s: (-s.market_value, s.key))
