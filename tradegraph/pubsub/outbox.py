"""Durable publishing: a message the broker could not take waits in the store, and a drainer
publishes waiting messages in order once the broker is back.

The normal path costs nothing extra: a publish goes straight to the broker. Only when that
fails is the message appended to the outbox; from then on every durable publish of this process
queues behind it (and behind entries other processes left, seen at each poll) until the outbox
is empty again, so messages stay in the order they were published. Delivery is at least once:
a drainer that dies between publishing and deleting an entry publishes it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

import structlog

from tradegraph.pubsub.failures import RepeatedFailure

log = structlog.get_logger(__name__)

Send = Callable[[str, str], Awaitable[None]]
BATCH_SIZE = 100


@dataclass(frozen=True)
class StoredMessage:
    key: object  # the store's id of the entry
    channel: str
    message: str


class OutboxStore(Protocol):
    """Where waiting messages live (MongoDB: documents/outbox.py)."""

    async def append(self, channel: str, message: str) -> None:
        """Stores a message after every message appended before it."""

    async def oldest(self, limit: int) -> list[StoredMessage]:
        """Up to `limit` waiting messages, oldest first."""

    async def remove(self, key: object) -> None:
        """Deletes one delivered message."""

    async def claim(self, owner: str, seconds: float) -> bool:
        """True when `owner` may drain for the next `seconds` (only one process drains)."""


class Outbox:
    def __init__(self, store: OutboxStore, send: Send, poll_seconds: float) -> None:
        self.store = store
        self.send = send
        self.poll_seconds = poll_seconds
        self.owner = uuid.uuid4().hex
        self.pending = False  # this process knows of waiting messages: publishes queue
        self.queued = 0
        self.delivered = 0
        self.lost = 0
        self.publish_failures = RepeatedFailure("broker publish failed; queued in the outbox")
        self.store_failures = RepeatedFailure("outbox unavailable; message lost")
        self.drain_failures = RepeatedFailure("outbox drain failed; retrying")
        self._lock = asyncio.Lock()
        self._appending = 0
        self._wake = asyncio.Event()

    async def publish(self, channel: str, message: str) -> None:
        """Publishes now, or queues in the outbox when the broker fails or others are waiting.
        Never raises: the caller's write is committed, its message will follow."""
        if not self.pending:
            try:
                await self.send(channel, message)
            except Exception as error:
                self.publish_failures.failed(error, channel=channel)
                self.pending = True  # at once: a later publish must queue behind this one
            else:
                self.publish_failures.recovered()
                return
        self._appending += 1  # drain must not clear `pending` while an append waits
        try:
            async with self._lock:
                try:
                    await self.store.append(channel, message)
                except Exception as error:  # the store is down too: nothing durable is left
                    self.lost += 1
                    self.store_failures.failed(error, channel=channel)
                    return
                self.store_failures.recovered()
                self.pending = True
                self.queued += 1
        finally:
            self._appending -= 1
        self._wake.set()

    async def run(self) -> None:
        """The drainer: polls the outbox and delivers what waits, oldest first, forever."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_seconds)
            self._wake.clear()
            try:
                await self.drain()
            except Exception as error:  # broker or store still down: try again next poll
                self.drain_failures.failed(error)
            else:
                self.drain_failures.recovered(delivered=self.delivered)

    async def drain(self) -> None:
        """Delivers every waiting message if this process holds the drain claim; raises when
        the broker or the store fails (the caller retries)."""
        while True:
            batch = await self.store.oldest(BATCH_SIZE)
            if not batch:
                async with self._lock:  # no append can slip in between the check and the flag
                    if not await self.store.oldest(1) and self._appending == 0:
                        self.pending = False
                        return
                continue
            self.pending = True  # entries from any process: later publishes queue behind them
            if not await self.store.claim(self.owner, max(10.0, self.poll_seconds * 5)):
                return  # another process drains; we poll again
            for entry in batch:
                await self.send(entry.channel, entry.message)
                await self.store.remove(entry.key)
                self.delivered += 1
