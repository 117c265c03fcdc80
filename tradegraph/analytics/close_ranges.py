"""Highest close, lowest close and largest fall (1 - a close / the highest close before it) of
any range of bars, for many ranges at once, without visiting their bars.

Built once per set of closes: the bars in blocks of BLOCK; per bar, the three figures of its
block up to it (prefix) and from it (suffix); per run of 2^k blocks, the three figures of the
run (a sparse table, log2(blocks) levels). A range spanning several blocks is its first
block's suffix, whole runs of blocks, and its last block's prefix, combined left to right:
the fall of A then B is the larger of A's, B's, and 1 - B's lowest / A's highest."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BLOCK = 64


@dataclass(frozen=True)
class Extremes:
    high: np.ndarray
    low: np.ndarray
    fall: np.ndarray

    def then(self, other: Extremes, where: np.ndarray | None = None) -> Extremes:
        """These ranges followed by `other`'s (only where `where`, if given)."""
        fall = np.maximum(np.maximum(self.fall, other.fall), 1 - other.low / self.high)
        joined = Extremes(np.maximum(self.high, other.high), np.minimum(self.low, other.low), fall)
        if where is None:
            return joined
        return Extremes(
            *(np.where(where, a, b) for a, b in zip(_parts(joined), _parts(self), strict=True))
        )


def _parts(extremes: Extremes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return extremes.high, extremes.low, extremes.fall


class CloseRanges:
    def __init__(self, closes: np.ndarray) -> None:
        n = len(closes)
        blocks = -(-n // BLOCK)
        padded = np.empty(blocks * BLOCK)
        padded[:n] = closes
        padded[n:] = closes[-1] if n else 1.0  # repeats of the last close change nothing
        rows = padded.reshape(blocks, BLOCK)
        high = np.maximum.accumulate(rows, axis=1)
        low = np.minimum.accumulate(rows, axis=1)
        fall = np.maximum.accumulate(1 - rows / high, axis=1)
        self.prefix = Extremes(high.ravel(), low.ravel(), fall.ravel())
        back = rows[:, ::-1]
        back_high = np.maximum.accumulate(back, axis=1)
        back_low = np.minimum.accumulate(back, axis=1)
        back_fall = np.maximum.accumulate(1 - back_low / back, axis=1)  # from each bar on
        self.suffix = Extremes(
            *(part[:, ::-1].ravel() for part in (back_high, back_low, back_fall))
        )
        last = np.arange(blocks) * BLOCK + BLOCK - 1
        self.levels = [Extremes(high.ravel()[last], low.ravel()[last], fall.ravel()[last])]
        while 2 ** len(self.levels) <= blocks:
            below, width = self.levels[-1], 2 ** (len(self.levels) - 1)
            left = Extremes(*(part[:-width] for part in _parts(below)))
            right = Extremes(*(part[width:] for part in _parts(below)))
            self.levels.append(left.then(right))

    def of(self, starts: np.ndarray, stops: np.ndarray) -> Extremes:
        """The figures of each range [starts[i], stops[i]) that spans at least two blocks."""
        first, last = starts // BLOCK, (stops - 1) // BLOCK
        result = Extremes(*(part[starts] for part in _parts(self.suffix)))
        position = first + 1
        for level in range(len(self.levels) - 1, -1, -1):
            width = 2**level
            take = last - position >= width
            if not take.any():
                continue
            at = np.minimum(position, len(self.levels[level].high) - 1)
            run = Extremes(*(part[at] for part in _parts(self.levels[level])))
            result = result.then(run, take)
            position = position + width * take
        tail = Extremes(*(part[stops - 1] for part in _parts(self.prefix)))
        return result.then(tail)
