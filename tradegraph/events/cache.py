"""A short-lived cache of async results; concurrent callers of one key share one computation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar, cast

T = TypeVar("T")

MAX_ENTRIES = 1024


class ResultCache:
    def __init__(self, ttl_seconds: float) -> None:
        self.ttl_seconds = ttl_seconds
        self._entries: dict[Hashable, tuple[float, asyncio.Future[Any]]] = {}

    async def get_or_compute(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if self.ttl_seconds <= 0:
            return await compute()
        now = time.monotonic()
        entry = self._entries.get(key)
        if entry is None or entry[0] <= now:
            if len(self._entries) >= MAX_ENTRIES:
                self._prune(now)
            entry = (now + self.ttl_seconds, asyncio.ensure_future(compute()))
            self._entries[key] = entry
        try:
            return cast(T, await asyncio.shield(entry[1]))
        except Exception:
            if self._entries.get(key) is entry:  # failures are not cached
                del self._entries[key]
            raise

    def clear(self) -> None:
        self._entries.clear()

    def _prune(self, now: float) -> None:
        for key in [k for k, (expiry, _) in self._entries.items() if expiry <= now]:
            del self._entries[key]
        while len(self._entries) >= MAX_ENTRIES:  # all still fresh: drop the oldest
            del self._entries[next(iter(self._entries))]
        while len(self._entries) >= MAX_ENTRIES:
            del self._entries[next(iter(self._entries))]
