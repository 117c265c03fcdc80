"""The root Query type."""

from __future__ import annotations

from inspect import getdoc
from typing import Any

import strawberry

from tradegraph.resolvers import analytics as analytics_resolvers
from tradegraph.resolvers import auth as auth_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.resolvers import markets as market_resolvers
from tradegraph.resolvers import orders as order_resolvers
from tradegraph.resolvers import portfolios as portfolio_resolvers
from tradegraph.schema.analytics import (
    BacktestConnection,
    BacktestRun,
    IndicatorSeries,
    Insight,
    PortfolioRisk,
)
from tradegraph.schema.auth import User
from tradegraph.schema.events import Event, EventConnection, EventSummary
from tradegraph.schema.markets import Candle, Instrument, Quote
from tradegraph.schema.orders import Order, OrderConnection
from tradegraph.schema.permissions import IsAnalystOrAdmin, IsAuthenticated
from tradegraph.schema.portfolios import Portfolio


def authenticated(resolver: Any) -> Any:
    """A field for signed-in callers, documented by its resolver's docstring."""
    return strawberry.field(
        resolver=resolver, description=getdoc(resolver), permission_classes=[IsAuthenticated]
    )


@strawberry.type
class Query:
    me: User | None = strawberry.field(
        resolver=auth_resolvers.me, description=getdoc(auth_resolvers.me)
    )
    events: EventConnection = authenticated(event_resolvers.events)
    event: Event | None = authenticated(event_resolvers.event)
    event_summary: EventSummary = authenticated(event_resolvers.event_summary)
    instruments: list[Instrument] = authenticated(market_resolvers.instruments)
    instrument: Instrument | None = authenticated(market_resolvers.instrument)
    quote: Quote | None = authenticated(market_resolvers.quote)
    candles: list[Candle] = authenticated(market_resolvers.candles)
    portfolio: Portfolio = authenticated(portfolio_resolvers.portfolio)
    portfolios: list[Portfolio] = authenticated(portfolio_resolvers.portfolios)
    order: Order = authenticated(order_resolvers.order)
    orders: OrderConnection = authenticated(order_resolvers.orders)
    indicators: list[IndicatorSeries] = authenticated(analytics_resolvers.indicators)
    backtest: BacktestRun = authenticated(analytics_resolvers.backtest)
    backtests: BacktestConnection = authenticated(analytics_resolvers.backtests)
    portfolio_risk: PortfolioRisk = authenticated(analytics_resolvers.portfolio_risk)
    insight: Insight = strawberry.field(
        resolver=analytics_resolvers.insight,
        description=getdoc(analytics_resolvers.insight),
        permission_classes=[IsAnalystOrAdmin],
    )
