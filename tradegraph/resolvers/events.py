"""Resolvers for events: listing, lookup, summary, ingestion and the live feed."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry import ID

from tradegraph.events.filters import EventQuery
from tradegraph.events.listing import EventOrder
from tradegraph.events.service import visible_query
from tradegraph.events.validation import submission_of
from tradegraph.schema.core.context import Info
from tradegraph.schema.events import (
    Event,
    EventConnection,
    EventFilter,
    EventInput,
    EventSummary,
)
from tradegraph.sequences import parse_cursor
from tradegraph.subscriptions.events import events_after, events_created

DEFAULT_PAGE_SIZE = 20


def _query(filter: EventFilter | None) -> EventQuery:
    return filter.to_query() if filter else EventQuery()


async def events(
    info: Info,
    filter: EventFilter | None = None,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
    order_by: EventOrder = EventOrder.TIMESTAMP_DESC,
) -> EventConnection:
    """Events, newest first by default. `first` is at most 500; pass `after: endCursor` for the
    next page. Pages are stable while new events arrive. TRADERs see only their own events."""
    principal = info.context.require_principal()
    service = info.context.services.events
    query = _query(filter)
    page = await service.page(principal, query, order_by, first, after)
    return EventConnection.from_page(
        page, Event.from_document, partial(service.count, principal, query)
    )


async def event(info: Info, id: ID) -> Event | None:
    """One event; null when unknown or not visible to you."""
    found = await info.context.services.events.get(info.context.require_principal(), str(id))
    return Event.from_document(found) if found else None


async def event_summary(
    info: Info,
    from_: Annotated[datetime, strawberry.argument(name="from")],
    to: datetime,
    top_n: int = 5,
) -> EventSummary:
    """Totals, by type, top users and a chart series over [from, to). TRADERs: own events."""
    service = info.context.services.events
    scope = service.summary_scope(info.context.require_principal(), from_, to)
    summary = await service.summary(scope, top_n)
    return EventSummary.from_value(summary, partial(service.series, scope))


async def ingest_event(info: Info, input: EventInput) -> Event:
    """Stores one event (ADMIN). Same rules as the webhook; a repeated idempotencyKey returns
    the stored event without storing another."""
    submission = submission_of(
        input.user_id,
        input.type,
        input.value,
        input.timestamp,
        input.metadata,
        input.idempotency_key,
    )
    return Event.from_document(await info.context.services.events.ingest_one(submission))


async def event_created(
    info: Info, filter: EventFilter | None = None, after: str | None = None
) -> AsyncGenerator[Event, None]:
    """Every event stored from now on that matches the filter, from any server process.
    TRADERs receive only their own events. A subscriber more than a thousand events behind
    is ended with SUBSCRIBER_TOO_SLOW. Given `after` (an Event.cursor received before), first
    every matching event stored after it, in order, then live ones, with no gap and no
    duplicate at the seam, even across a broker outage. A cursor more than
    TRADEGRAPH_FEED_MAX_REPLAY events behind is refused (BAD_USER_INPUT): list those first."""
    principal = info.context.require_principal()
    query = visible_query(principal, _query(filter))
    start = parse_cursor(after)
    services = info.context.services
    if start is None:
        feed = events_created(services.broker, query)
    else:
        settings = services.settings
        feed = events_after(
            services.broker,
            services.feed_watch,
            query,
            None if principal.sees_all_events else principal.user_id,
            start,
            settings.feed_gap_grace_seconds,
            settings.feed_max_replay,
        )
    async for stored in feed:
        yield Event.from_document(stored)
