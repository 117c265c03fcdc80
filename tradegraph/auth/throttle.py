"""Failed-login throttling per email, in this process."""

from __future__ import annotations

import time
from collections import deque

MAX_TRACKED_EMAILS = 100_000


class LoginThrottle:
    """Locks an email after `max_failures` failures within `window_seconds`."""

    def __init__(self, max_failures: int, window_seconds: float) -> None:
        self.max_failures = max_failures
        self.window_seconds = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def retry_after(self, email: str) -> float:
        """Seconds until the email may try again; 0 when it may try now."""
        failures = self._recent(email)
        if len(failures) < self.max_failures:
            return 0.0
        return max(0.0, failures[0] + self.window_seconds - time.monotonic())

    def record_failure(self, email: str) -> None:
        self._recent(email).append(time.monotonic())

    def reset(self, email: str) -> None:
        self._failures.pop(email, None)

    def clear(self) -> None:
        self._failures.clear()

    def _recent(self, email: str) -> deque[float]:
        if email not in self._failures and len(self._failures) >= MAX_TRACKED_EMAILS:
            del self._failures[next(iter(self._failures))]  # bounded memory: forget the oldest
        failures = self._failures.setdefault(email, deque(maxlen=self.max_failures))
        cutoff = time.monotonic() - self.window_seconds
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures
