"""Password hashing (argon2 via pwdlib): off the event loop, a few at a time, at low priority.

Hashing is deliberately slow (~0.2 s of CPU each). It runs in a pool of its own threads, at
most `max_concurrency` at once (default: the cores less one), so a flood of logins queues here.
On Linux those threads also run at a lower scheduling priority (nice 10 by default, per thread;
argon2's lane threads inherit it): when the event loop has work (/healthz, queries,
subscriptions) the kernel gives it the core at once instead of sharing it with the hashes.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from pwdlib import PasswordHash

_hasher = PasswordHash.recommended()
# Verified against when the email is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("tradegraph-timing-equaliser")

T = TypeVar("T")
DEFAULT_NICENESS = 10  # TRADEGRAPH_PASSWORD_HASH_NICENESS's default


def lower_this_threads_priority(niceness: int) -> None:
    """Runs first in each hashing thread. Linux applies setpriority to one thread by its id;
    elsewhere it would lower the whole process, so it is skipped."""
    if sys.platform == "linux" and niceness > 0:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)


def current_thread_niceness() -> int:
    """The scheduling niceness of the calling thread (Linux), of the process elsewhere."""
    thread = threading.get_native_id() if sys.platform == "linux" else 0
    return os.getpriority(os.PRIO_PROCESS, thread)


class Passwords:
    """Hashes and verifies with at most `max_concurrency` computations running at once."""

    def __init__(self, max_concurrency: int, niceness: int = DEFAULT_NICENESS) -> None:
        self.max_concurrency = max_concurrency
        self._slots = asyncio.Semaphore(max_concurrency)
        self._threads = ThreadPoolExecutor(
            max_concurrency,
            "password-hashing",
            initializer=lower_this_threads_priority,
            initargs=(niceness,),
        )
        # For /metrics: what a flood of logins costs, and how long the queue is.
        self.hashes = 0
        self.verifications = 0
        self.running = 0
        self.waiting = 0

    async def hash(self, password: str) -> str:
        async with self._slot():
            self.hashes += 1
            return await self._in_thread(_hasher.hash, password)

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """False for an unknown account (None), after the same work as a known one."""
        async with self._slot():
            self.verifications += 1
            matches = await self._in_thread(_hasher.verify, password, password_hash or _DUMMY_HASH)
        return matches and password_hash is not None

    async def niceness(self) -> int:
        """The scheduling niceness the hashing threads run at (for tests and operators)."""
        async with self._slot():
            return await self._in_thread(current_thread_niceness)

    def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

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

    async def _in_thread(self, work: Callable[..., T], *args: str) -> T:
        running = asyncio.get_running_loop().run_in_executor(self._threads, work, *args)
        try:
            return await asyncio.shield(running)
        except asyncio.CancelledError:
            # A thread cannot be stopped: the caller keeps its slot until the thread is done.
            await asyncio.wait([running])
            raise
