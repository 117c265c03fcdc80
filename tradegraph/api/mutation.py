"""The root Mutation type."""

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
from tradegraph.schema.backtests import BacktestRun
from tradegraph.schema.core.permissions import IsAdmin, IsAnalystOrAdmin
from tradegraph.schema.events import Event
from tradegraph.schema.insights import Insight
from tradegraph.schema.markets import Instrument, Quote
from tradegraph.schema.optimizations import Optimization
from tradegraph.schema.orders import Order
from tradegraph.schema.portfolios import Portfolio
from tradegraph.schema.users import AuthPayload
from tradegraph.schema.watchlists import Watchlist
from tradegraph.schema.widget_keys import WidgetKey


@strawberry.type
class Mutation:
    register: AuthPayload = fields.mutation(user_resolvers.register, None)
    login: AuthPayload = fields.mutation(user_resolvers.login, None)
    refresh_token: AuthPayload = fields.mutation(user_resolvers.refresh_token, None)
    logout: bool = fields.mutation(user_resolvers.logout, None)
    ingest_event: Event = fields.mutation(event_resolvers.ingest_event, IsAdmin)
    create_instrument: Instrument = fields.mutation(market_resolvers.create_instrument, IsAdmin)
    update_instrument: Instrument = fields.mutation(market_resolvers.update_instrument, IsAdmin)
    publish_quote: Quote = fields.mutation(market_resolvers.publish_quote, IsAdmin)
    import_candles: int = fields.mutation(market_resolvers.import_candles, IsAdmin)
    create_portfolio: Portfolio = fields.mutation(portfolio_resolvers.create_portfolio)
    deposit: Portfolio = fields.mutation(portfolio_resolvers.deposit)
    withdraw: Portfolio = fields.mutation(portfolio_resolvers.withdraw)
    place_order: Order = fields.mutation(order_resolvers.place_order)
    cancel_order: Order = fields.mutation(order_resolvers.cancel_order)
    replace_order: Order = fields.mutation(order_resolvers.replace_order)
    close_position: Order = fields.mutation(order_resolvers.close_position)
    close_all_positions: list[Order] = fields.mutation(order_resolvers.close_all_positions)
    cancel_all_orders: list[Order] = fields.mutation(order_resolvers.cancel_all_orders)
    create_watchlist: Watchlist = fields.mutation(watchlist_resolvers.create_watchlist)
    update_watchlist: Watchlist = fields.mutation(watchlist_resolvers.update_watchlist)
    delete_watchlist: bool = fields.mutation(watchlist_resolvers.delete_watchlist)
    run_backtest: BacktestRun = fields.mutation(analytics_resolvers.run_backtest)
    optimize_backtest: Optimization = fields.mutation(optimization_resolvers.optimize_backtest)
    cancel_backtest: BacktestRun = fields.mutation(analytics_resolvers.cancel_backtest)
    cancel_optimization: Optimization = fields.mutation(optimization_resolvers.cancel_optimization)
    generate_insight: Insight = fields.mutation(
        analytics_resolvers.generate_insight, IsAnalystOrAdmin
    )
    create_widget_key: WidgetKey = fields.mutation(widget_key_resolvers.create_widget_key, IsAdmin)
    revoke_widget_key: WidgetKey = fields.mutation(widget_key_resolvers.revoke_widget_key, IsAdmin)
