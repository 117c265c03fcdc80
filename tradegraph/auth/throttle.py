"""Throttling of password guesses and of "email taken" answers, per client address.

Login counts a guess per (email, client address) and per client address across emails, before
the password is verified: someone guessing from elsewhere never locks the owner out, and no
number of concurrent requests gets more guesses verified than the limits allow.
"""

from __future__ import annotations

import math

from tradegraph.auth.attempts import AttemptWindows, Slots, Window, window_key
from tradegraph.errors import TooManyRequests


def _refusal(what: str, wait: float) -> TooManyRequests:
    seconds = max(1, math.ceil(wait))
    return TooManyRequests(
        f"too many {what} from your address; try again in {seconds} seconds",
        retry_after_seconds=seconds,
    )


class LoginThrottle:
    """At most `max_failures` failed logins per (email, address) and `max_failures_per_address`
    per address, each within `window_seconds`."""

    def __init__(
        self,
        windows: AttemptWindows,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: float,
    ) -> None:
        self.windows = windows
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window_seconds = window_seconds

    async def reserve(self, email: str, address: str) -> Slots:
        """Counts this attempt as a failure until `succeeded`; TooManyRequests when a limit is
        reached, before any password is looked at."""
        taken = await self.windows.reserve(self._windows(email, address))
        if not isinstance(taken, Slots):
            raise _refusal("failed logins", taken)
        return taken

    async def succeeded(self, slots: Slots) -> None:
        """Gives back the slots this attempt took, and only those."""
        await self.windows.give_back(slots)

    async def clear(self) -> None:
        await self.windows.clear()

    def _windows(self, email: str, address: str) -> list[Window]:
        return [
            Window(window_key("login", email, address), self.max_failures, self.window_seconds),
            Window(
                window_key("login-address", address),
                self.max_failures_per_address,
                self.window_seconds,
            ),
        ]


class RegistrationThrottle:
    """At most `max_conflicts` registrations per address within `window_seconds` may be
    answered "email taken": enumerating accounts through `register` is slow.

    Only a conflict is charged, once it is known: any number of registrations of new emails
    from one address (an office behind one proxy) pass. Once the budget is spent, every
    registration from the address is refused until the window ends, new email or not: the
    refusal itself must not tell a taken email from a free one."""

    def __init__(self, windows: AttemptWindows, max_conflicts: int, window_seconds: float) -> None:
        self.windows = windows
        self.max_conflicts = max_conflicts
        self.window_seconds = window_seconds

    async def check(self, address: str) -> None:
        """TooManyRequests when the address has spent its budget; charges nothing."""
        wait = await self.windows.full_for(self._windows(address))
        if wait > 0:
            raise _refusal("registrations of taken emails", wait)

    async def charge_conflict(self, address: str) -> None:
        """Counts one "email taken" answer; TooManyRequests (to answer instead) when the
        budget was spent meanwhile by concurrent conflicts."""
        taken = await self.windows.reserve(self._windows(address))
        if not isinstance(taken, Slots):
            raise _refusal("registrations of taken emails", taken)

    def _windows(self, address: str) -> list[Window]:
        key = window_key("register-address", address)
        return [Window(key, self.max_conflicts, self.window_seconds)]
