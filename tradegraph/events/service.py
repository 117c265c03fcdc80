"""The events use cases: ingest (then publish), list, read, summarise with a short cache."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from tradegraph.auth.principal import Principal
from tradegraph.documents import Event
from tradegraph.errors import PermissionDenied
from tradegraph.events import listing, summary
from tradegraph.events.cache import ResultCache
from tradegraph.events.filters import EventQuery
from tradegraph.events.ingest import IngestResult, store_events
from tradegraph.events.listing import EventOrder
from tradegraph.events.sequence import number_events
from tradegraph.events.summary import SeriesPoint, Summary, TimeBucket
from tradegraph.events.validation import EventSubmission
from tradegraph.pagination import Page
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import EVENTS_CREATED

OnStored = Callable[[int], None]


def encode_events(events: list[Event]) -> str:
    """One broker message per stored batch: a 1,000-event webhook is one round trip."""
    return json.dumps({"events": [event.model_dump(mode="json") for event in events]})


def decode_events(message: str) -> list[Event]:
    return [Event.model_validate(item) for item in json.loads(message)["events"]]


@dataclass(frozen=True)
class SummaryScope:
    """What a summary covers: needed again when its series is asked for."""

    match: tuple[tuple[str, str], ...]  # hashable form of the visibility restriction
    from_: datetime
    to: datetime

    def mongo_match(self) -> dict[str, Any]:
        return {**dict(self.match), "timestamp": {"$gte": self.from_, "$lt": self.to}}


def visible_query(principal: Principal, query: EventQuery) -> EventQuery:
    visible = query.visible_to(principal)
    if visible is None:
        raise PermissionDenied("traders may only read their own events (userId = your user id)")
    return visible


class EventsService:
    def __init__(
        self, broker: Broker, summary_cache_seconds: float, on_stored: OnStored | None = None
    ) -> None:
        self._broker = broker
        self._cache = ResultCache(summary_cache_seconds)
        self._on_stored = on_stored

    async def ingest(self, submissions: list[EventSubmission], key_prefix: str) -> IngestResult:
        result = await store_events(submissions, key_prefix)
        await number_events(result.stored)  # eventCreated's cursors, before publishing
        if result.stored:
            self._cache.clear()  # readers in this process see their own writes at once
            if self._on_stored is not None:
                self._on_stored(len(result.stored))
            await self._broker.publish(EVENTS_CREATED, encode_events(result.stored))
        return result

    async def ingest_one(self, submission: EventSubmission) -> Event:
        """Stores one event; an idempotency key seen before returns the stored event."""
        key_prefix = f"mutation:{uuid.uuid4().hex}"
        result = await self.ingest([submission], key_prefix)
        if result.stored:
            return result.stored[0]
        key = submission.idempotency_key or f"{key_prefix}:0"
        existing = await Event.find_one(Event.idempotency_key == key)
        if existing is None:  # deleted between the insert and this read
            raise DuplicateKeyError("idempotency key race")
        return existing

    async def page(
        self,
        principal: Principal,
        query: EventQuery,
        order: EventOrder,
        first: int,
        after: str | None,
    ) -> Page[Event]:
        return await listing.list_events(
            visible_query(principal, query).to_mongo(), order, first, after
        )

    async def count(self, principal: Principal, query: EventQuery) -> int:
        return await listing.count_events(visible_query(principal, query).to_mongo())

    async def get(self, principal: Principal, event_id: str) -> Event | None:
        event = await listing.get_event(event_id)
        if event is None or not (principal.sees_all_events or event.user_id == principal.user_id):
            return None
        return event

    def summary_scope(self, principal: Principal, from_: datetime, to: datetime) -> SummaryScope:
        summary.check_range(from_, to)
        restriction = () if principal.sees_all_events else (("user_id", principal.user_id),)
        return SummaryScope(match=restriction, from_=from_, to=to)

    async def summary(self, scope: SummaryScope, top_n: int) -> Summary:
        summary.check_top_n(top_n)
        return await self._cache.get_or_compute(
            ("summary", scope, top_n),
            lambda: summary.compute_summary(scope.mongo_match(), top_n),
        )

    async def series(self, scope: SummaryScope, bucket: TimeBucket) -> list[SeriesPoint]:
        summary.check_series_size(scope.from_, scope.to, bucket)
        return await self._cache.get_or_compute(
            ("series", scope, bucket),
            lambda: summary.compute_series(scope.mongo_match(), scope.from_, scope.to, bucket),
        )
