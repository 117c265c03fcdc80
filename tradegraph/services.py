"""Everything a request handler needs, built once at startup (see app.py)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from tradegraph.analytics.backtests import Backtests
from tradegraph.auth.accounts import Accounts
from tradegraph.config import Settings
from tradegraph.events.service import EventsService
from tradegraph.insights.service import Insights
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData
from tradegraph.store import Store
from tradegraph.subscriptions.broker import Broker
from tradegraph.subscriptions.events import EventFeed
from tradegraph.trading.engine import MatchingEngine
from tradegraph.trading.orders import OrdersService


@dataclass
class Services:
    settings: Settings
    store: Store
    broker: Broker
    accounts: Accounts
    events: EventsService
    event_feed: EventFeed
    instruments: Instruments
    market: MarketData
    engine: MatchingEngine
    orders: OrdersService
    backtests: Backtests
    insights: Insights
    background: list[asyncio.Task[None]] = field(default_factory=list)
