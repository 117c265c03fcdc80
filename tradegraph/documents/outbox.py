"""Messages waiting for the broker (pubsub/outbox.py), in publish order, and the store that
keeps them: ordinary inserts, deletes and one counter, so real MongoDB ≥ 7 and the emulation
behave alike (no transactions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, ReturnDocument
from pymongo.errors import DuplicateKeyError

from tradegraph.pubsub.outbox import StoredMessage

SEQUENCE_ID = "outbox-sequence"
DRAIN_CLAIM_ID = "outbox-drainer"


class OutboxMessage(Document):
    """One message the broker has not taken yet; `sequence` orders delivery."""

    sequence: int
    channel: str
    message: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))

    class Settings:
        name = "outbox"
        use_revision = False
        indexes = [[("sequence", ASCENDING)]]


class OutboxState(Document):
    """The outbox's bookkeeping: the last sequence number given out, and who drains."""

    id: str  # type: ignore[assignment]
    value: int = 0
    owner: str | None = None
    expires_at: datetime | None = None

    class Settings:
        name = "outbox_state"
        use_revision = False


class MongoOutboxStore:
    """The OutboxStore on MongoDB."""

    async def append(self, channel: str, message: str) -> None:
        states = OutboxState.get_pymongo_collection()
        counter: dict[str, Any] | None = await states.find_one_and_update(
            {"_id": SEQUENCE_ID},
            {"$inc": {"value": 1}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert counter is not None  # upserted
        await OutboxMessage(sequence=counter["value"], channel=channel, message=message).insert()

    async def oldest(self, limit: int) -> list[StoredMessage]:
        found = await OutboxMessage.find().sort("+sequence").limit(limit).to_list()
        return [StoredMessage(entry.id, entry.channel, entry.message) for entry in found]

    async def remove(self, key: object) -> None:
        await OutboxMessage.get_pymongo_collection().delete_one({"_id": key})

    async def claim(self, owner: str, seconds: float) -> bool:
        now = datetime.now(UTC)
        try:
            await OutboxState.get_pymongo_collection().update_one(
                {"_id": DRAIN_CLAIM_ID, "$or": [{"owner": owner}, {"expires_at": {"$lt": now}}]},
                {"$set": {"owner": owner, "expires_at": now + timedelta(seconds=seconds)}},
                upsert=True,
            )
        except DuplicateKeyError:  # the claim exists and is another process's, still valid
            return False
        return True
