# mypy: disable-error-code="no-untyped-call"
"""Aggregations that filter before copying and evaluate `$group` keys once.

mongomock's aggregate copies every document of the collection before its first stage,
evaluates every expression through its generic parser, and evaluates each document's `$group`
key twice (it sorts by the key, then groups by it again). These patches make aggregations that
start with `$match` filter (through the lookups) before copying documents, read field paths
directly, compile the expressions a time bucket needs, and sort `$group` keys as plain values
where mongomock's BSON comparator gives the same answer.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import mongomock.aggregate
import mongomock.collection
from mongomock import helpers
from mongomock.filtering import BsonComparable

from tradegraph.store.emulation_copies import read_copy
from tradegraph.store.emulation_sorting import same_plain_type


def _aggregate(
    self: mongomock.collection.Collection, pipeline: list[Any], session: Any = None, **_: Any
) -> Any:
    if pipeline and isinstance(pipeline[0], dict) and set(pipeline[0]) == {"$match"}:
        spec = pipeline[0]["$match"]
        if not isinstance(spec, dict):
            documents = list(self.find(spec))  # mongomock's own error
        else:
            spec = helpers.patch_datetime_awareness_in_document(spec)  # as find does
            aware = bool(self.codec_options.tz_aware)
            documents = [read_copy(document, aware) for document in self._iter_documents(spec)]
        return mongomock.aggregate.process_pipeline(documents, self.database, pipeline[1:], session)
    documents = list(self.find())
    return mongomock.aggregate.process_pipeline(documents, self.database, pipeline, session)


_original_parse_expression = mongomock.aggregate._parse_expression
_FALLBACK = object()
_original_group_stage = mongomock.aggregate._handle_group_stage


def _parse_expression(expression: Any, doc_dict: Any, ignore_missing_keys: bool = False) -> Any:
    """mongomock's expression evaluation, with a field path ("$a.b") through documents read
    directly (the common case in $group accumulators, which evaluate once per document)."""
    value = _path_value(expression, doc_dict)
    if value is not _FALLBACK:
        return value
    if type(expression) is dict and len(expression) == 1 and "$ifNull" in expression:
        operands = expression["$ifNull"]  # [path, path]: the first that is there and not null
        if type(operands) is list and len(operands) == 2:
            value = _path_value(operands[0], doc_dict, missing=None)
            if value is not _FALLBACK:
                if value is not None:
                    return value
                value = _path_value(operands[1], doc_dict)
                if value is not _FALLBACK:
                    return value
    return _original_parse_expression(expression, doc_dict, ignore_missing_keys)


def _path_value(expression: Any, document: Any, missing: Any = _FALLBACK) -> Any:
    """The value at a field path ("$a.b") through documents; `missing` where a field is
    missing, _FALLBACK for anything else (not a path, a path through an array)."""
    if type(expression) is not str or not expression.startswith("$") or expression[1:2] == "$":
        return _FALLBACK
    value = document
    for part in expression[1:].split("."):
        if type(value) is not dict:
            return _FALLBACK
        if part not in value:
            return missing
        value = value[part]
    return value


def _compiled(expression: Any) -> Callable[[Any], Any] | None:
    """A function evaluating `expression` as mongomock does, for the subset a time bucket
    needs (field paths, literals, $subtract, $mod); None for anything else. It returns
    _FALLBACK where mongomock's own rules apply (a missing field, a path through an array)."""
    if isinstance(expression, str) and expression.startswith("$"):
        if expression.startswith("$$"):
            return None
        path = expression[1:].split(".")

        def read(document: Any) -> Any:
            value = document
            for part in path:
                if type(value) is not dict or part not in value:
                    return _FALLBACK
                value = value[part]
            return value

        return read
    if isinstance(expression, str | int | float | datetime) and not isinstance(expression, bool):
        return lambda _: expression
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((operator, operands),) = expression.items()
    if operator not in ("$subtract", "$mod") or not isinstance(operands, list | tuple):
        return None
    if len(operands) != 2:
        return None
    left, right = _compiled(operands[0]), _compiled(operands[1])
    if left is None or right is None:
        return None
    first, second = left, right

    def apply(document: Any) -> Any:  # mongomock's _handle_arithmetic_operator, two operands
        a, b = first(document), second(document)
        if a is _FALLBACK or b is _FALLBACK:
            return _FALLBACK
        if a is None or b is None:
            return None
        if operator == "$mod":
            return math.fmod(a, b)
        if isinstance(a, datetime) and isinstance(b, int | float):
            b = timedelta(milliseconds=b)
        result = a - b
        if isinstance(result, timedelta):
            return round(result.total_seconds() * 1000)
        return result

    return apply


def _group_stage(in_collection: Any, database: Any, options: dict[str, Any]) -> Any:
    """mongomock's $group, evaluating each document's `_id` expression once instead of twice
    (it sorts by the key, then groups by it again)."""
    expression = options["_id"]
    if not expression:
        return _original_group_stage(in_collection, database, options)

    compiled = _compiled(expression)

    def key_of(document: Any) -> Any:
        if compiled is not None:
            key = compiled(document)
            if key is not _FALLBACK:
                return key
        try:
            return mongomock.aggregate._parse_expression(
                expression, document, ignore_missing_keys=True
            )
        except KeyError:
            return None

    keyed = [(key_of(document), document) for document in in_collection]
    if same_plain_type([key for key, _ in keyed]):
        keyed.sort(key=lambda pair: pair[0])
    else:
        keyed.sort(key=lambda pair: BsonComparable(pair[0]))
    grouped = []
    for key, group in itertools.groupby(keyed, key=lambda pair: pair[0]):
        fields = mongomock.aggregate._accumulate_group(options, [document for _, document in group])
        fields["_id"] = key
        grouped.append(fields)
    return grouped


def install() -> None:
    """Patches mongomock's aggregate, expression parser and $group stage (once, through
    emulation_indexes.install)."""
    mongomock.collection.Collection.aggregate = _aggregate  # type: ignore[method-assign]
    mongomock.aggregate._parse_expression = _parse_expression
    mongomock.aggregate._PIPELINE_HANDLERS["$group"] = _group_stage
