"""Beanie documents, one module per domain. No schema or HTTP imports here."""

from tradegraph.documents.analytics import (
    BacktestRun,
    BacktestStatus,
    InsightRecord,
    InsightSource,
)
from tradegraph.documents.events import Event
from tradegraph.documents.markets import (
    AssetClass,
    CandleBar,
    CandleInterval,
    Instrument,
    LatestQuote,
    Tick,
)
from tradegraph.documents.portfolios import (
    Fill,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderStatus,
    OrderType,
    Portfolio,
    Position,
    Side,
    TimeInForce,
)
from tradegraph.documents.users import RefreshToken, Role, User

ALL_DOCUMENTS: list[type] = [
    User,
    RefreshToken,
    Event,
    Instrument,
    Tick,
    LatestQuote,
    CandleBar,
    Portfolio,
    Position,
    Order,
    LedgerEntry,
    BacktestRun,
    InsightRecord,
]

__all__ = [
    "ALL_DOCUMENTS",
    "AssetClass",
    "BacktestRun",
    "BacktestStatus",
    "CandleBar",
    "CandleInterval",
    "Event",
    "Fill",
    "InsightRecord",
    "InsightSource",
    "Instrument",
    "LatestQuote",
    "LedgerEntry",
    "LedgerKind",
    "Order",
    "OrderStatus",
    "OrderType",
    "Portfolio",
    "Position",
    "RefreshToken",
    "Role",
    "Side",
    "Tick",
    "TimeInForce",
    "User",
]
