"""schema/core/scalars.py: the Decimal scalar reads strings (preferred) and numbers exactly and
writes fixed-point strings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tradegraph.schema.core.scalars import DecimalScalar


def serialize(value: Decimal) -> str:
    return DecimalScalar.serialize(value)  # type: ignore[misc]  # set by strawberry.scalar


def parse(value: object) -> Decimal:
    return DecimalScalar.parse_value(value)  # type: ignore[misc]  # set by strawberry.scalar


def test_strings_and_integers_are_read_exactly() -> None:
    assert parse("101.25") == Decimal("101.25")
    assert parse(-7) == Decimal(-7)


def test_a_float_is_read_from_its_shortest_text() -> None:
    assert parse(0.1) == Decimal("0.1")  # not 0.1000000000000000055511151231257827
    assert parse(2.675) == Decimal("2.675")


def test_a_small_float_is_accepted_although_its_shortest_text_has_an_exponent() -> None:
    # repr(1e-07) is '1e-07': a stricter text rule (issue 10) must not refuse float inputs.
    assert parse(1e-07) == Decimal("1E-7")


@pytest.mark.parametrize("value", [True, False, None, [1], {"a": 1}, b"1"])
def test_values_that_are_no_number_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="a Decimal is a string"):
        parse(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), "NaN", "-Infinity"])
def test_nan_and_infinities_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"finite|ASCII digits"):
        parse(value)


@pytest.mark.parametrize("value", ["1" + "0" * 18, 10**18, 1e18])
def test_numbers_of_10_to_the_18_or_more_are_refused(value: object) -> None:
    with pytest.raises(ValueError, match="too large"):
        parse(value)


def test_more_than_34_significant_digits_are_refused() -> None:
    with pytest.raises(ValueError, match="34 significant digits"):
        parse("0." + "1" * 35)


@pytest.mark.parametrize("value", ["1_000", "\u0661\u0662", "1e5"])
def test_only_ascii_decimal_text_is_accepted(value: str) -> None:
    with pytest.raises(ValueError, match="ASCII digits"):
        parse(value)


def test_output_is_fixed_point_text() -> None:
    assert serialize(Decimal("1E+3")) == "1000"
    assert serialize(Decimal("0.00000001")) == "0.00000001"
