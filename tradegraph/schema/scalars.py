"""The Decimal scalar: exact numbers as strings on the wire, never binary floats."""

from __future__ import annotations

import decimal
from typing import Any

import strawberry

from tradegraph.decimals import parse_decimal, plain


def _parse(value: Any) -> decimal.Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError('a Decimal is a string such as "101.25"')
    # A float literal is read back from its shortest text form: 0.1 stays 0.1.
    return parse_decimal(repr(value) if isinstance(value, float) else value, "value")


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number, serialised as a string ("101.25"). Inputs accept strings '
        "(preferred) or numbers; NaN and infinities are refused."
    ),
    serialize=plain,
    parse_value=_parse,
)
