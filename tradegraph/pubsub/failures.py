"""A failure that repeats (every tick, every publish while Redis is down) is logged once with
its traceback, then counted; a one-line summary follows when it ends or changes."""

from __future__ import annotations

from typing import Any

import structlog


class RepeatedFailure:
    """Logs the first occurrence of a failure, counts repeats of the same one (same exception
    type and message), and logs how many there were once it stops or turns into another."""

    def __init__(self, event: str, logger: Any = None) -> None:
        self.event = event
        self.total = 0  # every failure ever recorded, for /metrics
        self._log = logger or structlog.get_logger(__name__)
        self._current: str | None = None
        self._repeats = 0

    @property
    def ongoing(self) -> bool:
        return self._current is not None

    def failed(self, error: BaseException, **fields: Any) -> None:
        """Records one failure: logged (with traceback) only when it differs from the last."""
        self.total += 1
        signature = f"{type(error).__name__}: {error}"
        if signature == self._current:
            self._repeats += 1
            return
        self._summarise("changed", self._log.warning)
        self._current, self._repeats = signature, 0
        self._log.error(self.event, error=signature, exc_info=error, **fields)

    def recovered(self, **fields: Any) -> None:
        """The operation succeeded again: closes the ongoing failure with its repeat count."""
        if self._current is None:
            return
        self._summarise("ended", self._log.info, **fields)
        self._current, self._repeats = None, 0

    def _summarise(self, how: str, write: Any, **fields: Any) -> None:
        if self._current is None:
            return
        write(
            f"{self.event}: failure {how}",
            error=self._current,
            repeated=self._repeats,
            **fields,
        )
