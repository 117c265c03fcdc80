"""Throttling of password guesses, of logins and of "email taken" answers, per client address.

Login counts a guess per (email, client address) and per client address across emails, before
the password is verified: someone guessing from elsewhere never locks the owner out, and no
number of concurrent requests gets more guesses verified than the limits allow. Logins with
the right password are counted per (email, client address) too, at a higher limit: each is an
argon2 verification, a few tens of milliseconds of a core.
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


LOGINS_WINDOW_SECONDS = 60.0
LOGINS_KIND = "login-any"  # the window of logins of any outcome, kept after a success


class LoginThrottle:
    """At most `max_failures` failed logins per (email, address) and `max_failures_per_address`
    per address, each within `window_seconds`; and at most `max_logins_per_minute` logins of
    any outcome per (email, address): a correct password is an argon2 verification too, and
    one account must not keep a core busy with them."""

    def __init__(
        self,
        windows: AttemptWindows,
        max_failures: int,
        max_failures_per_address: int,
        window_seconds: float,
        max_logins_per_minute: int,
    ) -> None:
        self.windows = windows
        self.max_failures = max_failures
        self.max_failures_per_address = max_failures_per_address
        self.window_seconds = window_seconds
        self.max_logins_per_minute = max_logins_per_minute

    async def reserve(self, email: str, address: str) -> Slots:
        """Counts this attempt as a failure until `succeeded`, and as a login; TooManyRequests
        when a limit is reached, before any password is looked at."""
        logins = self._logins(email, address)
        taken = await self.windows.reserve([*self._windows(email, address), logins])
        if not isinstance(taken, Slots):
            if await self.windows.full_for([logins]) > 0:
                raise _refusal("logins to this account", taken)
            raise _refusal("failed logins", taken)
        return taken

    async def succeeded(self, slots: Slots) -> None:
        """Gives back the failure slots this attempt took, and only those: the login itself
        stays counted."""
        kept = [
            (window, instance)
            for window, instance in zip(slots.windows, slots.instances, strict=True)
            if not window.key.startswith(LOGINS_KIND + ":")  # window_key's form
        ]
        await self.windows.give_back(
            Slots(tuple(w for w, _ in kept), tuple(instance for _, instance in kept))
        )

    def _logins(self, email: str, address: str) -> Window:
        key = window_key(LOGINS_KIND, email, address)
        return Window(key, self.max_logins_per_minute, LOGINS_WINDOW_SECONDS)

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
