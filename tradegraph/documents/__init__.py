"""Beanie documents, one module per domain. No schema or HTTP imports here."""

from tradegraph.documents.analytics import (
    BacktestRun,
    BacktestStatus,
    InsightRecord,
    InsightSource,
    ResearchProcess,
)
from tradegraph.documents.events import Event
from tradegraph.documents.feeds import OrderEventKind, OrderEventRecord, SequenceCounter
from tradegraph.documents.markets import (
    AssetClass,
    CandleBar,
    CandleDay,
    CandleInterval,
    Instrument,
    LatestQuote,
    Tick,
)
from tradegraph.documents.optimizations import OptimizationRows, OptimizationRun
from tradegraph.documents.orders import (
    Fill,
    Order,
    OrderClass,
    OrderStatus,
    OrderType,
    Side,
    TimeInForce,
)
from tradegraph.documents.outbox import OutboxMessage, OutboxState
from tradegraph.documents.portfolios import LedgerEntry, LedgerKind, Portfolio, Position
from tradegraph.documents.quotas import OwnedCount
from tradegraph.documents.users import RefreshToken, Role, User
from tradegraph.documents.watchlists import Watchlist
from tradegraph.documents.widget_keys import WidgetKey

ALL_DOCUMENTS: list[type] = [
    User,
    RefreshToken,
    Event,
    Instrument,
    Tick,
    LatestQuote,
    CandleBar,
    CandleDay,
    Portfolio,
    Position,
    Order,
    LedgerEntry,
    BacktestRun,
    OptimizationRun,
    OptimizationRows,
    ResearchProcess,
    InsightRecord,
    OutboxMessage,
    OutboxState,
    Watchlist,
    SequenceCounter,
    OrderEventRecord,
    OwnedCount,
    WidgetKey,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AssetClass",
    "BacktestRun",
    "BacktestStatus",
    "CandleBar",
    "CandleDay",
    "CandleInterval",
    "Event",
    "Fill",
    "InsightRecord",
    "InsightSource",
    "Instrument",
    "LatestQuote",
    "LedgerEntry",
    "LedgerKind",
    "OptimizationRows",
    "OptimizationRun",
    "Order",
    "OrderClass",
    "OrderEventKind",
    "OrderEventRecord",
    "OrderStatus",
    "OrderType",
    "OutboxMessage",
    "OutboxState",
    "Portfolio",
    "Position",
    "RefreshToken",
    "ResearchProcess",
    "Role",
    "SequenceCounter",
    "Side",
    "Tick",
    "TimeInForce",
    "User",
    "Watchlist",
    "WidgetKey",
]
