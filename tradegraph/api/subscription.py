"""The root Subscription type."""

from __future__ import annotations

import strawberry

from tradegraph.api import fields
from tradegraph.resolvers import analytics as analytics_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.resolvers import markets as market_resolvers
from tradegraph.resolvers import optimizations as optimization_resolvers
from tradegraph.resolvers import orders as order_resolvers
from tradegraph.resolvers import portfolios as portfolio_resolvers
from tradegraph.schema.backtests import BacktestRun
from tradegraph.schema.core.permissions import IsAnalystOrAdmin, MarketDataReader
from tradegraph.schema.events import Event
from tradegraph.schema.insights import Insight
from tradegraph.schema.markets import Candle, Quote
from tradegraph.schema.optimizations import Optimization
from tradegraph.schema.orders import Order, OrderEvent
from tradegraph.schema.portfolios import PortfolioValue


@strawberry.type
class Subscription:
    event_created: Event = fields.subscription(event_resolvers.event_created)
    quotes: Quote = fields.subscription(market_resolvers.quote_stream, MarketDataReader)
    candles: Candle = fields.subscription(market_resolvers.candle_stream, MarketDataReader)
    order_updates: Order = fields.subscription(order_resolvers.order_updates)
    order_events: OrderEvent = fields.subscription(order_resolvers.order_events)
    portfolio_value: PortfolioValue = fields.subscription(portfolio_resolvers.portfolio_value)
    backtest_progress: BacktestRun = fields.subscription(analytics_resolvers.backtest_progress)
    optimization_progress: Optimization = fields.subscription(
        optimization_resolvers.optimization_progress
    )
    insight_created: Insight = fields.subscription(
        analytics_resolvers.insight_created, IsAnalystOrAdmin
    )
