"""Exact decimal arithmetic for money, prices and quantities (never floats)."""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from beanie.odm.utils.encoder import Encoder
from bson import Decimal128

from tradegraph.errors import InvalidInput

ZERO = Decimal(0)
FEE_QUANTUM = Decimal("0.00000001")
DECIMAL128_DIGITS = 34
MAX_DIGITS_BEFORE_POINT = 18  # far beyond any price or balance; keeps products in Decimal128


def to_decimal(value: Any) -> Decimal:
    """A stored or computed number as Decimal (Decimal128 from raw PyMongo reads included)."""
    if isinstance(value, Decimal128):
        return value.to_decimal()
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"not an exact number: {value!r}")


def stored(value: Decimal) -> Decimal128:
    """For raw PyMongo updates: Beanie converts Decimal on its own, PyMongo does not."""
    return Decimal128(value)


def parse_decimal(value: Any, field: str) -> Decimal:
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation as error:
        raise InvalidInput(f"{field} must be a decimal number", field=field) from error
    if not number.is_finite():
        raise InvalidInput(f"{field} must be a finite decimal number", field=field)
    if number and number.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        raise InvalidInput(
            f"{field} is too large (at most 10^{MAX_DIGITS_BEFORE_POINT})", field=field
        )
    if len(number.as_tuple().digits) > DECIMAL128_DIGITS:
        raise InvalidInput(
            f"{field} has more than {DECIMAL128_DIGITS} significant digits", field=field
        )
    return number


def require_positive(value: Decimal, field: str) -> Decimal:
    if value <= 0:
        raise InvalidInput(f"{field} must be greater than 0 (got {value})", field=field)
    return value


def is_multiple(value: Decimal, step: Decimal) -> bool:
    return step > 0 and value % step == 0


def round_to_step(value: Decimal, step: Decimal, up: bool) -> Decimal:
    """`value` moved to a multiple of `step`, up or down."""
    units = (value / step).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR)
    return units * step


def fee_of(notional: Decimal, fee_bps: Decimal) -> Decimal:
    return (notional * fee_bps / 10_000).quantize(FEE_QUANTUM, ROUND_HALF_UP)


def plain(value: Decimal) -> str:
    """Fixed-point text, never exponent notation ('1E+2')."""
    return format(value, "f")


def to_bson(value: Any) -> Any:
    """Models, dicts and lists with every Decimal made Decimal128, for raw PyMongo writes."""
    return _ENCODER.encode(value)


_ENCODER = Encoder()
