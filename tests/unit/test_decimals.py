"""decimals.py: parsing exact numbers from input, and the step, fee and text helpers."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from bson import Decimal128

from tradegraph.decimals import (
    Scales,
    at_places,
    exact,
    fee_of,
    is_multiple,
    parse_decimal,
    plain,
    require_positive,
    round_to_step,
    to_decimal,
)
from tradegraph.errors import InvalidInput

TOO_PRECISE = "price has more than 34 significant digits; it is not rounded for you"
DECIMAL_TEXT = (
    "price must be a decimal number written with ASCII digits, an optional sign and decimal "
    'point, such as "-101.25"'
)


def refusal(value: object) -> str:
    with pytest.raises(InvalidInput) as refused:
        parse_decimal(value, "price")  # type: ignore[arg-type]  # refusals of any value
    assert refused.value.details == {"field": "price"}
    return refused.value.message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("101.25", "101.25"),
        ("-3", "-3"),
        ("+7.5", "7.5"),
        ("0", "0"),
        ("0.00000001", "0.00000001"),
        ("000123.4500", "123.4500"),
        (42, "42"),
        (Decimal("9.99"), "9.99"),
    ],
)
def test_plain_decimal_numbers_are_read_exactly(text: str | int, expected: str) -> None:
    # Sign, digits and exponent alike: 123.4500 keeps its scale.
    assert parse_decimal(text, "price").as_tuple() == Decimal(expected).as_tuple()


@pytest.mark.parametrize("text", ["NaN", "-nan", "sNaN", "Infinity", "-Infinity", "inf"])
def test_nan_and_infinities_are_refused(text: str) -> None:
    assert refusal(text) == DECIMAL_TEXT


def test_a_decimal_nan_object_is_refused_too() -> None:
    assert refusal(Decimal("NaN")) == "price must be a finite decimal number"


@pytest.mark.parametrize("text", ["", "abc", "1,5", "0x10", "1.2.3", "--1"])
def test_text_that_is_no_number_is_refused(text: str) -> None:
    assert refusal(text) == DECIMAL_TEXT


def test_34_significant_digits_are_accepted_and_35_refused() -> None:
    digits = "1234567890" * 3 + "1234"
    assert parse_decimal("0." + digits, "price") == Decimal("0." + digits)
    assert refusal("0." + digits + "5") == TOO_PRECISE


def test_trailing_zeros_count_as_significant_digits() -> None:
    assert refusal("1." + "0" * 34) == TOO_PRECISE


@pytest.mark.parametrize("text", ["999999999999999999", "-999999999999999999.99"])
def test_magnitudes_below_10_to_the_18_are_accepted(text: str) -> None:
    assert parse_decimal(text, "price") == Decimal(text)


@pytest.mark.parametrize("text", ["1000000000000000000", "-1000000000000000000", "1E+18", "1e30"])
def test_magnitudes_of_10_to_the_18_or_more_are_refused(text: str) -> None:
    value = Decimal(text) if "e" in text.lower() else text  # text may not use an exponent
    assert refusal(value).startswith("price is too large")


@pytest.mark.parametrize(
    "text",
    [
        "1_000",  # digit grouping
        "\u0661\u0662",  # Arabic-Indic digits: ١٢
        "\uff11\uff12",  # fullwidth digits
        "1e5",  # exponent
        "1E+2",
        " 1",  # surrounding whitespace
        "1 ",
        ".5",  # no digit before the point
        "1.",  # no digit after it
    ],
)
def test_only_ascii_digits_with_an_optional_sign_and_point_are_decimal_text(text: str) -> None:
    refusal(text)


def test_stored_numbers_are_read_back_exactly() -> None:
    assert to_decimal(Decimal128("101.25")) == Decimal("101.25")
    assert to_decimal("0.1") == Decimal("0.1")
    assert to_decimal(3) == Decimal(3)
    with pytest.raises(TypeError):
        to_decimal(0.1)  # a float is never exact enough to be money


def test_require_positive_refuses_zero_and_below() -> None:
    assert require_positive(Decimal("0.01"), "amount") == Decimal("0.01")
    for bad in ("0", "-1"):
        with pytest.raises(InvalidInput) as refused:
            require_positive(Decimal(bad), "amount")
        assert refused.value.details == {"field": "amount"}


def test_multiples_of_a_step_and_no_step_of_zero() -> None:
    assert is_multiple(Decimal("1.25"), Decimal("0.05"))
    assert not is_multiple(Decimal("1.26"), Decimal("0.05"))
    assert is_multiple(Decimal(0), Decimal("0.05"))
    assert not is_multiple(Decimal(1), Decimal(0))
    assert not is_multiple(Decimal(1), Decimal(-1))


@pytest.mark.parametrize(
    ("value", "up", "expected"),
    [
        ("100.131", True, "100.14"),
        ("100.131", False, "100.13"),
        ("100.13", True, "100.13"),
        ("-0.005", True, "0.00"),
        ("-0.005", False, "-0.01"),
    ],
)
def test_rounding_to_a_step_goes_the_asked_way(value: str, up: bool, expected: str) -> None:
    assert round_to_step(Decimal(value), Decimal("0.01"), up=up) == Decimal(expected)


def test_fees_are_basis_points_rounded_down_to_the_cash_scale() -> None:
    assert str(fee_of(Decimal(1000), Decimal(10), 2)) == "1.00"
    assert str(fee_of(Decimal("37.61"), Decimal(10), 2)) == "0.03"  # 0.03761: down, not up
    assert fee_of(Decimal("0.00000015"), Decimal(5000), 8) == Decimal("0.00000007")  # .075 down
    assert str(fee_of(Decimal(12345), Decimal(10), 0)) == "12"  # JPY: whole yen
    assert fee_of(Decimal("123.45"), Decimal(0), 2) == Decimal(0)


def test_partial_fills_never_pay_more_fee_than_the_whole_order_reserved() -> None:
    reserved = fee_of(Decimal(7) * Decimal("10.07"), Decimal(15), 2)
    parts = [fee_of(Decimal(n) * Decimal("10.07"), Decimal(15), 2) for n in (1, 2, 4)]
    assert sum(parts) <= reserved


def test_plain_text_never_uses_exponent_notation() -> None:
    assert plain(Decimal("1E+2")) == "100"
    assert plain(Decimal("1E-8")) == "0.00000001"
    assert plain(Decimal("101.2500")) == "101.2500"


@pytest.mark.parametrize(
    ("value", "places", "expected"),
    [
        ("0.125", 2, "0.12"),  # a half goes to the even neighbour
        ("0.135", 2, "0.14"),
        ("-0.125", 2, "-0.12"),
        ("2.5", 0, "2"),
        ("7", 2, "7.00"),
        ("1.23456789", 8, "1.23456789"),
    ],
)
def test_at_places_rounds_half_even_to_exactly_that_many_decimals(
    value: str, places: int, expected: str
) -> None:
    assert str(at_places(Decimal(value), places)) == expected


def test_at_places_fits_numbers_longer_than_the_default_precision() -> None:
    # 30 digits at 8 places: 38 digits, more than the default 28 of Python's context
    big = Decimal("123456789012345678901234567890")
    assert plain(at_places(big, 8)) == "123456789012345678901234567890.00000000"


def test_a_float_is_taken_as_the_number_it_stands_for() -> None:
    assert exact(0.1 + 0.2) == Decimal("0.30000000000000004")
    assert exact(2.675) == Decimal("2.675")  # Decimal(2.675) would be 2.67499999…
    assert exact(Decimal("1.50")) == Decimal("1.50")
    assert exact(np.float64(0.1)) == Decimal("0.1")  # numpy's repr is np.float64(0.1)
    assert exact(3) == Decimal(3)


def test_scales_show_prices_at_the_tick_and_cash_at_the_currency() -> None:
    usd = Scales.of(Decimal("0.01"), "USD")
    assert str(usd.price(37.125)) == "37.12"
    assert str(usd.price(Decimal("37.135"))) == "37.14"
    assert str(usd.cash(2.675)) == "2.68"  # the float's binary value would round down
    assert str(usd.cash(10_000.0)) == "10000.00"
    assert str(usd.cash(0.1 + 0.2)) == "0.30"
    fx = Scales.of(Decimal("0.00001"), "JPY")
    assert str(fx.price(151.2)) == "151.20000"
    assert str(fx.cash(1234.5)) == "1234"
    crypto = Scales.of(Decimal("0.5"), "USDT")
    assert str(crypto.price(10)) == "10.0"
    assert str(crypto.cash(-1.5)) == "-1.50000000"


def test_without_an_instrument_prices_stay_as_computed_and_cash_has_two_decimals() -> None:
    unknown = Scales.of(None, None)
    assert unknown.price(37.123456) == Decimal("37.123456")
    assert str(unknown.cash(1.005)) == "1.00"
