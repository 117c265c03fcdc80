"""Everything a request handler needs, built once at startup (see app.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tradegraph.auth.accounts import Accounts
from tradegraph.config import Settings
from tradegraph.events.service import EventsService
from tradegraph.store import Store
from tradegraph.subscriptions.broker import Broker
from tradegraph.subscriptions.events import EventFeed


@dataclass
class Services:
    settings: Settings
    store: Store
    broker: Broker
    accounts: Accounts
    events: EventsService
    event_feed: EventFeed
