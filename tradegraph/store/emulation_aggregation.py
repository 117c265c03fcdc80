# mypy: disable-error-code="no-untyped-call"
"""Aggregations that filter before copying and evaluate `$group` expressions once.

mongomock's aggregate copies every document of the collection before its first stage,
evaluates every expression through its generic parser, and evaluates each document's `$group`
key twice (it sorts by the key, then groups by it again). These patches make aggregations that
start with `$match` filter (through the lookups) before copying documents, read field paths
directly, and run `$group` from each document's key and values evaluated once, the common
expressions compiled (emulation_grouping.py, emulation_expressions.py).
"""

from __future__ import annotations

from typing import Any

import mongomock.aggregate
import mongomock.collection
from mongomock import helpers

from tradegraph.store.emulation_copies import read_copy
from tradegraph.store.emulation_grouping import Grouping


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


def _group_stage(in_collection: Any, database: Any, options: dict[str, Any]) -> Any:
    """mongomock's $group, from each document's key and values recorded once, with the common
    expressions compiled (emulation_grouping.py)."""
    grouping = Grouping.of(options)
    if grouping is None:
        return _original_group_stage(in_collection, database, options)
    for document in in_collection:
        grouping.add(document)
    return grouping.result()


def install() -> None:
    """Patches mongomock's aggregate, expression parser and $group stage (once, through
    emulation_indexes.install)."""
    mongomock.collection.Collection.aggregate = _aggregate  # type: ignore[method-assign]
    mongomock.aggregate._parse_expression = _parse_expression
    mongomock.aggregate._PIPELINE_HANDLERS["$group"] = _group_stage
