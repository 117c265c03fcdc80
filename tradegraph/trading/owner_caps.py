"""Per-owner caps that hold under concurrency, without transactions.

Counting the owner's items and then inserting is a race: 80 concurrent creations all count 49
and all insert. Instead each creation first takes a slot in the owner's `OwnedCount` with one
conditional `$inc` (`count < cap`), which MongoDB applies atomically to the one document; it
gives the slot back if the creation then fails, and deleting an item gives its slot back.

An owner's counter is made on first use from the items already stored (data from before the
counters existed): the first `$setOnInsert` wins, and nothing can be created for that owner
before a counter exists, so the count it starts from cannot be stale.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager, suppress

from pymongo.errors import DuplicateKeyError

from tradegraph.documents.quotas import OwnedCount
from tradegraph.errors import InvalidInput


def _key(kind: str, owner_id: str) -> str:
    return f"{kind}:{owner_id}"


async def _take(key: str, cap: int) -> bool:
    counts = OwnedCount.get_pymongo_collection()
    taken = await counts.update_one({"_id": key, "held": {"$lt": cap}}, {"$inc": {"held": 1}})
    return taken.modified_count == 1


async def take_slot(
    kind: str, owner_id: str, cap: int, stored: Callable[[], Awaitable[int]]
) -> None:
    """One more `kind` for `owner_id`, or BAD_USER_INPUT naming the cap. `stored` counts the
    owner's items as stored (used once, to start the counter)."""
    key = _key(kind, owner_id)
    if await _take(key, cap):
        return
    counts = OwnedCount.get_pymongo_collection()
    if await counts.count_documents({"_id": key}, limit=1) == 0:
        start = await stored()
        # Another creation may have started the counter first: then it stands.
        with suppress(DuplicateKeyError):
            await counts.update_one({"_id": key}, {"$setOnInsert": {"held": start}}, upsert=True)
        if await _take(key, cap):
            return
    raise InvalidInput(f"at most {cap} {kind} per owner; delete one to make room")


async def give_back_slot(kind: str, owner_id: str) -> None:
    """After an item was deleted (or its creation failed): one fewer, never below zero."""
    counts = OwnedCount.get_pymongo_collection()
    await counts.update_one(
        {"_id": _key(kind, owner_id), "held": {"$gt": 0}}, {"$inc": {"held": -1}}
    )


@asynccontextmanager
async def slot_for(
    kind: str, owner_id: str, cap: int, stored: Callable[[], Awaitable[int]]
) -> AsyncIterator[None]:
    """Takes a slot for the creation run inside; gives it back if that creation fails."""
    await take_slot(kind, owner_id, cap, stored)
    try:
        yield
    except BaseException:
        await give_back_slot(kind, owner_id)
        raise
