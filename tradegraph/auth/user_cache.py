"""The stored account behind an access token, re-read every few seconds.

A token's claims are only what was true when it was issued. Every request and every operation
asks this cache instead, so a deleted account stops working and a changed role applies within
`ttl_seconds`, at the cost of at most one read per user per `ttl_seconds` per process.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from tradegraph.auth.principal import Principal
from tradegraph.documents import User

MAX_CACHED_USERS = 10_000


class UserCache:
    """Principals by user id as the store has them; a missing account is cached as None."""

    def __init__(self, load: Callable[[str], Awaitable[User | None]], ttl_seconds: float) -> None:
        self._load = load
        self.ttl_seconds = ttl_seconds
        self._entries: dict[str, tuple[float, Principal | None]] = {}

    async def principal(self, user_id: str) -> Principal | None:
        """The user's current principal; None when the account no longer exists."""
        now = time.monotonic()
        cached = self._entries.get(user_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await self._load(user_id)
        principal = Principal.of(user) if user else None
        if self.ttl_seconds > 0:
            self._remember(user_id, now + self.ttl_seconds, principal)
        return principal

    def forget(self, user_id: str | None = None) -> None:
        """Drops one user's entry (after a change made here), or all of them."""
        if user_id is None:
            self._entries.clear()
        else:
            self._entries.pop(user_id, None)

    def _remember(self, user_id: str, expires: float, principal: Principal | None) -> None:
        self._entries.pop(user_id, None)  # re-inserted last: the dict's order is the age order
        if len(self._entries) >= MAX_CACHED_USERS:
            del self._entries[next(iter(self._entries))]
        self._entries[user_id] = (expires, principal)
