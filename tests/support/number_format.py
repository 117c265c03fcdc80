"""Checks that a number in a JSON response has the one number format: a Decimal string with a
fixed scale."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any


def at_scale(value: Any, places: int) -> Decimal:
    """The Decimal a response's string stands for, after checking it has exactly `places`
    decimals (no exponent, never a JSON number)."""
    pattern = rf"-?\d+\.\d{{{places}}}" if places else r"-?\d+"
    assert isinstance(value, str), value
    assert re.fullmatch(pattern, value), (value, places)
    return Decimal(value)


def near(value: Any, places: int, expected: float) -> bool:
    """`value` is at `places` decimals and the rounding of `expected` to them (within half a
    unit of the last place: the engine's float and the reference's may differ in the last bit)."""
    half = Decimal(1).scaleb(-places) / 2
    return abs(at_scale(value, places) - Decimal(repr(float(expected)))) <= half * Decimal("1.0001")
