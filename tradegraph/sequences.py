"""Cursors of the resumable feeds (orderEvents, eventCreated): numbers handed out by a stored
counter, so every process agrees on one increasing order, and the text clients send back."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from pymongo import ReturnDocument

from tradegraph.documents import SequenceCounter
from tradegraph.errors import InvalidInput

MAX_CURSOR_LENGTH = 20
T = TypeVar("T")


@dataclass(frozen=True)
class Sequenced(Generic[T]):
    """An entry of a resumable feed with its number."""

    seq: int
    item: T | None  # None: not for this subscriber (filtered out); it still takes its number


@dataclass(frozen=True)
class ReplayPage(Generic[T]):
    """Stored entries for one subscriber after a number, in order (at most a limit + 1, so
    the reader can tell "too many"). Numbers up to `through` that are not here are not for
    this subscriber, or still being written (those arrive live, late)."""

    entries: list[Sequenced[T]]
    through: int


Replay = Callable[[int], Awaitable[ReplayPage[T]]]


async def take_numbers(sequence: str, count: int) -> int:
    """Reserves `count` consecutive numbers of `sequence`; returns the first (from 1 up)."""
    document = await SequenceCounter.get_pymongo_collection().find_one_and_update(
        {"_id": sequence},
        {"$inc": {"value": count}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert document is not None  # upserted
    return int(document["value"]) - count + 1


async def read_counter(sequence: str) -> int:
    """The last number `sequence` handed out (0: none yet)."""
    document = await SequenceCounter.get_pymongo_collection().find_one({"_id": sequence})
    return int(document["value"]) if document else 0


async def read_counters(sequences: Iterable[str]) -> dict[str, int]:
    """The last numbers of several sequences, in one read (missing: none handed out yet)."""
    found = SequenceCounter.get_pymongo_collection().find({"_id": {"$in": list(sequences)}})
    return {str(document["_id"]): int(document["value"]) async for document in found}


def cursor_ahead() -> InvalidInput:
    return InvalidInput(
        "after is not a cursor this feed sent: it is beyond the latest message", field="after"
    )


async def check_not_ahead(sequence: str, after: int) -> None:
    """BAD_USER_INPUT for a cursor beyond anything handed out (it would wait forever)."""
    if after > await read_counter(sequence):
        raise cursor_ahead()


def cursor_text(seq: int) -> str:
    return str(seq)


def parse_cursor(text: str | None) -> int | None:
    """The number a cursor stands for; None for no cursor; BAD_USER_INPUT when malformed."""
    if text is None:
        return None
    if not (0 < len(text) <= MAX_CURSOR_LENGTH and text.isascii() and text.isdigit()):
        raise InvalidInput(
            "after must be a cursor this feed sent (the `cursor` of a message)", field="after"
        )
    return int(text)
