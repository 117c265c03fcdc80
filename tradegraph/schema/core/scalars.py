"""The Decimal scalar: exact numbers as strings on the wire, never binary floats."""

from __future__ import annotations

import decimal
import math
from typing import Any

import strawberry
from graphql import FloatValueNode, IntValueNode, StringValueNode, ValueNode, VariableNode

from tradegraph.decimals import parse_decimal, plain
from tradegraph.errors import InvalidInput

WHAT = "the value"  # errors read "Expected value of type 'Decimal', but … 'the value is …'"
NOT_A_NUMBER = 'a Decimal is a string such as "101.25" (or a number)'


class PreciseNumber(float):
    """A JSON number that a float rounds: its text is kept, so a Decimal input stays exact."""

    text: str


def json_number(text: str) -> float:
    """`parse_float` for request bodies: the float, or a PreciseNumber when the float would
    lose digits of `text` (0.1000000000000000000001) or overflow (1e400)."""
    number = float(text)
    if math.isfinite(number) and decimal.Decimal(repr(number)) == decimal.Decimal(text):
        return number
    precise = PreciseNumber(number)
    precise.text = text
    return precise


def _checked(value: decimal.Decimal | int | str) -> decimal.Decimal:
    try:
        return parse_decimal(value, WHAT)
    except InvalidInput as error:
        # Not a DomainError: GraphQL wraps it with the argument's or variable's name.
        raise ValueError(error.message) from None


def _parse_value(value: Any) -> decimal.Decimal:
    if isinstance(value, PreciseNumber):
        return _checked(decimal.Decimal(value.text))  # JSON grammar: a plain number
    if isinstance(value, float):
        # Read back from its shortest text form: 0.1 stays 0.1.
        return _checked(decimal.Decimal(repr(value)))
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(NOT_A_NUMBER)
    return _checked(value)


def _parse_literal(node: ValueNode, variables: dict[str, Any] | None = None) -> decimal.Decimal:
    if isinstance(node, StringValueNode):
        return _checked(node.value)
    if isinstance(node, IntValueNode | FloatValueNode):
        # Exactly as written in the document: a float would round 0.10000000000000000000001.
        return _checked(decimal.Decimal(node.value))
    if isinstance(node, VariableNode) and variables and node.name.value in variables:
        return _parse_value(variables[node.name.value])
    raise ValueError(NOT_A_NUMBER)


DecimalScalar = strawberry.scalar(
    name="Decimal",
    description=(
        'An exact decimal number, serialised as a string ("101.25"). Inputs: strings of ASCII '
        'digits with an optional sign and decimal point ("-0.5"; no exponent, separators or '
        "spaces), or JSON/GraphQL numbers, read exactly as written. At most 34 significant "
        "digits, magnitude below 10^18; nothing is rounded to fit."
    ),
    serialize=plain,
    parse_value=_parse_value,
    parse_literal=_parse_literal,
)
