# mypy: disable-error-code="no-untyped-call"
"""Index keys as the emulation's lookup tables hash them.

A key part is a hashable stand-in for a stored or queried value that is equal wherever
MongoDB's equality says the values are equal (1 == 1.0 == Decimal128("1"); missing == null;
an aware datetime and its naive UTC form), so a table keyed by it never misses a match. It
may over-include (Python's True == 1): the filter still checks every candidate.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import Decimal128, ObjectId
from mongomock import helpers

SIMPLE = (str, int, float, bool, ObjectId, datetime, Decimal128, type(None))
MISSING = object()
_NAN = ("NaN",)  # every Decimal128 NaN (MongoDB's indexes hold NaNs as equal)
ARRAY = object()  # a path that holds or goes through an array: matched by its elements


_AS_THEY_ARE = frozenset({str, int, float, bool, ObjectId, type(None)})


def key_part(value: Any) -> Any:
    """A hashable stand-in equal for values MongoDB's equality treats as equal."""
    if type(value) in _AS_THEY_ARE:  # the common case, first (this runs per document)
        return value
    if isinstance(value, Decimal128):
        number = value.to_decimal()
        return _NAN if number.is_nan() else number  # a signalling NaN cannot be hashed
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dict):
        return tuple((k, key_part(v)) for k, v in value.items())
    if isinstance(value, list):
        return ("[]", tuple(key_part(v) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("repr", repr(value))
    return value


def field_value(document: Any, path: str) -> Any:
    """The value at a (dotted) path; None when missing."""
    try:
        return helpers.get_value_by_dot(document, path)
    except (KeyError, IndexError, TypeError):
        return None


def path_value(document: Any, path: str | list[str]) -> Any:
    """The value at a (dotted, or split) path as an equality filter sees it: None when missing,
    ARRAY when the path holds or crosses an array (the filter may match any element)."""
    value = document
    for part in path.split(".") if isinstance(path, str) else path:
        if isinstance(value, list):
            return ARRAY
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return ARRAY if isinstance(value, list) else value


def plain_object_id(object_id: Any) -> Any:
    """An `_id` as mongomock keys its documents by it."""
    return helpers.hashdict(object_id) if isinstance(object_id, dict) else object_id


def equality(value: Any) -> Any:
    """The value a filter entry requires equality with, or MISSING for operators."""
    if isinstance(value, dict) and any(str(k).startswith("$") for k in value):
        return MISSING
    return value if isinstance(value, SIMPLE) else MISSING


def is_nan(value: Any) -> bool:
    """NaN equals NaN in a MongoDB filter but never in a hash table."""
    if isinstance(value, float):
        return value != value
    if isinstance(value, Decimal128):
        return value.to_decimal().is_nan()
    return isinstance(value, Decimal) and value.is_nan()
