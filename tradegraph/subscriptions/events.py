"""The live feed of stored events, filtered per subscriber."""

from __future__ import annotations

from collections.abc import AsyncIterator

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import EVENTS_CREATED


async def events_created(broker: Broker, query: EventQuery) -> AsyncIterator[Event]:
    """Every event stored from now on, in any process, that `query` matches."""

    def select(events: list[Event]) -> list[Event]:
        return [event for event in events if query.matches(event)]

    async with broker.subscribe(EVENTS_CREATED, select) as subscription:
        async for event in subscription:
            yield event
