"""The root Mutation type."""

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
from tradegraph.schema.analytics import BacktestRun, Insight
from tradegraph.schema.auth import AuthPayload
from tradegraph.schema.events import Event
from tradegraph.schema.markets import Instrument, Quote
from tradegraph.schema.orders import Order
from tradegraph.schema.permissions import IsAdmin, IsAnalystOrAdmin, IsAuthenticated
from tradegraph.schema.portfolios import Portfolio


def mutation(resolver: Any, permission: type | None = IsAuthenticated) -> Any:
    """A mutation documented by its resolver's docstring, behind `permission`."""
    return strawberry.mutation(
        resolver=resolver,
        description=getdoc(resolver),
        permission_classes=[permission] if permission else [],
    )


@strawberry.type
class Mutation:
    register: AuthPayload = mutation(auth_resolvers.register, None)
    login: AuthPayload = mutation(auth_resolvers.login, None)
    refresh_token: AuthPayload = mutation(auth_resolvers.refresh_token, None)
    ingest_event: Event = mutation(event_resolvers.ingest_event, IsAdmin)
    create_instrument: Instrument = mutation(market_resolvers.create_instrument, IsAdmin)
    update_instrument: Instrument = mutation(market_resolvers.update_instrument, IsAdmin)
    publish_quote: Quote = mutation(market_resolvers.publish_quote, IsAdmin)
    import_candles: int = mutation(market_resolvers.import_candles, IsAdmin)
    create_portfolio: Portfolio = mutation(portfolio_resolvers.create_portfolio)
    deposit: Portfolio = mutation(portfolio_resolvers.deposit)
    withdraw: Portfolio = mutation(portfolio_resolvers.withdraw)
    place_order: Order = mutation(order_resolvers.place_order)
    cancel_order: Order = mutation(order_resolvers.cancel_order)
    run_backtest: BacktestRun = mutation(analytics_resolvers.run_backtest)
    generate_insight: Insight = mutation(analytics_resolvers.generate_insight, IsAnalystOrAdmin)
