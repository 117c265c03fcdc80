"""What resumable feeds replay from: counters that hand out increasing cursors, and the
stored order events (one per order change, as Alpaca's trade_updates)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pymongo import ASCENDING, IndexModel


class SequenceCounter(Document):
    """The last number handed out for one sequence (`_id` names it)."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "sequences"
        use_revision = False


class OrderEventKind(StrEnum):
    NEW = "NEW"
    PARTIAL_FILL = "PARTIAL_FILL"
    FILL = "FILL"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    REJECTED = "REJECTED"
    REPLACED = "REPLACED"


class OrderEventRecord(Document):
    """One change of one order of a portfolio; `seq` counts 1, 2, 3… per portfolio."""

    portfolio_id: PydanticObjectId
    seq: int
    key: str  # "<order id>:<kind>[:<fill id>]": recording the same change twice stores one
    kind: OrderEventKind
    order: dict[str, Any]  # the order as it was after the change (Order JSON)
    fill: dict[str, Any] | None = None  # PARTIAL_FILL / FILL: the fill (Fill JSON)
    timestamp: datetime

    class Settings:
        name = "order_events"
        use_revision = False
        indexes = [
            IndexModel(
                [("portfolio_id", ASCENDING), ("seq", ASCENDING)],
                unique=True,
                name="portfolio_seq_unique",
            ),
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
        ]
