"""Numbering stored events for eventCreated's cursors, and replaying them after one."""

from __future__ import annotations

from pymongo import UpdateOne

from tradegraph.documents import Event
from tradegraph.events.filters import EventQuery
from tradegraph.sequences import (
    ReplayPage,
    Sequenced,
    cursor_ahead,
    read_counter,
    take_numbers,
)

EVENTS_SEQUENCE = "events"


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


async def check_cursor(own_user: str | None, after: int) -> None:
    """BAD_USER_INPUT for a cursor the caller was never sent. Someone who sees only their own
    events (`own_user`) is checked against those alone: the answer says nothing about how
    many events others have."""
    if own_user is None:
        if after > await read_counter(EVENTS_SEQUENCE):
            raise cursor_ahead()
        return
    if after == 0:
        return
    own = Event.find({"user_id": own_user, "seq": {"$gte": after}}).limit(1)
    if not await own.to_list():
        raise cursor_ahead()


async def replay_events(query: EventQuery, limit: int, after: int) -> ReplayPage[Event]:
    """The events `query` matches numbered after `after`, in order, at most `limit` + 1 of
    them. A TRADER's query names its user: the (user_id, seq) index finds them without
    reading anyone else's."""
    through = await read_counter(EVENTS_SEQUENCE)
    if through <= after:
        return ReplayPage([], after)
    found = (
        await Event.find({**query.to_mongo(), "seq": {"$gt": after, "$lte": through}})
        .sort("seq")
        .limit(limit + 1)
        .to_list()
    )
    return ReplayPage([Sequenced(e.seq, e) for e in found if e.seq is not None], through)
