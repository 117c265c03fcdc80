"""reported: what the event aggregates may say, whatever MongoDB summed."""

from __future__ import annotations

import math

from tradegraph.events.summary import reported


def test_inf_and_nan_never_leave_the_summary() -> None:
    for value in (math.inf, -math.inf, math.nan, 1e308 * 10):
        assert math.isfinite(reported(value)), value
    assert reported(math.inf) == 1.7976931348623157e308
    assert reported(-math.inf) == -1.7976931348623157e308


def test_float_artefacts_are_rounded_away_and_real_digits_kept() -> None:
    assert reported(0.1 + 0.2) == 0.3
    assert reported(12345678901234.5) == 12345678901234.5  # 15 digits: all kept
    assert reported(1e15 + 0.5) == 1e15  # a 16th digit is below a double's noise after sums
    assert reported(123456789.123456) == 123456789.123456
    assert reported(1e-7) == 1e-7
    assert reported(7) == 7.0
