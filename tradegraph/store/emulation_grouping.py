# mypy: disable-error-code="no-untyped-call"
"""`$group` computed from each document's key and accumulator values, one document at a time.

mongomock's `$group` sorts the documents by key, groups equal neighbours, then evaluates each
accumulator's expression over each group's documents through its generic parser. `Grouping`
gives the same answer (same keys, same order, same values) from what it records per document
as documents arrive: the key and the accumulators' values, with the expressions dashboards use
compiled (emulation_expressions.py). A split aggregation (emulation_split.py) feeds it in
short store-thread steps, so an events summary keeps no copies of the events it reads and does
no per-document work after its last step.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

import mongomock.aggregate
from mongomock.filtering import BsonComparable

from tradegraph.store.emulation_copies import read_copy
from tradegraph.store.emulation_expressions import FALLBACK, Compiled, compiled, fields_read
from tradegraph.store.emulation_sorting import same_plain_type

_MISSING = object()  # the expression raised KeyError for this document: mongomock skips it
_LIST_OPERATORS = ("$push", "$addToSet")
_PLAIN_NUMBERS = {int, float}  # exact types: bool and Decimal128 take mongomock's way


Memo = dict[str, Any]  # one document's values by expression (repr), shared by its groupings


class _Accumulator(NamedTuple):
    field: str
    operator: str
    expression: Any
    function: Compiled | None
    text: str  # the expression's repr: equal expressions of a document are evaluated once


def _fields_read(expressions: list[Any]) -> frozenset[str] | None:
    """The top-level fields `expressions` read, or None: they may read any."""
    fields: set[str] = set()
    for expression in expressions:
        read = fields_read(expression)
        if read is None:
            return None
        fields |= read
    return frozenset(fields)


def _evaluated(accumulator: _Accumulator, document: Any, memo: Memo) -> Any:
    expression, function = accumulator.expression, accumulator.function
    if function is None:
        value = FALLBACK
    else:
        value = memo.get(accumulator.text, FALLBACK)
        if value is FALLBACK:
            value = memo[accumulator.text] = function(document)
    if value is FALLBACK:
        try:
            value = mongomock.aggregate._parse_expression(expression, document)
        except KeyError:
            return _MISSING
    return value


class Grouping:
    """One `$group` stage: `add` each input document in order, then `result`."""

    def __init__(self, options: dict[str, Any], accumulators: list[tuple[str, str, Any]]) -> None:
        self._key = options["_id"]
        self._single = not self._key  # mongomock: one group of everything, even of nothing
        self._key_function = None if self._single else compiled(self._key)
        self._accumulators = [
            _Accumulator(field, operator, expression, compiled(expression), repr(expression))
            for field, operator, expression in accumulators
        ]
        # Keys and values in flat lists, not a container per document: a summary over 10,000
        # events kept 80,000 of them alive, enough to start full garbage collections (200 ms,
        # every thread stopped) over and over.
        self._keys: list[Any] = []
        self._columns: list[list[Any]] = [[] for _ in self._accumulators]
        self._count = 0
        expressions = [accumulator.expression for accumulator in self._accumulators]
        self.fields = _fields_read(expressions if self._single else [self._key, *expressions])

    @classmethod
    def of(cls, options: Any) -> Grouping | None:
        """The grouping for `$group` options, or None (mongomock then runs the stage)."""
        if not isinstance(options, dict) or "_id" not in options:
            return None
        accumulators = []
        for field, spec in options.items():
            if field == "_id":
                continue
            if not isinstance(spec, dict):
                return None
            for operator, expression in spec.items():
                known = operator in mongomock.aggregate._GROUPING_OPERATOR_MAP
                if not known and operator not in _LIST_OPERATORS:
                    return None  # mongomock's own error
                accumulators.append((field, operator, expression))
        return cls(options, accumulators)

    def add(self, document: Any, memo: Memo | None = None) -> None:
        """Records `document`'s key and values (`memo`: values already evaluated for it)."""
        memo = {} if memo is None else memo
        if not self._single:
            self._keys.append(self._key_of(document))
        for accumulator, column in zip(self._accumulators, self._columns, strict=True):
            column.append(_evaluated(accumulator, document, memo))
        self._count += 1

    def _key_of(self, document: Any) -> Any:
        if self._key_function is not None:
            key = self._key_function(document)
            if key is not FALLBACK:
                return key
        try:
            return mongomock.aggregate._parse_expression(
                self._key, document, ignore_missing_keys=True
            )
        except KeyError:
            return None

    def result(self) -> list[dict[str, Any]]:
        """The groups, as mongomock's `$group` returns them."""
        groups: Any
        if self._single:
            groups = [(None, range(self._count))]
        else:
            keys = self._keys  # the documents' positions sorted by key, stable as mongomock's
            if same_plain_type(keys):
                order = sorted(range(self._count), key=keys.__getitem__)
            else:
                order = sorted(range(self._count), key=lambda at: BsonComparable(keys[at]))
            groups = itertools.groupby(order, key=keys.__getitem__)
        grouped = []
        for key, members in groups:
            fields = self._accumulated(list(members))
            fields["_id"] = key
            grouped.append(fields)
        return grouped

    def _accumulated(self, members: list[int]) -> dict[str, Any]:
        """mongomock's _accumulate_group, on the values recorded for one group's documents."""
        fields: dict[str, Any] = {}
        for (field, operator, *_), column in zip(self._accumulators, self._columns, strict=True):
            values = [column[at] for at in members if column[at] is not _MISSING]
            if operator == "$push":
                if field not in fields:
                    fields[field] = values
                else:
                    fields[field].extend(values)
            elif operator == "$addToSet":
                unique: list[Any] = []
                for value in (value or None for value in values):
                    if value not in unique:  # not a set: values may be unhashable
                        unique.append(value)
                fields[field] = unique
            elif operator == "$sum" and set(map(type, values)) <= _PLAIN_NUMBERS:
                fields[field] = sum(values)  # what mongomock's $sum answers, without its checks
            else:
                fields[field] = mongomock.aggregate._GROUPING_OPERATOR_MAP[operator](values)
        return fields


