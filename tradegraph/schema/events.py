"""GraphQL types, inputs and enums for events and their summaries."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from tradegraph import documents, sequences
from tradegraph.events import summary
from tradegraph.events.filters import EventQuery
from tradegraph.events.listing import EventOrder
from tradegraph.schema.core.connection import Connection

strawberry.enum(EventOrder, name="EventOrderBy", description="Sort order of an event listing.")
EventOrderBy = EventOrder

strawberry.enum(
    summary.TimeBucket, name="TimeBucket", description="Width of a series bucket, aligned to UTC."
)
TimeBucket = summary.TimeBucket


@strawberry.type(description="A user-activity event (login, purchase, deposit, order…).")
class Event:
    id: strawberry.ID
    user_id: str
    type: str
    value: float
    timestamp: datetime = strawberry.field(description="When it happened (UTC).")
    metadata: JSON = strawberry.field(description="Free-form JSON object, at most 16 KiB.")
    idempotency_key: str = strawberry.field(
        description="Unique; the sender's key, or derived from the webhook-id and position."
    )
    received_at: datetime = strawberry.field(description="When tradegraph stored it (UTC).")
    cursor: str = strawberry.field(
        description="Its place in the feed: eventCreated(after:) resumes right after it."
    )

    @classmethod
    def from_document(cls, event: documents.Event) -> Event:
        return cls(
            id=strawberry.ID(str(event.id)),
            user_id=event.user_id,
            type=event.type,
            value=event.value,
            timestamp=event.timestamp,
            metadata=JSON(event.metadata),
            idempotency_key=event.idempotency_key,
            received_at=event.received_at,
            cursor=sequences.cursor_text(event.seq or 0),
        )


@strawberry.input(description="All given conditions must hold; `from` inclusive, `to` exclusive.")
class EventFilter:
    type: str | None = None
    user_id: str | None = None
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None
    min_value: float | None = None
    max_value: float | None = None

    def to_query(self) -> EventQuery:
        return EventQuery(
            type=self.type,
            user_id=self.user_id,
            from_=self.from_,
            to=self.to,
            min_value=self.min_value,
            max_value=self.max_value,
        )


@strawberry.input(description="An event to store (ADMIN). Same rules as the webhook.")
class EventInput:
    user_id: str
    type: str = strawberry.field(description="Non-empty, at most 64 characters.")
    value: float = strawberry.field(description="A finite number.")
    timestamp: datetime | None = strawberry.field(
        default=None, description="Defaults to now; at most 5 minutes in the future."
    )
    metadata: JSON | None = strawberry.field(default=None, description="A JSON object ≤ 16 KiB.")
    idempotency_key: str | None = strawberry.field(
        default=None, description="Sending the same key again returns the stored event."
    )


@strawberry.type(description="A page of events (Relay connection).")
class EventConnection(Connection[Event]):
    pass


AGGREGATE_PLACES = 6  # event values are floats: sums drop binary artefacts (…69999999992)


def tidy(value: float) -> float:
    """An aggregate of float event values rounded to 6 decimals: 156376.69999999992 is 156376.7."""
    return round(value, AGGREGATE_PLACES)


@strawberry.type
class EventTypeTotal:
    type: str
    count: int
    total_value: float
    average_value: float

    @classmethod
    def from_value(cls, row: summary.TypeTotal) -> EventTypeTotal:
        return cls(
            type=row.type,
            count=row.count,
            total_value=tidy(row.total_value),
            average_value=tidy(row.average_value),
        )


@strawberry.type
class UserTotal:
    user_id: str
    count: int
    total_value: float

    @classmethod
    def from_value(cls, row: summary.UserTotal) -> UserTotal:
        return cls(user_id=row.user_id, count=row.count, total_value=tidy(row.total_value))


@strawberry.type(description="Events and value in one time bucket.")
class SeriesPoint:
    start: datetime
    count: int
    total_value: float

    @classmethod
    def from_value(cls, point: summary.SeriesPoint) -> SeriesPoint:
        return cls(start=point.start, count=point.count, total_value=tidy(point.total_value))


@strawberry.type(description="Aggregates over [from, to). Cached for a few seconds at most.")
class EventSummary:
    total_events: int
    total_value: float
    average_ticket: float | None = strawberry.field(
        description="Mean value of `purchase` events; null when there were none."
    )
    by_type: list[EventTypeTotal] = strawberry.field(description="Most frequent type first.")
    top_users_by_value: list[UserTotal]
    top_users_by_count: list[UserTotal]
    _series: strawberry.Private[
        Callable[[summary.TimeBucket], Awaitable[list[summary.SeriesPoint]]]
    ]

    @strawberry.field(description="One point per bucket over [from, to), empty buckets included.")
    async def series(self, bucket: TimeBucket) -> list[SeriesPoint]:
        return [SeriesPoint.from_value(point) for point in await self._series(bucket)]

    @classmethod
    def from_value(
        cls,
        value: summary.Summary,
        series: Callable[[summary.TimeBucket], Awaitable[list[summary.SeriesPoint]]],
    ) -> EventSummary:
        return cls(
            total_events=value.total_events,
            total_value=tidy(value.total_value),
            average_ticket=None if value.average_ticket is None else tidy(value.average_ticket),
            by_type=[EventTypeTotal.from_value(row) for row in value.by_type],
            top_users_by_value=[UserTotal.from_value(r) for r in value.top_users_by_value],
            top_users_by_count=[UserTotal.from_value(r) for r in value.top_users_by_count],
            _series=series,
        )
