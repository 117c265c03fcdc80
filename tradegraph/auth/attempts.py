"""Attempt windows, in this process or shared through Redis: what login throttling counts with.

An attempt takes a slot in every window it counts towards *before* the expensive or revealing
work (verifying a password, inserting an account) and gives it back only if that work
succeeds. So a window admits at most `limit` failures however many requests run at once, and a
success gives back no more than the slot it took: it cannot reset anyone's count.

A window is fixed: it starts at its first counted attempt and lasts `window_seconds`; attempts
refused while it is full take no slot and do not extend it. Each start of a window is a new
instance with its own id, and a slot is given back only to the instance it was taken from: an
attempt that straddles the end of a window cannot free a slot of the next one.
"""

from __future__ import annotations

import hashlib
import itertools
import math
import secrets
import time
from collections.abc import Callable
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


@dataclass(frozen=True)
class Slots:
    """The slots one `reserve` took: one per window, each in the window's instance of then."""

    windows: tuple[Window, ...]
    instances: tuple[str, ...]


class AttemptWindows(Protocol):
    async def reserve(self, windows: list[Window]) -> Slots | float:
        """Takes one slot in every window, atomically, unless one of them is full: then takes
        none and returns the seconds until every full window reopens."""
        ...

    async def full_for(self, windows: list[Window]) -> float:
        """Seconds until every full window among `windows` reopens; 0 when none is full.
        Takes no slot: for budgets charged only once the outcome is known."""
        ...

    async def give_back(self, slots: Slots) -> None:
        """Returns the slots to the window instances they were taken from, if those are
        still running (never below zero); a window that has ended and begun again keeps its
        count."""
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

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        # key -> (count, expiry on the clock, instance)
        self._counts: dict[str, tuple[int, float, str]] = {}
        self._instances = itertools.count(1)

    async def reserve(self, windows: list[Window]) -> Slots | float:
        now = self._clock()
        # No await until the slots are taken: the check and the increments are one step.
        counts = [self._live(window.key, now) for window in windows]
        waits = [
            expiry - now
            for window, (count, expiry, _) in zip(windows, counts, strict=True)
            if count >= window.limit
        ]
        if waits:
            return max(max(waits), 0.001)
        instances = []
        for window, (count, expiry, instance) in zip(windows, counts, strict=True):
            if not count:  # a window starts
                expiry, instance = now + window.window_seconds, str(next(self._instances))
            self._make_room()
            self._counts[window.key] = (count + 1, expiry, instance)
            instances.append(instance)
        return Slots(tuple(windows), tuple(instances))

    async def full_for(self, windows: list[Window]) -> float:
        now = self._clock()
        waits = [
            expiry - now
            for window in windows
            for count, expiry, _ in [self._live(window.key, now)]
            if count >= window.limit
        ]
        return max(max(waits), 0.001) if waits else 0.0

    async def give_back(self, slots: Slots) -> None:
        now = self._clock()
        for window, taken_in in zip(slots.windows, slots.instances, strict=True):
            count, expiry, instance = self._live(window.key, now)
            if count > 0 and instance == taken_in:
                self._counts[window.key] = (count - 1, expiry, instance)

    async def clear(self) -> None:
        self._counts.clear()

    async def close(self) -> None:
        self._counts.clear()

    def _live(self, key: str, now: float) -> tuple[int, float, str]:
        count, expiry, instance = self._counts.get(key, (0, 0.0, ""))
        if expiry <= now:
            self._counts.pop(key, None)
            return 0, 0.0, ""
        return count, expiry, instance

    def _make_room(self) -> None:
        if len(self._counts) < MAX_TRACKED_WINDOWS:
            return
        now = self._clock()
        for key in [key for key, (_, expiry, _) in self._counts.items() if expiry <= now]:
            del self._counts[key]
        if len(self._counts) >= MAX_TRACKED_WINDOWS:
            del self._counts[next(iter(self._counts))]


