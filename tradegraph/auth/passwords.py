"""Password hashing (argon2 via pwdlib): off the event loop, a few at a time.

Hashing is deliberately slow (~0.1 s of several cores). Run in threads with bounded
concurrency, a flood of logins queues here instead of starving everything else of CPU, and the
event loop keeps answering (/healthz, subscriptions) meanwhile.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
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

    async def hash(self, password: str) -> str:
        return await self._in_thread(_hasher.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """False for an unknown account (None), after the same work as a known one."""
        matches = await self._in_thread(_hasher.verify, password, password_hash or _DUMMY_HASH)
        return matches and password_hash is not None

    async def _in_thread(self, work: Callable[..., T], *args: str) -> T:
        async with self._slots:
            running = asyncio.ensure_future(asyncio.to_thread(work, *args))
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                # A thread cannot be stopped: it keeps its slot until it is done.
                await asyncio.wait([running])
                raise
