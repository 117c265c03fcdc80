"""Password hashing (argon2 via pwdlib): off the event loop, a few at a time.

Hashing is deliberately slow (~0.1 s of several cores). Run in threads with bounded
concurrency, a flood of logins queues here instead of starving everything else of CPU, and the
event loop keeps answering (/healthz, subscriptions) meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("tradegraph-timing-equaliser")

T = TypeVar("T")


class Passwords:
    """Hashes and verifies with at most `max_concurrency` computations running at once."""

    def __init__(self, max_concurrency: int) -> None:
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        # For /metrics: what a flood of logins costs, and how long the queue is.
        self.hashes = 0
        self.verifications = 0
        self.running = 0
        self.waiting = 0

    async def hash(self, password: str) -> str:
        async with self._slot():
            self.hashes += 1
            return await _in_thread(_hasher.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """False for an unknown account (None), after the same work as a known one."""
        async with self._slot():
            self.verifications += 1
            matches = await _in_thread(_hasher.verify, password, password_hash or _DUMMY_HASH)
        return matches and password_hash is not None

    @asynccontextmanager
    async def _slot(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        try:
            yield
        finally:
            self.running -= 1
            self._slots.release()


async def _in_thread(work: Callable[..., T], *args: str) -> T:
    thread = asyncio.ensure_future(asyncio.to_thread(work, *args))
    try:
        return await asyncio.shield(thread)
    except asyncio.CancelledError:
        # A thread cannot be stopped: the caller keeps its slot until the thread is done.
        await asyncio.wait([thread])
        raise
