"""Fixed-width time buckets aligned to the Unix epoch (UTC): candles and event series share them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def bucket_start(moment: datetime, width_seconds: int) -> datetime:
    """The start of the `width_seconds` bucket holding `moment`, to the millisecond."""
    elapsed_ms = int((moment - EPOCH) / timedelta(milliseconds=1))
    return EPOCH + timedelta(milliseconds=elapsed_ms - elapsed_ms % (width_seconds * 1000))
