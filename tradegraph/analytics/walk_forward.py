"""Walk-forward splitting: rolling windows of equal length, each an in-sample (training) part
followed by an out-of-sample (test) part; the test parts follow one another without gaps or
overlap, so their equity curves stitch into one out-of-sample curve.

With n bars, k folds and train fraction f, a window holds W = n / (f + k(1 - f)) bars: the
first train part is bars [0, round(W·f)), and the test parts split the rest into k equal
parts (the last takes the remainder). Fold i trains on the round(W·f) bars before its test.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from tradegraph.analytics.backtest_engine import Bars
from tradegraph.errors import InvalidInput

MAX_FOLDS = 20
MIN_BARS = 2


@dataclass(frozen=True)
class Split:
    """Bar indexes: train [train_start, train_stop), test [train_stop, test_stop)."""

    train_start: int
    train_stop: int
    test_stop: int


def check_walk_forward(folds: int, train_fraction: float) -> None:
    if not 1 <= folds <= MAX_FOLDS:
        raise InvalidInput(f"walkForward.folds must be 1 to {MAX_FOLDS}", field="folds")
    if not (math.isfinite(train_fraction) and 0 < train_fraction < 1):
        raise InvalidInput(
            "walkForward.trainFraction must be between 0 and 1 (exclusive)",
            field="trainFraction",
        )


def splits(n: int, folds: int, train_fraction: float) -> list[Split]:
    """The folds over n bars; InvalidInput when a part would hold fewer than 2 bars."""
    check_walk_forward(folds, train_fraction)
    window = n / (train_fraction + folds * (1 - train_fraction))
    train = round(window * train_fraction)
    test = (n - train) // folds
    if train < MIN_BARS or test < MIN_BARS:
        raise InvalidInput(
            f"{n} bars are too few for {folds} walk-forward folds with trainFraction "
            f"{train_fraction}: each part needs at least {MIN_BARS} bars",
            field="walkForward",
        )
    result = []
    for i in range(folds):
        test_start = train + i * test
        test_stop = n if i == folds - 1 else test_start + test
        result.append(Split(test_start - train, test_start, test_stop))
    return result


def part(bars: Bars, start: int, stop: int) -> Bars:
    return Bars(bars.times[start:stop], bars.opens[start:stop], bars.closes[start:stop])
