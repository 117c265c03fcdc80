"""CSV cells: formulas neutralised, numbers left numeric."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from tradegraph.web.exports import _text


@pytest.mark.parametrize(
    "text",
    [
        '=HYPERLINK("http://x")',
        "+1+2",
        "-1+2",
        "-2+3+cmd|' /C calc'!A0",
        "@SUM(A1)",
        "\tx",
        "\rx",
        "=1",
        "-",
        "+",
        "-12.50 ",
    ],
)
def test_text_that_a_spreadsheet_would_run_is_prefixed(text: str) -> None:
    assert _text(text) == "'" + text


@pytest.mark.parametrize("text", ["PETR4", "csv-1", "a=b", "", "12", "-12.50", "+3"])
def test_other_text_and_plain_numbers_are_unchanged(text: str) -> None:
    assert _text(text) == text


def test_numbers_dates_and_nulls_keep_their_form() -> None:
    assert _text(Decimal("-12.50")) == "-12.50"
    assert _text(Decimal("-1E+2")) == "-100"
    assert _text(None) == ""
    assert _text(datetime(2026, 1, 2, tzinfo=UTC)) == "2026-01-02T00:00:00+00:00"
