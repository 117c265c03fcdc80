"""Resolvers for events: listing, lookup, summary, ingestion and the live feed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncGenerator
from datetime import datetime
from functools import partial
from typing import Annotated

import strawberry
from strawberry import ID, Info

from tradegraph.events.filters import EventQuery
from tradegraph.events.listing import EventOrder, check_page_size, encode_cursor
from tradegraph.events.service import visible_query
from tradegraph.events.validation import validate_submission
from tradegraph.schema.events import (
    Event,
    EventConnection,
    EventEdge,
    EventFilter,
    EventInput,
    EventSummary,
    PageInfo,
)

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
    check_page_size(first)
    principal = info.context.require_principal()
    service = info.context.services.events
    query = _query(filter)
    page = await service.page(principal, query, order_by, first, after)
    edges = [
        EventEdge(cursor=encode_cursor(order_by, event), node=Event.from_document(event))
        for event in page.events
    ]
    return EventConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next_page, end_cursor=edges[-1].cursor if edges else None
        ),
        _count=partial(service.count, principal, query),
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
    fields = {
        "userId": input.user_id,
        "type": input.type,
        "value": input.value,
        "timestamp": input.timestamp,
        "metadata": input.metadata if input.metadata is not None else {},
        "idempotencyKey": input.idempotency_key,
    }
    submission = validate_submission(fields)
    stored = await info.context.services.events.ingest_one(
        submission, key_prefix=f"mutation:{uuid.uuid4().hex}"
    )
    return Event.from_document(stored)


async def event_created(
    info: Info, filter: EventFilter | None = None
) -> AsyncGenerator[Event, None]:
    """Every event stored from now on that matches the filter, from any server process.
    TRADERs receive only their own events. A subscriber more than a thousand events behind
    is ended with SUBSCRIBER_TOO_SLOW."""
    query = visible_query(info.context.require_principal(), _query(filter))
    async for stored in info.context.services.event_feed.created(query):
        yield Event.from_document(stored)
