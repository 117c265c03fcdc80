"""Portfolios, positions and the cash ledger (orders: documents/orders.py).

A fill touches three documents without a transaction, so each step is idempotent: the order
journals the fill first (`unsettled`), and the portfolio and the position remember which ids
they have already applied (`applied`). See trading/settlement.py.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import DecimalAnnotation, Document, PydanticObjectId
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from tradegraph.documents.orders import Side


class Portfolio(Document):
    owner_id: str
    name: str
    base_currency: str
    cash: DecimalAnnotation
    available: DecimalAnnotation  # cash minus what open BUY orders reserve
    applied: list[str] = Field(default_factory=list)  # recent step ids already applied
    created_at: datetime

    class Settings:
        name = "portfolios"
        use_revision = False
        indexes = [IndexModel([("owner_id", ASCENDING), ("created_at", ASCENDING)], name="owner")]


class AppliedFill(BaseModel):
    id: str
    realized_pnl: DecimalAnnotation


class Position(Document):
    portfolio_id: PydanticObjectId
    symbol: str
    quantity: DecimalAnnotation
    available: DecimalAnnotation  # quantity minus what open SELL orders reserve
    cost_basis: DecimalAnnotation  # of the quantity held, fees included (average-cost method)
    realized_pnl: DecimalAnnotation
    applied: list[AppliedFill] = Field(default_factory=list)
    version: int = 0
    updated_at: datetime

    class Settings:
        name = "positions"
        use_revision = False
        indexes = [
            IndexModel(
                [("portfolio_id", ASCENDING), ("symbol", ASCENDING)],
                unique=True,
                name="portfolio_symbol_unique",
            )
        ]


class LedgerKind(StrEnum):
    DEPOSIT = "DEPOSIT"
    WITHDRAWAL = "WITHDRAWAL"
    FILL = "FILL"


class LedgerEntry(Document):
    """Every cash movement, for history and performance. `_id` is the step id: idempotent."""

    id: str  # type: ignore[assignment]
    portfolio_id: PydanticObjectId
    kind: LedgerKind
    amount: DecimalAnnotation  # signed change of cash
    timestamp: datetime
    applied: bool = False  # DEPOSIT / WITHDRAWAL: the portfolio's cash includes it
    symbol: str | None = None
    side: Side | None = None
    quantity: DecimalAnnotation | None = None
    price: DecimalAnnotation | None = None
    fee: DecimalAnnotation | None = None
    realized_pnl: DecimalAnnotation | None = None  # SELL fills

    class Settings:
        name = "ledger"
        use_revision = False
        indexes = [
            IndexModel([("portfolio_id", ASCENDING), ("timestamp", ASCENDING)], name="portfolio"),
            IndexModel([("applied", ASCENDING)], name="applied"),
        ]
