"""The root Query type."""

from __future__ import annotations

import strawberry

from tradegraph.api import fields
from tradegraph.resolvers import analytics as analytics_resolvers
from tradegraph.resolvers import events as event_resolvers
from tradegraph.resolvers import markets as market_resolvers
from tradegraph.resolvers import optimizations as optimization_resolvers
from tradegraph.resolvers import orders as order_resolvers
from tradegraph.resolvers import portfolios as portfolio_resolvers
from tradegraph.resolvers import users as user_resolvers
from tradegraph.resolvers import watchlists as watchlist_resolvers
from tradegraph.resolvers import widget_keys as widget_key_resolvers
from tradegraph.schema.backtests import BacktestConnection, BacktestRun
from tradegraph.schema.core.permissions import IsAdmin, IsAnalystOrAdmin, MarketDataReader
from tradegraph.schema.events import Event, EventConnection, EventSummary
from tradegraph.schema.indicators import IndicatorSeries
from tradegraph.schema.insights import Insight
from tradegraph.schema.markets import Candle, Instrument, MarketHistory, Quote
from tradegraph.schema.optimizations import Optimization, OptimizationConnection
from tradegraph.schema.orders import Order, OrderConnection
from tradegraph.schema.portfolios import Portfolio
from tradegraph.schema.risk import PortfolioRisk
from tradegraph.schema.users import User
from tradegraph.schema.watchlists import Watchlist
from tradegraph.schema.widget_keys import WidgetKey


@strawberry.type
class Query:
    me: User | None = fields.query(user_resolvers.me, None)
    events: EventConnection = fields.query(event_resolvers.events)
    event: Event | None = fields.query(event_resolvers.event)
    event_summary: EventSummary = fields.query(event_resolvers.event_summary)
    instruments: list[Instrument] = fields.query(market_resolvers.instruments, MarketDataReader)
    instrument: Instrument | None = fields.query(market_resolvers.instrument, MarketDataReader)
    market_history: MarketHistory = fields.query(market_resolvers.market_history)
    quote: Quote | None = fields.query(market_resolvers.quote, MarketDataReader)
    quotes: list[Quote] = fields.query(market_resolvers.quotes, MarketDataReader)
    candles: list[Candle] = fields.query(market_resolvers.candles, MarketDataReader)
    portfolio: Portfolio = fields.query(portfolio_resolvers.portfolio)
    portfolios: list[Portfolio] = fields.query(portfolio_resolvers.portfolios)
    export_url: str = fields.query(portfolio_resolvers.export_url)
    order: Order = fields.query(order_resolvers.order)
    orders: OrderConnection = fields.query(order_resolvers.orders)
    watchlists: list[Watchlist] = fields.query(watchlist_resolvers.watchlists)
    watchlist: Watchlist = fields.query(watchlist_resolvers.watchlist)
    indicators: list[IndicatorSeries] = fields.query(analytics_resolvers.indicators)
    backtest: BacktestRun = fields.query(analytics_resolvers.backtest)
    backtests: BacktestConnection = fields.query(analytics_resolvers.backtests)
    optimization: Optimization = fields.query(optimization_resolvers.optimization)
    optimizations: OptimizationConnection = fields.query(optimization_resolvers.optimizations)
    portfolio_risk: PortfolioRisk = fields.query(analytics_resolvers.portfolio_risk)
    insight: Insight = fields.query(analytics_resolvers.insight, IsAnalystOrAdmin)
    widget_keys: list[WidgetKey] = fields.query(widget_key_resolvers.widget_keys, IsAdmin)
