"""analytics/close_ranges.py against the definition, range by range."""

from __future__ import annotations

import numpy as np
import pytest

from tradegraph.analytics.close_ranges import BLOCK, CloseRanges


def by_definition(closes: np.ndarray, start: int, stop: int) -> tuple[float, float, float]:
    part = closes[start:stop]
    return part.max(), part.min(), float((1 - part / np.maximum.accumulate(part)).max())


@pytest.mark.parametrize("n", [2 * BLOCK + 1, 1000, 5 * BLOCK])
def test_every_range_over_two_blocks_or_more_has_its_high_low_and_fall(n: int) -> None:
    rng = np.random.default_rng(n)
    closes = 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))
    ranges = CloseRanges(closes)
    starts = rng.integers(0, n - BLOCK - 1, 300)
    stops = np.array([rng.integers((s // BLOCK + 1) * BLOCK + 1, n + 1) for s in starts])
    found = ranges.of(starts, stops)
    for i, (start, stop) in enumerate(zip(starts, stops, strict=True)):
        high, low, fall = by_definition(closes, start, stop)
        assert (found.high[i], found.low[i]) == (high, low)
        assert found.fall[i] == pytest.approx(fall, rel=1e-12, abs=1e-15)
