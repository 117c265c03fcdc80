"""Indicators against independent reference implementations and known values."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

from tests.support import reference_indicators as reference
from tradegraph.analytics import indicators
from tradegraph.analytics.indicators import IndicatorKind, IndicatorSpec
from tradegraph.errors import InvalidInput

RNG = random.Random(11)
CLOSES = [100.0]
for _ in range(299):
    CLOSES.append(CLOSES[-1] * math.exp(RNG.gauss(0, 0.02)))
ARRAY = np.array(CLOSES)


def assert_series(actual: np.ndarray, expected: list[float | None]) -> None:
    assert len(actual) == len(expected)
    for got, want in zip(actual, expected, strict=True):
        if want is None:
            assert math.isnan(got)
        else:
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("n", [1, 5, 20])
def test_sma_and_ema_match_their_definitions(n: int) -> None:
    assert_series(indicators.sma(ARRAY, n), reference.sma(CLOSES, n))
    assert_series(indicators.ema(ARRAY, n), reference.ema(CLOSES, n))


def test_ema_is_seeded_with_the_simple_mean() -> None:
    values = indicators.ema(np.array([1.0, 2.0, 3.0, 4.0]), 3)
    assert math.isnan(values[1])
    assert values[2] == 2.0  # SMA(3) of 1, 2, 3
    assert values[3] == pytest.approx(0.5 * 4 + 0.5 * 2)  # alpha = 2 / (3 + 1)


@pytest.mark.parametrize("n", [2, 14])
def test_rsi_uses_wilder_smoothing(n: int) -> None:
    assert_series(indicators.rsi(ARRAY, n), reference.rsi(CLOSES, n))


def test_rsi_is_100_without_losses_and_textbook_on_a_known_series() -> None:
    assert indicators.rsi(np.arange(1.0, 20.0), 14)[-1] == 100.0
    # Changes +1, +1, 0: average gain 2/3, average loss 0, so RSI 100 at the 4th close.
    values = indicators.rsi(np.array([10.0, 11.0, 12.0, 12.0, 11.0]), 3)
    assert [math.isnan(v) for v in values[:3]] == [True, True, True]
    assert values[3] == 100.0
    # Then -1: average gain (2/3 * 2 + 0) / 3 = 4/9, average loss (0 * 2 + 1) / 3 = 1/3: RS 4/3.
    assert values[4] == pytest.approx(100 - 100 / (1 + 4 / 3))


def test_macd_line_signal_and_histogram() -> None:
    line, signal, histogram = indicators.macd(ARRAY, 12, 26, 9)
    expected = reference.macd(CLOSES, 12, 26, 9)
    assert_series(signal, [None if e is None else e[1] for e in expected])
    defined = ~np.isnan(signal)
    assert int(np.argmax(defined)) == 26 + 9 - 2  # the first candle with a signal
    assert_series(line[defined], [e[0] for e in expected if e is not None])
    assert_series(histogram[defined], [e[2] for e in expected if e is not None])


def test_bollinger_uses_the_population_standard_deviation() -> None:
    upper, middle, lower = indicators.bollinger(ARRAY, 20, 2.0)
    expected = reference.bollinger(CLOSES, 20, 2.0)
    assert_series(upper, [None if e is None else e[0] for e in expected])
    assert_series(middle, [None if e is None else e[1] for e in expected])
    assert_series(lower, [None if e is None else e[2] for e in expected])
    flat_upper, _, _ = indicators.bollinger(
        np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]), 8, 1.0
    )
    assert flat_upper[-1] == pytest.approx(5.0 + 2.0)  # mean 5, population stddev 2


@pytest.mark.parametrize(
    "spec",
    [
        IndicatorSpec(IndicatorKind.SMA, period=0),
        IndicatorSpec(IndicatorKind.EMA, period=-3),
        IndicatorSpec(IndicatorKind.SMA),
        IndicatorSpec(IndicatorKind.MACD, fast=26, slow=12),
        IndicatorSpec(IndicatorKind.MACD, fast=12, slow=12),
        IndicatorSpec(IndicatorKind.BOLLINGER, period=20, stddev=0),
    ],
)
def test_impossible_parameters_are_bad_user_input(spec: IndicatorSpec) -> None:
    with pytest.raises(InvalidInput):
        spec.checked()
