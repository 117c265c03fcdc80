"""The root Subscription type."""

from __future__ import annotations

from inspect import getdoc
from typing import Any

import strawberry

from tradegraph.resolvers import analytics as analytics_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.resolvers import markets as market_resolvers
from tradegraph.resolvers import orders as order_resolvers
from tradegraph.resolvers import portfolios as portfolio_resolvers
from tradegraph.schema.analytics import BacktestRun, Insight
from tradegraph.schema.events import Event
from tradegraph.schema.markets import Candle, Quote
from tradegraph.schema.orders import Order
from tradegraph.schema.permissions import IsAnalystOrAdmin, IsAuthenticated
from tradegraph.schema.portfolios import PortfolioValue


def live(resolver: Any) -> Any:
    return strawberry.subscription(
        resolver=resolver, description=getdoc(resolver), permission_classes=[IsAuthenticated]
    )


@strawberry.type
class Subscription:
    event_created: Event = live(event_resolvers.event_created)
    quotes: Quote = live(market_resolvers.quote_stream)
    candles: Candle = live(market_resolvers.candle_stream)
    order_updates: Order = live(order_resolvers.order_updates)
    portfolio_value: PortfolioValue = live(portfolio_resolvers.portfolio_value)
    backtest_progress: BacktestRun = live(analytics_resolvers.backtest_progress)
    insight_created: Insight = strawberry.subscription(
        resolver=analytics_resolvers.insight_created,
        description=getdoc(analytics_resolvers.insight_created),
        permission_classes=[IsAnalystOrAdmin],
    )
