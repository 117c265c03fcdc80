"""GraphQL types and inputs for portfolios: positions, allocation, history, performance."""

from __future__ import annotations

import asyncio
from datetime import datetime
from decimal import Decimal
from enum import Enum
from typing import Annotated

import strawberry

from tradegraph import documents
from tradegraph.decimals import Scales, at_places, currency_places
from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import CandleInterval
from tradegraph.schema.users import User
from tradegraph.trading import day_pnl, valuation


@strawberry.type(description="A holding, valued at the last quote's mid (average-cost method).")
class Position:
    symbol: str
    asset_class: str
    quantity: Decimal
    average_cost: Decimal | None = strawberry.field(
        description="Cost of the quantity held (fees included) / quantity, at the tick "
        "decimals; null once closed."
    )
    market_price: Decimal | None = strawberry.field(
        description="The last quote's mid, at one more decimal than the tick (as Quote.mid); "
        "null before the first quote (then valued at cost)."
    )
    market_value: Decimal
    unrealized_pnl: Decimal = strawberry.field(description="marketValue - cost of what is held.")
    realized_pnl: Decimal = strawberry.field(
        description="Sum over sales of proceeds - fees - averageCost * quantity sold."
    )
    previous_close: Decimal | None = strawberry.field(
        default=None,
        description="The last close before today's session began (the instrument's previous "
        "session close in its time zone; 24 hours ago for crypto), at the tick decimals; null "
        "without history.",
    )
    change_today: Decimal | None = strawberry.field(
        default=None, description="(marketPrice - previousClose) / previousClose, a fraction."
    )

    @classmethod
    def from_value(
        cls, value: valuation.PositionValue, day: day_pnl.PositionDay | None, scales: Scales
    ) -> Position:
        """Prices at the instrument's tick decimals, amounts at the currency's."""
        previous_close = day.previous_close if day else None
        return cls(
            previous_close=None if previous_close is None else scales.price(previous_close),
            change_today=day.change_today if day else None,
            symbol=value.symbol,
            asset_class=value.asset_class,
            quantity=value.quantity,
            average_cost=None if value.average_cost is None else scales.price(value.average_cost),
            market_price=None
            if value.market_price is None
            else scales.price(value.market_price, 1),
            market_value=scales.cash(value.market_value),
            unrealized_pnl=scales.cash(value.unrealized_pnl),
            realized_pnl=scales.cash(value.realized_pnl),
        )


@strawberry.enum(description="How allocation groups holdings.")
class AllocationBy(Enum):
    ASSET_CLASS = "ASSET_CLASS"
    SYMBOL = "SYMBOL"


@strawberry.type(description="A share of equity; cash is the slice with key CASH.")
class AllocationSlice:
    key: str
    market_value: Decimal
    weight: Decimal | None = strawberry.field(description="marketValue / equity.")


@strawberry.type(description="Equity at the end of one interval.")
class EquityPoint:
    time: datetime
    cash: Decimal
    equity: Decimal
    net_deposits: Decimal = strawberry.field(description="Deposits - withdrawals so far.")


@strawberry.type(
    description="Returns from the equity curve (daily points unless an interval is given). "
    "Volatility and sharpe are annualised with √(periods per year) at 365 days a year "
    "(markets in the universe trade on calendar days, crypto every day); sharpe assumes a "
    "zero risk-free rate. Fields are null when there is too little history."
)
class Performance:
    total_return: Decimal | None = strawberry.field(
        description="(equity - net deposits) / net deposits."
    )
    time_weighted_return: Decimal | None = strawberry.field(
        description="Product of (1 + period return) - 1, each period's return excluding its "
        "deposits and withdrawals: (end - flows) / start - 1."
    )
    max_drawdown: Decimal | None = strawberry.field(
        description="Largest fall from a peak of the time-weighted index, as a fraction (≥ 0)."
    )
    volatility: float | None = strawberry.field(
        description="Sample standard deviation of period returns, annualised."
    )
    sharpe: float | None = strawberry.field(
        description="Mean period return / its standard deviation, annualised."
    )
    win_rate: Decimal | None = strawberry.field(
        description="Share of SELL fills with positive realized P&L."
    )


@strawberry.type(description="Cash and equity of a portfolio, for live widgets.")
class PortfolioValue:
    portfolio_id: strawberry.ID
    cash: Decimal
    equity: Decimal
    unrealized_pnl: Decimal
    day_pnl: Decimal | None = strawberry.field(description="As Portfolio.dayPnl.")
    timestamp: datetime

    @classmethod
    def from_value(cls, value: valuation.PortfolioValue, places: int) -> PortfolioValue:
        """Amounts at `places` decimals (the portfolio currency's)."""
        return cls(
            portfolio_id=strawberry.ID(value.portfolio_id),
            cash=at_places(value.cash, places),
            equity=at_places(value.equity, places),
            unrealized_pnl=at_places(value.unrealized_pnl, places),
            day_pnl=None if value.day_pnl is None else at_places(value.day_pnl, places),
            timestamp=value.timestamp,
        )


