"""The live feed of stored events, filtered per subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.events.sequence import EVENTS_SEQUENCE, replay_events
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import EVENTS_CREATED
from tradegraph.sequences import Sequenced, check_not_ahead
from tradegraph.subscriptions.resumable import resume


async def events_created(broker: Broker, query: EventQuery) -> AsyncIterator[Event]:
    """Every event stored from now on, in any process, that `query` matches."""

    def select(events: list[Event]) -> list[Event]:
        return [event for event in events if query.matches(event)]

    async with broker.subscribe(EVENTS_CREATED, select) as subscription:
        async for event in subscription:
            yield event


async def events_after(
    broker: Broker, query: EventQuery, after: int, grace: float, poll: float
) -> AsyncIterator[Event]:
    """Every stored event after cursor `after` that `query` matches, in cursor order, then
    live ones: no gap and no duplicate at the seam, whatever the broker lost."""

    def numbered(events: list[Event]) -> list[list[Sequenced[Event]]]:
        return [[Sequenced(e.seq, e if query.matches(e) else None) for e in events if e.seq]]

    await check_not_ahead(EVENTS_SEQUENCE, after)
    async with broker.subscribe(EVENTS_CREATED, numbered) as live:  # before replaying
        replay = partial(replay_events, query)
        async for event in resume(aiter(live), replay, after, grace, poll):
            yield event
