# mypy: disable-error-code="no-untyped-call"
"""Aggregation expressions compiled to plain Python functions, for the forms that run once per
document in `$group` keys and accumulators.

mongomock evaluates every expression through its generic parser, which costs tens of
microseconds per document and operator: most of an events summary over 10,000 events. The
forms dashboards send (field paths, literals, `$subtract`, `$mod`, `$min`, `$max`, `$cond`,
`$eq`, `$ne`) compile to functions that give mongomock's answer; a compiled function returns
FALLBACK where mongomock's own rules apply (a missing field, a path through an array), and
the caller then asks mongomock for that document.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import mongomock.aggregate
from mongomock import helpers

FALLBACK = object()  # this document needs mongomock's evaluator
_NUMBERS = (int, float)  # exact types: bool and Decimal128 take mongomock's way
Compiled = Callable[[Any], Any]
_OPERATORS: dict[str, Callable[[str, Any], Compiled | None]] = {}


def compiled(expression: Any) -> Compiled | None:
    """A function evaluating `expression` on a document as mongomock does, or None when the
    expression has a form this module does not compile."""
    if isinstance(expression, str) and expression.startswith("$"):
        return None if expression.startswith("$$") else _path(expression[1:].split("."))
    if isinstance(expression, str | int | float | datetime) and not isinstance(expression, bool):
        return lambda _: expression
    if not isinstance(expression, dict) or len(expression) != 1:
        return None
    ((operator, operands),) = expression.items()
    compile_operator = _OPERATORS.get(operator)
    return None if compile_operator is None else compile_operator(operator, operands)


def _path(parts: list[str]) -> Compiled:
    def read(document: Any) -> Any:
        value = document
        for part in parts:
            if type(value) is not dict or part not in value:
                return FALLBACK
            value = value[part]
        return value

    return read


def _all(operands: Any, count: int | None = None) -> list[Compiled] | None:
    if not isinstance(operands, list | tuple) or (count is not None and len(operands) != count):
        return None
    functions = [compiled(operand) for operand in operands]
    return None if any(function is None for function in functions) else functions  # type: ignore[return-value]


def _arithmetic(operator: str, operands: Any) -> Compiled | None:
    """$subtract and $mod of two operands: mongomock's _handle_arithmetic_operator."""
    functions = _all(operands, 2)
    if functions is None:
        return None
    first, second = functions

    def apply(document: Any) -> Any:
        a, b = first(document), second(document)
        if a is FALLBACK or b is FALLBACK:
            return FALLBACK
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


def _extreme(operator: str, operands: Any) -> Compiled | None:
    """$min / $max over a list of expressions: mongomock's grouping operator on their values
    (for two plain numbers, the builtin: the same answer, NaN included, without its lists)."""
    functions = _all(operands)
    if not functions:
        return None
    pick = min if operator == "$min" else max
    first, second = (functions * 2)[:2]

    def apply(document: Any) -> Any:
        if len(functions) == 2:
            a, b = first(document), second(document)
            if type(a) in _NUMBERS and type(b) in _NUMBERS:
                return pick(a, b)
        values = [function(document) for function in functions]
        if any(value is FALLBACK for value in values):
            return FALLBACK
        return mongomock.aggregate._GROUPING_OPERATOR_MAP[operator](values)

    return apply


def _equality(operator: str, operands: Any) -> Compiled | None:
    functions = _all(operands, 2)
    if functions is None:
        return None
    first, second = functions
    equal = operator == "$eq"

    def apply(document: Any) -> Any:
        a, b = first(document), second(document)
        if a is FALLBACK or b is FALLBACK:
            return FALLBACK
        return (a == b) if equal else (a != b)

    return apply


def _condition(operator: str, operands: Any) -> Compiled | None:
    if isinstance(operands, dict) and set(operands) == {"if", "then", "else"}:
        operands = [operands["if"], operands["then"], operands["else"]]
    functions = _all(operands, 3)
    if functions is None:
        return None
    test, when_true, when_false = functions

    def apply(document: Any) -> Any:
        condition = test(document)
        if condition is FALLBACK:
            return FALLBACK
        chosen = when_true if helpers.mongodb_to_bool(condition) else when_false
        return chosen(document)

    return apply


_OPERATORS.update(
    {
        "$subtract": _arithmetic,
        "$mod": _arithmetic,
        "$min": _extreme,
        "$max": _extreme,
        "$eq": _equality,
        "$ne": _equality,
        "$cond": _condition,
    }
)


def fields_read(expression: Any) -> set[str] | None:
    """The top-level fields a compiled `expression` reads (its paths' first names); None when
    it does not compile, as mongomock's evaluator may read anything."""
    if compiled(expression) is None:
        return None
    found: set[str] = set()
    pending = [expression]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and item.startswith("$"):
            found.add(item[1:].split(".")[0])
        elif isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return found