# KEYS: per window its counter and its instance id; ARGV: limit and window in milliseconds per
# window, then an id for windows that start now. Returns {wait in ms} when a window is full
# (no slot taken), else {0, the instance each slot was taken in...}.
_RESERVE = """
local wait = 0
for i = 1, #KEYS, 2 do
  local w = (i + 1) / 2
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[2 * w - 1]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl < 0 then
      redis.call('PEXPIRE', KEYS[i], ARGV[2 * w])
      ttl = tonumber(ARGV[2 * w])
    end
    if ttl > wait then wait = ttl end
  end
end
if wait > 0 then return {wait} end
local taken = {0}
for i = 1, #KEYS, 2 do
  local w = (i + 1) / 2
  if redis.call('INCR', KEYS[i]) == 1 then
    redis.call('PEXPIRE', KEYS[i], ARGV[2 * w])
    redis.call('SET', KEYS[i + 1], ARGV[#ARGV], 'PX', ARGV[2 * w])
  end
  taken[w + 1] = redis.call('GET', KEYS[i + 1]) or ''
end
return taken
"""

# KEYS: as for _RESERVE; ARGV: the limit per window. Returns the wait in ms (0: none full).
_FULL_FOR = """
local wait = 0
for i = 1, #KEYS, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  if count >= tonumber(ARGV[(i + 1) / 2]) then
    local ttl = redis.call('PTTL', KEYS[i])
    if ttl > wait then wait = ttl end
  end
end
return wait
"""

# KEYS: as for _RESERVE; ARGV: the instance each slot was taken in.
_GIVE_BACK = """
for i = 1, #KEYS, 2 do
  local count = tonumber(redis.call('GET', KEYS[i]) or '0')
  local instance = redis.call('GET', KEYS[i + 1]) or ''
  if count > 0 and instance == ARGV[(i + 1) / 2] then redis.call('DECR', KEYS[i]) end
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
        self._full_for = self._redis.register_script(_FULL_FOR)
        self.description = f"shared through Redis (keys {prefix}*)"

    async def reserve(self, windows: list[Window]) -> Slots | float:
        arguments: list[int | str] = []
        for window in windows:
            arguments += [window.limit, max(1, math.ceil(window.window_seconds * 1000))]
        arguments.append(secrets.token_hex(8))  # the id of any window that starts now
        try:
            answer = await self._reserve(keys=self._keys(windows), args=arguments)
        except RedisError as error:  # fail closed: an attempt that cannot be counted is refused
            raise ServiceUnavailable(
                "sign-in is briefly unavailable: the attempt counter it needs (Redis) cannot be "
                "reached, and attempts are refused rather than let through uncounted; try again "
                "in a few seconds"
            ) from error
        if int(answer[0]):
            return int(answer[0]) / 1000
        instances = tuple(_text(instance) for instance in answer[1:])
        return Slots(tuple(windows), instances)

    async def full_for(self, windows: list[Window]) -> float:
        limits = [window.limit for window in windows]
        try:
            wait = await self._full_for(keys=self._keys(windows), args=limits)
        except RedisError as error:  # fail closed, as reserve does
            raise ServiceUnavailable(
                "registration is briefly unavailable: the attempt counter it needs (Redis) "
                "cannot be reached; try again in a few seconds"
            ) from error
        return int(wait) / 1000

    async def give_back(self, slots: Slots) -> None:
        try:
            await self._give_back(keys=self._keys(list(slots.windows)), args=list(slots.instances))
        except RedisError as error:  # the attempt stays counted: errs on the safe side
            log.warning("attempt not given back: Redis unreachable", error=str(error))

    async def clear(self) -> None:
        async for key in self._redis.scan_iter(match=f"{self._prefix}*"):
            await self._redis.delete(key)

    async def close(self) -> None:
        await self._redis.aclose()

    def _keys(self, windows: list[Window]) -> list[str]:
        """Per window: its counter, then its instance id."""
        keys = []
        for window in windows:
            keys += [self._prefix + window.key, f"{self._prefix}{window.key}:instance"]
        return keys


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def attempt_windows(broadcast_url: str, namespace: str) -> AttemptWindows:
    """Shared through Redis when the broker is Redis (several processes), else in memory."""
    if broadcast_url.startswith(("redis://", "rediss://")):
        return RedisAttemptWindows(broadcast_url, prefix=f"tradegraph:{namespace}:attempts:")
    return MemoryAttemptWindows()
