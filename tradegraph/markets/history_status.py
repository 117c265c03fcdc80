"""Whether price history is still being loaded into this server (the demo's first run seeds a
month of bars while already serving): charts and day changes fill in once it ends, and the
dashboard says so meanwhile instead of showing one lonely candle."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime


@dataclass
class HistoryStatus:
    loading: bool = False
    started_at: datetime | None = None
    finished_at: datetime | None = None

    @contextmanager
    def loading_while(self) -> Iterator[None]:
        """Marks history as loading for the duration of the block."""
        self.loading, self.started_at, self.finished_at = True, datetime.now(UTC), None
        try:
            yield
        finally:
            self.loading, self.finished_at = False, datetime.now(UTC)
