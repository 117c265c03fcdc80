"""parse_decimal: the only text accepted as a number, and limits that are never rounded away."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from tradegraph.decimals import parse_decimal
from tradegraph.errors import InvalidInput


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", Decimal(0)),
        ("-101.25", Decimal("-101.25")),
        ("+7", Decimal(7)),
        ("0007.50", Decimal("7.50")),
        ("999999999999999999.9999999999999999", Decimal("999999999999999999.9999999999999999")),
        ("0." + "0" * 40 + "1", Decimal("1E-41")),
    ],
)
def test_plain_ascii_decimals_are_taken_exactly(text: str, expected: Decimal) -> None:
    parsed = parse_decimal(text, "price")
    assert parsed == expected
    assert str(parsed) == str(Decimal(text))  # no rounding, not even of the exponent


@pytest.mark.parametrize(
    "text",
    [
        "1_000",
        "١٢",
        "\uff11\uff12",  # fullwidth digits
        "1e5",
        "1E5",
        " 1",
        "1\n",
        "1 000",
        ".5",
        "5.",
        "+-1",
        "NaN",
        "-Infinity",
        "sNaN",
        "",
        "0x10",
        "1,5",
        "²",
    ],
)
def test_anything_but_plain_ascii_is_refused_with_the_field(text: str) -> None:
    with pytest.raises(InvalidInput, match="ASCII digits") as raised:
        parse_decimal(text, "price")
    assert raised.value.details == {"field": "price"}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("1000000000000000000", "below 10^18"),
        ("-1000000000000000000", "below 10^18"),
        (10**18, "below 10^18"),
        ("1." + "0" * 33 + "1", "more than 34 significant digits"),
        (Decimal("NaN"), "finite"),
        (Decimal("Infinity"), "finite"),
        ("1" * 101, "too long"),
        (True, "must be a decimal number"),
        (1.5, "must be a decimal number"),  # floats are converted by the caller, knowingly
    ],
)
def test_out_of_range_or_too_precise_values_are_refused(value: object, reason: str) -> None:
    with pytest.raises(InvalidInput, match=re.escape(reason)):
        parse_decimal(value, "amount")  # type: ignore[arg-type]  # refusals of any value
