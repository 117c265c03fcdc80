"""The live feed of stored events: published in batches, filtered per subscriber."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.subscriptions.broker import Broker
from tradegraph.subscriptions.channels import EVENTS_CREATED


def encode_events(events: list[Event]) -> str:
    return json.dumps({"events": [event.model_dump(mode="json") for event in events]})


def decode_events(message: str) -> list[Event]:
    return [Event.model_validate(item) for item in json.loads(message)["events"]]


class EventFeed:
    def __init__(self, broker: Broker) -> None:
        self.broker = broker
        broker.set_decoder(EVENTS_CREATED, decode_events)

    async def publish(self, events: list[Event]) -> None:
        # One message per stored batch: a 1,000-event webhook is one broker round trip.
        await self.broker.publish(EVENTS_CREATED, encode_events(events))

    async def created(self, query: EventQuery) -> AsyncIterator[Event]:
        def select(events: list[Event]) -> list[Event]:
            return [event for event in events if query.matches(event)]

        async with self.broker.subscribe(EVENTS_CREATED, select) as subscription:
            async for event in subscription:
                yield event
