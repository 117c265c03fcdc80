"""User-activity events received by webhook or mutation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


class Event(Document):
    user_id: str
    type: str
    value: float
    timestamp: datetime
    metadata: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str
    received_at: datetime
    seq: int | None = None  # its place in the feed (eventCreated's cursor); set once stored

    class Settings:
        name = "events"
        use_revision = False
        # Every listing sorts on (key, _id) so cursors stay stable; filters lead with equality.
        indexes = [
            IndexModel(
                [("idempotency_key", ASCENDING)], unique=True, name="idempotency_key_unique"
            ),
            IndexModel([("timestamp", DESCENDING), ("_id", DESCENDING)], name="timestamp_id"),
            IndexModel(
                [("type", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)],
                name="type_timestamp_id",
            ),
            IndexModel(
                [("user_id", ASCENDING), ("timestamp", DESCENDING), ("_id", DESCENDING)],
                name="user_timestamp_id",
            ),
            IndexModel([("value", DESCENDING), ("_id", DESCENDING)], name="value_id"),
            IndexModel([("seq", ASCENDING)], sparse=True, name="seq"),  # replay after a cursor
            # A caller's own events after a cursor. Unique only because _id is: the store
            # emulation answers "equality, then a range" from unique compound indexes alone.
            IndexModel(
                [("user_id", ASCENDING), ("seq", ASCENDING), ("_id", ASCENDING)],
                unique=True,
                name="user_seq_id",
            ),
        ]
