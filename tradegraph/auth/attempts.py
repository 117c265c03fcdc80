"""Attempt windows, in this process or shared through Redis: what login throttling counts with.

An attempt takes a slot in every window it counts towards *before* the expensive or revealing
work (verifying a password, inserting an account) and gives it back only if that work
succeeds. So a window admits at most `limit` failures however many requests run at once, and a
success gives back no more than the slot it took: it cannot reset anyone's count.

A window is fixed: it starts at its first counted attempt and lasts `window_seconds`; attempts
refused while it is full take no slot and do not extend it.
"""

from __future__ import annotations

import hashlib
import math
import time
from dataclasses import dataclass
from typing import Protocol

import structlog
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from tradegraph.errors import ServiceUnavailable

MAX_TRACKED_WINDOWS = 100_000


log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Window:
    """A counter of attempts: at most `limit` within `window_seconds` of the first one."""

    key: str
    limit: int
    window_seconds: float


class AttemptWindows(Protocol):
    async def reserve(self, windows: list[Window]) -> float:
        """Takes one slot in every window, atomically, unless one of them is full: then takes
        none and returns the seconds until every full window reopens. 0 when taken."""
        ...

    async def give_back(self, windows: list[Window]) -> None:
        """Returns one slot previously taken in each window (never below zero)."""
        ...

    async def clear(self) -> None:
        """Forgets every window (tests, and operators unlocking everyone)."""
        ...

    async def close(self) -> None: ...

    @property
    def description(self) -> str: ...


def window_key(kind: str, *parts: str) -> str:
    """A fixed-length key for `parts`, which may be arbitrary caller input (an email)."""
    digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]
    return f"{kind}:{digest}"


class MemoryAttemptWindows:
    """Windows in this process. Memory is bounded: past MAX_TRACKED_WINDOWS the expired ones are
    dropped, then the oldest."""

    description = "in this process"

    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, monotonic expiry)

    async def reserve(self, windows: list[Window]) -> float:
        now = time.monotonic()
        # No await until the slots are taken: the check and the increments are one step.
        counts = [self._live(window.key, now) for window in windows]
        waits = [
            expiry - now
            for window, (count, expiry) in zip(windows, counts, strict=True)
            if count >= window.limit
        ]
        if waits:
            return max(max(waits), 0.001)
        for window, (count, expiry) in zip(windows, counts, strict=True):
            self._make_room()
            self._counts[window.key] = (count + 1, expiry if count else now + window.window_seconds)
        return 0.0

    async def give_back(self, windows: list[Window]) -> None:
        now = time.monotonic()
        for window in windows:
            count, expiry = self._live(window.key, now)
            if count > 0:
                self._counts[window.key] = (count - 1, expiry)

    async def clear(self) -> None:
        self._counts.clear()

    async def close(self) -> None:
        self._counts.clear()

    def _live(self, key: str, now: float) -> tuple[int, float]:
        count, expiry = self._counts.get(key, (0, 0.0))
        if expiry <= now:
            self._counts.pop(key, None)
            return 0, 0.0
        return count, expiry

    def _make_room(self) -> None:
        if len(self._counts) < MAX_TRACKED_WINDOWS:
            return
        now = time.monotonic()
        for key in [key for key, (_, expiry) in self._counts.items() if expiry <= now]:
            del self._counts[key]
        if len(self._counts) >= MAX_TRACKED_WINDOWS:
            del self._counts[next(iter(self._counts))]


# KEYS: the windows' keys; ARGV: limit and window in milliseconds, per key.
# Returns 0 when a slot was taken in every window, else the longest wait in milliseconds.
_RESERVE = """
local wait = 0
for i, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[2 * i - 1]) then
    local ttl = redis.call('PTTL', key)
    if ttl < 0 then
      redis.call('PEXPIRE', key, ARGV[2 * i])
      ttl = tonumber(ARGV[2 * i])
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  if redis.call('INCR', key) == 1 then redis.call('PEXPIRE', key, ARGV[2 * i]) end
end
return 0
"""

_GIVE_BACK = """
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count > 0 then redis.call('DECR', key) end
end
return 0
"""


class RedisAttemptWindows:
    """Windows shared by every process using one Redis; each step is one atomic Lua script."""

    def __init__(self, url: str, prefix: str) -> None:
        self._redis = aioredis.Redis.from_url(url)
        self._prefix = prefix
        self._reserve = self._redis.register_script(_RESERVE)
        self._give_back = self._redis.register_script(_GIVE_BACK)
        self.description = f"shared through Redis (keys {prefix}*)"

    async def reserve(self, windows: list[Window]) -> float:
        arguments: list[int] = []
        for window in windows:
            arguments += [window.limit, max(1, math.ceil(window.window_seconds * 1000))]
        try:
            wait_ms = await self._reserve(keys=self._keys(windows), args=arguments)
        except RedisError as error:  # fail closed: an attempt that cannot be counted is refused
            raise ServiceUnavailable(
                "sign-in is briefly unavailable: the attempt counter it needs (Redis) cannot be "
                "reached, and attempts are refused rather than let through uncounted; try again "
                "in a few seconds"
            ) from error
        return int(wait_ms) / 1000

    async def give_back(self, windows: list[Window]) -> None:
        try:
            await self._give_back(keys=self._keys(windows), args=[])
        except RedisError as error:  # the attempt stays counted: errs on the safe side
            log.warning("attempt not given back: Redis unreachable", error=str(error))

    async def clear(self) -> None:
        async for key in self._redis.scan_iter(match=f"{self._prefix}*"):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()

    def _keys(self, windows: list[Window]) -> list[str]:
        return [self._prefix + window.key for window in windows]


def attempt_windows(broadcast_url: str, namespace: str) -> AttemptWindows:
    """Shared through Redis when the broker is Redis (several processes), else in memory."""
    if broadcast_url.startswith(("redis://", "rediss://")):
        return RedisAttemptWindows(broadcast_url, prefix=f"tradegraph:{namespace}:attempts:")
    return MemoryAttemptWindows()
