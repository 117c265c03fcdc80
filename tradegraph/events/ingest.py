"""Stores validated events idempotently: a key seen before stores nothing new."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from beanie import PydanticObjectId
from pymongo.errors import BulkWriteError

from tradegraph.documents import Event
from tradegraph.events.validation import EventSubmission

DUPLICATE_KEY = 11000
INSERT_CHUNK = 100  # events built, encoded and inserted per store call


@dataclass(frozen=True)
class IngestResult:
    stored: list[Event]
    duplicates: int


def to_millis(moment: datetime) -> datetime:
    """MongoDB keeps milliseconds; trimming first keeps cursors and live copies identical."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def build_event(submission: EventSubmission, default_key: str, received_at: datetime) -> Event:
    return Event(
        id=PydanticObjectId(),
        user_id=submission.user_id,
        type=submission.type,
        value=submission.value,
        timestamp=to_millis(submission.timestamp or received_at),
        metadata=submission.metadata,
        idempotency_key=submission.idempotency_key or default_key,
        received_at=received_at,
    )


async def store_events(submissions: list[EventSubmission], key_prefix: str) -> IngestResult:
    """Inserts every event whose idempotency key is new; an event without a key gets
    `{key_prefix}:{position}`, so a redelivered batch stores nothing twice. Large batches go
    in chunks: building and encoding documents runs on the event loop, which other requests
    get back between chunks."""
    received_at = to_millis(datetime.now(UTC))
    stored: list[Event] = []
    duplicates = 0
    for offset in range(0, len(submissions), INSERT_CHUNK):
        events = [
            build_event(submission, f"{key_prefix}:{offset + index}", received_at)
            for index, submission in enumerate(submissions[offset : offset + INSERT_CHUNK])
        ]
        rejected = await _insert_new(events)
        stored.extend(event for index, event in enumerate(events) if index not in rejected)
        duplicates += len(rejected)
    return IngestResult(stored=stored, duplicates=duplicates)


async def _insert_new(events: list[Event]) -> set[int]:
    """Inserts `events`; returns the positions refused as duplicate keys."""
    try:
        await Event.insert_many(events, ordered=False)
    except BulkWriteError as error:
        write_errors = error.details.get("writeErrors", [])
        if any(item.get("code") != DUPLICATE_KEY for item in write_errors):
            raise
        return {item["index"] for item in write_errors}
    return set()
