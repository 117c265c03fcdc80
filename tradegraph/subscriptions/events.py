"""The live feed of stored events, filtered per subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.events.sequence import EVENTS_SEQUENCE, check_cursor, replay_events
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import EVENTS_CREATED
from tradegraph.sequences import Sequenced
from tradegraph.subscriptions.feed_watch import FeedWatch
from tradegraph.subscriptions.resumable import ResumeRules, resume

LIST_INSTEAD = "read them with the `events` query"


async def events_created(broker: Broker, query: EventQuery) -> AsyncIterator[Event]:
    """Every event stored from now on, in any process, that `query` matches."""

    def select(events: list[Event]) -> list[Event]:
        return [event for event in events if query.matches(event)]

    async with broker.subscribe(EVENTS_CREATED, select) as subscription:
        async for event in subscription:
            yield event


async def events_after(
    broker: Broker,
    watch: FeedWatch,
    query: EventQuery,
    own_user: str | None,
    after: int,
    grace: float,
    limit: int,
) -> AsyncIterator[Event]:
    """Every stored event after cursor `after` that `query` matches, in cursor order, then
    live ones: no gap and no duplicate at the seam, whatever the broker lost. `own_user`: the
    caller sees only that user's events (its cursor is checked against those alone)."""

    def numbered(events: list[Event]) -> list[list[Sequenced[Event]]]:
        return [[Sequenced(e.seq, e if query.matches(e) else None) for e in events if e.seq]]

    await check_cursor(own_user, after)
    rules = ResumeRules(EVENTS_SEQUENCE, watch, grace, limit, LIST_INSTEAD)
    async with broker.subscribe(EVENTS_CREATED, numbered) as live:  # before replaying
        replay = partial(replay_events, query, limit)
        async for event in resume(aiter(live), replay, after, rules):
            yield event