@strawberry.type(description="A paper-trading account in one currency.")
class Portfolio:
    id: strawberry.ID
    name: str
    base_currency: str
    cash: Decimal
    available_cash: Decimal = strawberry.field(
        description="Cash not reserved by open BUY orders: what a new BUY can use."
    )
    created_at: datetime
    _document: strawberry.Private[documents.Portfolio]
    _values: strawberry.Private[dict[bool, asyncio.Future[valuation.PortfolioValue]]]
    _day: strawberry.Private[list[asyncio.Future[day_pnl.DayPnl]]]

    @classmethod
    def from_document(cls, portfolio: documents.Portfolio) -> Portfolio:
        return cls(
            id=strawberry.ID(str(portfolio.id)),
            name=portfolio.name,
            base_currency=portfolio.base_currency,
            cash=at_places(portfolio.cash, currency_places(portfolio.base_currency)),
            available_cash=at_places(portfolio.available, currency_places(portfolio.base_currency)),
            created_at=portfolio.created_at,
            _document=portfolio,
            _values={},
            _day=[],
        )

    @property
    def _places(self) -> int:
        """Decimals of cash in the portfolio's currency (2 for BRL and USD, 8 for USDT)."""
        return currency_places(self._document.base_currency)

    def _valuation(
        self, info: Info, include_closed: bool = False
    ) -> asyncio.Future[valuation.PortfolioValue]:
        """Valued once per request and portfolio, however many fields ask (even at once)."""
        if include_closed not in self._values:
            value = info.context.services.portfolios.value(self._document, include_closed)
            self._values[include_closed] = asyncio.ensure_future(value)
        return self._values[include_closed]

    def _day_pnl(self, info: Info) -> asyncio.Future[day_pnl.DayPnl]:
        """Computed once per request and portfolio, however many fields ask."""
        if not self._day:

            async def compute() -> day_pnl.DayPnl:
                value = await self._valuation(info, include_closed=True)
                return await info.context.services.portfolios.day(value)

            self._day.append(asyncio.ensure_future(compute()))
        return self._day[0]

    @strawberry.field(
        name="dayPnl",
        description="What positions gained since the previous session close (per instrument, "
        "in its time zone; the last 24 hours for crypto): value now - value at the previous "
        "close of what was held then - cost of today's buys + proceeds of today's sells.",
    )
    async def daily_pnl(self, info: Info) -> Decimal:  # not day_pnl: that is the module
        return at_places((await self._day_pnl(info)).total, self._places)

    @strawberry.field(
        description="100 * dayPnl / (equity - dayPnl), two decimals (1.25 means +1.25%), the "
        "unit of Quote.changePercent; null when equity - dayPnl is not positive."
    )
    async def day_pnl_percent(self, info: Info) -> Decimal | None:
        fraction = (await self._day_pnl(info)).percent
        return None if fraction is None else (100 * fraction).quantize(Decimal("0.01"))

    @strawberry.field(description="The account that owns it.")
    async def owner(self, info: Info) -> User | None:
        user = await info.context.loaders.users.load(self._document.owner_id)
        return User.from_document(user) if user else None

    @strawberry.field(description="cash + market value of positions.")
    async def equity(self, info: Info) -> Decimal:
        return at_places((await self._valuation(info)).equity, self._places)

    @strawberry.field(description="Sum of the positions' unrealized P&L.")
    async def unrealized_pnl(self, info: Info) -> Decimal:
        return at_places((await self._valuation(info)).unrealized_pnl, self._places)

    @strawberry.field(description="Realized P&L of every position, closed ones included.")
    async def realized_pnl(self, info: Info) -> Decimal:
        return at_places((await self._valuation(info)).realized_pnl, self._places)

    @strawberry.field(description="Open positions by symbol; includeClosed adds closed ones.")
    async def positions(self, info: Info, include_closed: bool = False) -> list[Position]:
        value = await self._valuation(info, include_closed)
        day = await self._day_pnl(info)
        symbols = [p.symbol for p in value.positions]
        found = await info.context.loaders.instruments.load_many(symbols)
        currency = self._document.base_currency
        return [
            Position.from_value(
                p, day.positions.get(p.symbol), Scales.of(i.tick_size if i else None, currency)
            )
            for p, i in zip(value.positions, found, strict=True)
        ]

    @strawberry.field(description="Equity by asset class or by symbol, cash included.")
    async def allocation(
        self, info: Info, by: AllocationBy = AllocationBy.ASSET_CLASS
    ) -> list[AllocationSlice]:
        value = await self._valuation(info)
        slices = valuation.allocation(value, by_symbol=by is AllocationBy.SYMBOL)
        return [
            AllocationSlice(
                key=s.key, market_value=at_places(s.market_value, self._places), weight=s.weight
            )
            for s in slices
        ]

    @strawberry.field(
        description="Equity curve over [from, to) (default: since creation), "
        "one point per interval end, valued at candle closes."
    )
    async def history(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        interval: CandleInterval = documents.CandleInterval.ONE_DAY,
    ) -> list[EquityPoint]:
        service = info.context.services.portfolios
        points = await service.history(self._document, from_, to, interval)
        return [
            EquityPoint(
                time=p.time,
                cash=at_places(p.cash, self._places),
                equity=at_places(p.equity, self._places),
                net_deposits=at_places(p.net_deposits, self._places),
            )
            for p in points
        ]

    @strawberry.field(description="Performance over [from, to) (default: since creation).")
    async def performance(
        self,
        info: Info,
        from_: Annotated[datetime | None, strawberry.argument(name="from")] = None,
        to: datetime | None = None,
        interval: CandleInterval = documents.CandleInterval.ONE_DAY,
    ) -> Performance:
        service = info.context.services.portfolios
        result = await service.performance(self._document, from_, to, interval)
        return Performance(**vars(result))


@strawberry.enum(description="A CSV export of a portfolio.")
class ExportKind(Enum):
    POSITIONS = "positions"
    ORDERS = "orders"


@strawberry.input
class CreatePortfolioInput:
    name: str
    base_currency: str = strawberry.field(
        description="BRL, USD, USDT…: instruments traded in this portfolio must quote in it."
    )