class GroupedPipeline:
    """A pipeline that groups first: `[$group, ...]`, or `[$facet, ...]` whose every facet
    starts with `$group`. Documents are added one at a time; the rest of the pipeline runs on
    the groups."""

    def __init__(
        self, groupings: dict[str, tuple[Grouping, list[Any]]], faceted: bool, rest: list[Any]
    ) -> None:
        self._groupings = groupings  # by facet title; each with the stages after its $group
        self._faceted = faceted
        self._rest = rest

    @classmethod
    def of(cls, pipeline: list[Any]) -> GroupedPipeline | None:
        """The grouped form of `pipeline`, or None when it does not group first."""
        if not pipeline or not isinstance(pipeline[0], dict) or len(pipeline[0]) != 1:
            return None
        ((operator, options),) = pipeline[0].items()
        if operator == "$group":
            grouping = Grouping.of(options)
            if grouping is None:
                return None
            return cls({"$group": (grouping, [])}, False, pipeline[1:])
        if operator != "$facet" or not isinstance(options, dict) or not options:
            return None
        facets = {}
        for title, facet in options.items():
            first = facet[0] if isinstance(facet, list) and facet else None
            if not isinstance(first, dict) or set(first) != {"$group"}:
                return None
            grouping = Grouping.of(first["$group"])
            if grouping is None:
                return None
            facets[title] = (grouping, facet[1:])
        return cls(facets, True, pipeline[1:])

    def add(self, document: Any) -> None:
        memo: Memo = {}
        for grouping, _ in self._groupings.values():
            grouping.add(document, memo)

    def reader(self, aware: bool) -> Callable[[Any], None]:
        """A function adding a stored document: the copy a find makes of it, or only of the
        fields the groups read when that is all they read (a copy costs more than the rest)."""
        fields: set[str] = set()
        for grouping, _ in self._groupings.values():
            if grouping.fields is None:
                return lambda document: self.add(read_copy(document, aware))
            fields |= grouping.fields
        names = tuple(fields)

        def add_fields(document: Any) -> None:
            self.add({name: read_copy(document[name], aware) for name in names if name in document})

        return add_fields

    def result(self, database: Any) -> list[Any]:
        """The pipeline's results over every document added (outside the store thread: it
        reads only the groups)."""
        process = mongomock.aggregate.process_pipeline
        outputs = {
            title: list(process(grouping.result(), database, tail, None))
            for title, (grouping, tail) in self._groupings.items()
        }
        grouped = [outputs] if self._faceted else outputs["$group"]
        return list(process(grouped, database, self._rest, None))
