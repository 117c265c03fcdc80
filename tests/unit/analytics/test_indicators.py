"""analytics/indicators.py edge cases: short series, period 1, flat series, impossible
parameters, NaN warm-ups. (Values against reference implementations:
tests/e2e/test_indicators.py.)"""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradegraph.analytics import indicators
from tradegraph.analytics.indicators import Columns, IndicatorKind, IndicatorSpec, compute
from tradegraph.errors import InvalidInput

CLOSES = np.array([10.0, 11.0, 12.5, 12.0, 13.0, 12.0])
NAN = math.nan


def same(actual: np.ndarray, expected: list[float]) -> bool:
    """Equal element by element, NaN equal to NaN."""
    return bool(np.array_equal(actual, np.array(expected), equal_nan=True))


@pytest.mark.parametrize(
    "spec",
    [
        IndicatorSpec(IndicatorKind.SMA, period=7),
        IndicatorSpec(IndicatorKind.EMA, period=7),
        IndicatorSpec(IndicatorKind.RSI, period=6),  # needs period + 1 closes
        IndicatorSpec(IndicatorKind.BOLLINGER, period=7),
        IndicatorSpec(IndicatorKind.MACD, fast=3, slow=7, signal=2),
    ],
)
def test_with_fewer_closes_than_the_period_nothing_is_defined(spec: IndicatorSpec) -> None:
    columns = compute(spec, CLOSES)
    assert not columns.defined().any()
    for column in vars(columns).values():
        if column is not None:
            assert len(column) == len(CLOSES)
            assert np.isnan(column).all()


@pytest.mark.parametrize("kind", list(IndicatorKind))
def test_an_empty_series_gives_empty_columns(kind: IndicatorKind) -> None:
    period = None if kind is IndicatorKind.MACD else 3
    columns = compute(IndicatorSpec(kind, period=period), np.array([]))
    assert len(columns.defined()) == 0


def test_sma_and_ema_of_period_1_are_the_closes() -> None:
    assert same(indicators.sma(CLOSES, 1), list(CLOSES))
    assert same(indicators.ema(CLOSES, 1), list(CLOSES))


def test_rsi_of_period_1_is_100_after_a_rise_and_0_after_a_fall() -> None:
    assert same(indicators.rsi(CLOSES, 1), [NAN, 100.0, 100.0, 0.0, 100.0, 0.0])


def test_bollinger_of_period_1_collapses_onto_the_closes() -> None:
    upper, middle, lower = indicators.bollinger(CLOSES, 1, 2.0)
    assert same(upper, list(CLOSES))
    assert same(middle, list(CLOSES))
    assert same(lower, list(CLOSES))


def test_a_flat_series_has_rsi_100_because_it_has_no_losses() -> None:
    # The implementation's rule (no average loss → 100), which a flat series also meets.
    values = indicators.rsi(np.full(20, 42.0), 14)
    assert np.isnan(values[:14]).all()
    assert (values[14:] == 100.0).all()


def test_a_flat_series_has_bands_of_zero_width_and_a_zero_macd() -> None:
    flat = np.full(40, 42.0)
    upper, middle, lower = indicators.bollinger(flat, 20, 2.0)
    for band in (upper, middle, lower):
        assert (band[19:] == 42.0).all()
    line, signal, histogram = indicators.macd(flat, 12, 26, 9)
    assert (line[25:] == 0.0).all()
    assert (signal[33:] == 0.0).all()
    assert (histogram[33:] == 0.0).all()


def test_ema_seeding_skips_a_warm_up_of_nans() -> None:
    values = np.array([NAN, NAN, 1.0, 2.0, 3.0, 4.0])
    # Seeded with mean(1, 2, 3) at the 3rd defined value, then alpha 0.5.
    assert same(indicators.seeded_ema(values, 3, 0.5), [NAN, NAN, NAN, NAN, 2.0, 3.0])


def test_an_all_nan_series_stays_undefined() -> None:
    assert np.isnan(indicators.seeded_ema(np.full(5, NAN), 2, 0.5)).all()


def test_macd_signal_starts_once_the_line_has_signal_values() -> None:
    line, signal, _ = indicators.macd(np.arange(1.0, 13.0), 3, 5, 4)
    assert int(np.argmax(~np.isnan(line))) == 4  # EMA(5) needs 5 closes
    assert int(np.argmax(~np.isnan(signal))) == 4 + 4 - 1


def test_points_start_where_every_column_is_defined() -> None:
    columns = Columns(value=np.array([NAN, 1.0, 2.0, 3.0]), signal=np.array([NAN, NAN, 1.0, 2.0]))
    assert columns.defined().tolist() == [False, False, True, True]


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (IndicatorSpec(IndicatorKind.MACD, fast=12, slow=12), "fast"),
        (IndicatorSpec(IndicatorKind.MACD, fast=30), "fast"),  # default slow 26
        (IndicatorSpec(IndicatorKind.MACD, fast=0), "fast"),
        (IndicatorSpec(IndicatorKind.MACD, signal=-1), "signal"),
        (IndicatorSpec(IndicatorKind.BOLLINGER, stddev=0.0), "stddev"),
        (IndicatorSpec(IndicatorKind.BOLLINGER, stddev=-1.5), "stddev"),
        (IndicatorSpec(IndicatorKind.RSI, period=0), "period"),
        (IndicatorSpec(IndicatorKind.EMA), "period"),
    ],
)
def test_impossible_parameters_are_refused_naming_the_parameter(
    spec: IndicatorSpec, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        spec.checked()
    assert refused.value.details == {"field": field}


def test_defaults_fill_in_and_show_in_the_name() -> None:
    assert IndicatorSpec(IndicatorKind.MACD).checked().name == "MACD(12,26,9)"
    assert IndicatorSpec(IndicatorKind.BOLLINGER).checked().name == "BOLLINGER(20,2)"
    assert IndicatorSpec(IndicatorKind.RSI).checked().name == "RSI(14)"
    assert IndicatorSpec(IndicatorKind.SMA, period=5).checked().name == "SMA(5)"
