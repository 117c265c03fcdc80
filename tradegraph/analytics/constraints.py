"""Constraints on optimisation parameters, in a small fixed grammar parsed by hand (never
eval'd) and evaluated on whole columns of parameter values at once:

    constraint := comparison (("and" | "&&") comparison)*
    comparison := sum ("<" | "<=" | ">" | ">=" | "==" | "!=") sum
    sum        := product (("+" | "-") product)*
    product    := atom (("*" | "/") atom)*
    atom       := NAME | NUMBER | "-" atom | "(" sum ")"

e.g. `fast < slow`, `fast * 2 <= slow and slow < 200`. NAME is a parameter being optimised.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np

from tradegraph.errors import InvalidInput

MAX_LENGTH = 200
MAX_TOKENS = 60
_TOKEN = re.compile(
    r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|([A-Za-z_][A-Za-z0-9_]*)|(<=|>=|==|!=|&&|[<>()+\-*/]))"
)
_COMPARISONS: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
}
Columns = Mapping[str, np.ndarray]
Expression = Callable[[Columns], np.ndarray]


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(f"constraint: {message}", field="constraint")


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    position = 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = _TOKEN.match(text, position)
        if match is None:
            raise _refuse(f"unexpected {text[position:].strip()[:10]!r}")
        tokens.append(match.group(match.lastindex or 0))
        position = match.end()
        if len(tokens) > MAX_TOKENS:
            raise _refuse(f"at most {MAX_TOKENS} tokens")
    return tokens


@dataclass
class _Parser:
    tokens: list[str]
    names: frozenset[str]
    at: int = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self) -> str:
        token = self.peek()
        if token is None:
            raise _refuse("ends too early")
        self.at += 1
        return token

    def constraint(self) -> Expression:
        parts = [self.comparison()]
        while self.peek() in ("and", "&&"):
            self.take()
            parts.append(self.comparison())
        if self.peek() is not None:
            raise _refuse(f"unexpected {self.peek()!r}")

        def all_of(columns: Columns) -> np.ndarray:
            result = parts[0](columns)
            for part in parts[1:]:
                result = result & part(columns)
            return result

        return all_of

    def comparison(self) -> Expression:
        left = self.sum()
        symbol = self.take()
        if symbol not in _COMPARISONS:
            raise _refuse(f"expected a comparison (<, <=, >, >=, ==, !=), found {symbol!r}")
        right = self.sum()
        compare = _COMPARISONS[symbol]
        return lambda columns: np.asarray(compare(left(columns), right(columns)), dtype=bool)

    def sum(self) -> Expression:
        return self._chain(self.product, ("+", "-"))

    def product(self) -> Expression:
        return self._chain(self.atom, ("*", "/"))

    def _chain(self, operand: Callable[[], Expression], symbols: tuple[str, ...]) -> Expression:
        result = operand()
        while self.peek() in symbols:
            apply = _ARITHMETIC[self.take()]
            left, right = result, operand()
            result = _binary(apply, left, right)
        return result

    def atom(self) -> Expression:
        token = self.take()
        if token == "(":
            inner = self.sum()
            if self.take() != ")":
                raise _refuse("expected ')'")
            return inner
        if token == "-":
            operand = self.atom()
            return lambda columns: -operand(columns)
        if token[0].isdigit() or token[0] == ".":
            number = np.float64(token)
            return lambda columns: np.asarray(number)
        if token[0].isalpha() or token[0] == "_":
            if token not in self.names:
                known = ", ".join(sorted(self.names))
                raise _refuse(f"unknown parameter {token!r} (optimised: {known})")
            return lambda columns: columns[token]
        raise _refuse(f"unexpected {token!r}")


def _binary(
    apply: Callable[[np.ndarray, np.ndarray], np.ndarray], left: Expression, right: Expression
) -> Expression:
    def evaluate(columns: Columns) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return apply(left(columns), right(columns))

    return evaluate


def parse_constraint(text: str, names: frozenset[str]) -> Expression:
    """A function of parameter columns (name → array) to a boolean mask; InvalidInput naming
    the problem when `text` is not in the grammar or names a parameter not in `names`."""
    if len(text) > MAX_LENGTH:
        raise _refuse(f"at most {MAX_LENGTH} characters")
    tokens = _tokens(text)
    if not tokens:
        raise _refuse("empty")
    return _Parser(tokens, names).constraint()
