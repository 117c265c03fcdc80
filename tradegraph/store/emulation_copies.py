# mypy: disable-error-code="no-untyped-call"
"""What the emulation copies when it hands stored values to a reader.

mongomock copies every stored value a reader gets with `copy.copy`, which rebuilds every
Decimal128 it meets, and with tz_aware walks the copy again to put its datetimes in UTC. These
patches hand out immutable values as they are stored, and make a find's copy, datetimes in
UTC included, in one pass (`read_copy`, used by aggregations).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import mongomock.collection
from bson import Decimal128, ObjectId
from mongomock import helpers

_IMMUTABLE = (str, int, float, bool, bytes, ObjectId, datetime, Decimal128, type(None))
_original_copy_field = mongomock.collection._copy_field


def _copy_field(value: Any, container: Any) -> Any:
    """mongomock's copy of a stored value for a reader, without copying immutable values
    (`copy.copy` rebuilds every Decimal128 it meets)."""
    if type(value) in _IMMUTABLE:
        return value
    if isinstance(value, dict):
        copy = container()  # built as mongomock builds it (any document class)
        for key, item in value.items():
            copy[key] = _copy_field(item, container)
        return copy
    if isinstance(value, list):
        return [_copy_field(item, container) for item in value]
    return _original_copy_field(value, container)


def read_copy(value: Any, aware: bool) -> Any:
    """What find hands out for a stored value (mongomock's copy, then, with tz_aware, its
    datetimes in UTC) in one pass."""
    kind = type(value)
    if kind is datetime:
        return value.replace(tzinfo=helpers.utc) if aware else value  # type: ignore[attr-defined]
    if kind in _IMMUTABLE:
        return value
    if kind is dict:
        copy = {}
        for key, item in value.items():  # the common values inline: this runs per document
            if type(item) in _IMMUTABLE and type(item) is not datetime:
                copy[key] = item
            else:
                copy[key] = read_copy(item, aware)
        return copy
    if kind is list:
        return [read_copy(item, aware) for item in value]
    copied = _copy_field(value, dict)
    return helpers.make_datetime_timezone_aware_in_document(copied) if aware else copied


def install() -> None:
    """Patches what mongomock copies on read (once, through emulation_indexes.install)."""
    mongomock.collection._copy_field = _copy_field
