"""The bars of one candle bucket from one kind of storage, and how two such parts combine.

A candle's bucket can hold one-minute bars stored a day per document (seeded history,
markets/day_bars.py) and bars stored one per document (built from ticks, markets/bars.py). Each
store reads its own part; the candle is their combination, which is the candle of all their
bars together: open from the earliest bar, close from the latest, extremes and volume over
both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class BarGroup:
    """Bars of one bucket starting at `start`: `first` and `last` are the starts of the
    earliest and latest of them (minutes), which decide whose open and close the bucket has."""

    start: datetime
    first: datetime
    last: datetime
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal

    def merged(self, other: BarGroup) -> BarGroup:
        """Both parts as one; on a tie (the same minute in both) this part's open and close
        win, as a seeded bar's open and close won over a late tick folded into it."""
        return BarGroup(
            start=self.start,
            first=min(self.first, other.first),
            last=max(self.last, other.last),
            open=self.open if self.first <= other.first else other.open,
            high=max(self.high, other.high),
            low=min(self.low, other.low),
            close=self.close if self.last >= other.last else other.close,
            volume=self.volume + other.volume,
        )

    def row(self) -> dict[str, Any]:
        """The candle's fields {start, open, high, low, close, volume}."""
        return {
            "start": self.start,
            "open": self.open,
            "high": self.high,
            "low": self.low,
            "close": self.close,
            "volume": self.volume,
        }


def merge_groups(
    preferred: dict[datetime, BarGroup], others: dict[datetime, BarGroup]
) -> dict[datetime, BarGroup]:
    """Buckets of both by start; a bucket in both is their combination (`preferred` wins ties)."""
    merged = dict(others)
    for start, group in preferred.items():
        other = merged.get(start)
        merged[start] = group if other is None else group.merged(other)
    return merged
