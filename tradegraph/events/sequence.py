"""Numbering stored events for eventCreated's cursors, and replaying them after one."""

from __future__ import annotations

from collections.abc import AsyncIterator

from pymongo import UpdateOne

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.sequences import Sequenced, take_numbers

EVENTS_SEQUENCE = "events"
REPLAY_PAGE = 500


async def number_events(events: list[Event]) -> None:
    """Gives just-stored events consecutive numbers, in the store before they are published
    (a subscriber that lost the message finds them there)."""
    if not events:
        return
    first = await take_numbers(EVENTS_SEQUENCE, len(events))
    for index, event in enumerate(events):
        event.seq = first + index
    await Event.get_pymongo_collection().bulk_write(
        [UpdateOne({"_id": e.id}, {"$set": {"seq": e.seq}}) for e in events], ordered=False
    )


async def replay_events(query: EventQuery, after: int) -> AsyncIterator[Sequenced[Event]]:
    """Every numbered event after `after`, in order; those `query` does not match come as
    placeholders (they still take their number)."""
    while True:
        page = await Event.find({"seq": {"$gt": after}}).sort("seq").limit(REPLAY_PAGE).to_list()
        for event in page:
            assert event.seq is not None
            yield Sequenced(event.seq, event if query.matches(event) else None)
        if len(page) < REPLAY_PAGE:
            return
        after = page[-1].seq or after
