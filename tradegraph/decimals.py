"""Exact decimal arithmetic for money, prices and quantities (never floats)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_FLOOR, ROUND_HALF_EVEN, Context, Decimal
from typing import Any

from beanie.odm.utils.encoder import Encoder
from bson import Decimal128

from tradegraph.errors import InvalidInput

ZERO = Decimal(0)
COST_QUANTUM = Decimal("0.00000001")
DECIMAL128_DIGITS = 34
MAX_DIGITS_BEFORE_POINT = 18  # far beyond any price or balance; keeps products in Decimal128
# The only text accepted as a number: Decimal() alone would also take '1_000', ' 1', '1e5', '.5'
# and digits of other scripts ('١٢').
DECIMAL_TEXT = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")
MAX_DECIMAL_TEXT = 100  # sign, 18 digits, point, and room for zeros; refused before parsing


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


def parse_decimal(value: Decimal | int | str, field: str) -> Decimal:
    """A number from user input, exactly as written, or InvalidInput saying what is wrong.

    Text must be plain ASCII `[-+]digits[.digits]`: no exponent, digit separators, other
    scripts' digits, spaces or bare '.5'. Whatever the form, the value must be finite, below
    10^18 in magnitude and have at most 34 significant digits (Decimal128); it is never
    rounded to fit."""
    if isinstance(value, str):
        number = _decimal_from_text(value, field)
    elif isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise InvalidInput(f"{field} must be a decimal number", field=field)
    else:
        number = Decimal(value)
    if not number.is_finite():
        raise InvalidInput(f"{field} must be a finite decimal number", field=field)
    if number and number.adjusted() >= MAX_DIGITS_BEFORE_POINT:
        raise InvalidInput(
            f"{field} is too large: its magnitude must be below 10^{MAX_DIGITS_BEFORE_POINT}",
            field=field,
        )
    if len(number.as_tuple().digits) > DECIMAL128_DIGITS:
        raise InvalidInput(
            f"{field} has more than {DECIMAL128_DIGITS} significant digits; it is not rounded "
            "for you",
            field=field,
        )
    return number


def _decimal_from_text(text: str, field: str) -> Decimal:
    if len(text) > MAX_DECIMAL_TEXT:
        raise InvalidInput(
            f"{field} is too long: at most {MAX_DECIMAL_TEXT} characters", field=field
        )
    if DECIMAL_TEXT.fullmatch(text) is None:
        raise InvalidInput(
            f"{field} must be a decimal number written with ASCII digits, an optional sign and "
            'decimal point, such as "-101.25"',
            field=field,
        )
    return Decimal(text)


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


def fee_of(notional: Decimal, fee_bps: Decimal, cash_places: int) -> Decimal:
    """The fee on `notional`, in whole units of the cash's smallest amount, rounded down:
    cash stays exact at its scale, and the fees of partial fills never add up to more than the
    fee the whole order reserved (the sum of floors is at most the floor of the sum)."""
    return (notional * fee_bps / 10_000).quantize(Decimal(1).scaleb(-cash_places), ROUND_DOWN)


# Cash scale: fiat at its minor unit (2 for BRL and USD), crypto assets and stablecoins at 8.
CURRENCY_PLACES = {"JPY": 0, "KRW": 0, "CLP": 0}
CRYPTO_CURRENCIES = frozenset({"BTC", "ETH", "BNB", "SOL", "XRP", "ADA", "DOGE"})
CRYPTO_PLACES = 8


def currency_places(currency: str) -> int:
    """Decimal places of cash in `currency`: 2 for most ISO 4217 codes, 8 for crypto."""
    if currency in CRYPTO_CURRENCIES or len(currency) != 3:
        return CRYPTO_PLACES
    return CURRENCY_PLACES.get(currency, 2)


def step_places(step: Decimal) -> int:
    """Decimal places of a tick or lot size (0.01 -> 2, 0.00001 -> 5, 5 -> 0)."""
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def at_places(value: Decimal, places: int) -> Decimal:
    """`value` with exactly `places` decimals (half-even), so every reading has one shape."""
    digits = max(DECIMAL128_DIGITS, value.adjusted() + places + 2)  # never too few to fit
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN, Context(prec=digits))


def exact(value: float | Decimal) -> Decimal:
    """A computed number as Decimal; a float by its shortest repr (0.1 -> 0.1, not
    0.1000000000000000055511151231257827…), so rounding it sees the value the float stands for."""
    if isinstance(value, float):
        return Decimal(repr(float(value)))  # float(): numpy floats have their own repr
    return value if isinstance(value, Decimal) else Decimal(value)  # an int is a float to mypy


@dataclass(frozen=True)
class Scales:
    """How one instrument's numbers are shown: prices at its tick decimals, cash at its
    currency's (see `of`)."""

    price_places: int | None  # None: the instrument is unknown, prices as computed
    cash_places: int

    @classmethod
    def of(cls, tick_size: Decimal | None, currency: str | None) -> Scales:
        """An instrument's scales; without one, prices as computed and cash at 2 decimals."""
        return cls(
            price_places=None if tick_size is None else step_places(tick_size),
            cash_places=2 if currency is None else currency_places(currency),
        )

    def price(self, value: float | Decimal, extra: int = 0) -> Decimal:
        """A price at the tick decimals (half-even); `extra` more for one that may fall between
        ticks (a mid: one more)."""
        number = exact(value)
        if self.price_places is None:
            return number
        return at_places(number, self.price_places + extra)

    def cash(self, value: float | Decimal) -> Decimal:
        """An amount of money at the currency's decimals (half-even)."""
        return at_places(exact(value), self.cash_places)


def plain(value: Decimal) -> str:
    """Fixed-point text, never exponent notation ('1E+2')."""
    return format(value, "f")


def to_bson(value: Any) -> Any:
    """Models, dicts and lists with every Decimal made Decimal128, for raw PyMongo writes."""
    return _ENCODER.encode(value)


_ENCODER = Encoder()
