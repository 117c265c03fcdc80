"""analytics/constraints.py: the constraint grammar, evaluated on parameter columns, and what
it refuses (it is parsed, never eval'd)."""

from __future__ import annotations

import numpy as np
import pytest

from tradegraph.analytics.constraints import MAX_LENGTH, parse_constraint
from tradegraph.errors import InvalidInput

NAMES = frozenset({"fast", "slow", "period"})
COLUMNS = {
    "fast": np.array([5.0, 10, 20, 30]),
    "slow": np.array([20.0, 20, 20, 50]),
    "period": np.array([1.0, 2, 3, 4]),
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fast < slow", [True, True, False, True]),
        ("fast<=slow", [True, True, True, True]),
        ("fast * 2 <= slow", [True, True, False, False]),
        ("slow - fast > 10 and period != 4", [True, False, False, False]),
        ("fast < slow && slow < 50", [True, True, False, False]),
        ("(fast + 10) / 2 == period * 5 - 2.5", [False, False, False, False]),
        ("-fast < -10", [False, False, True, True]),
        ("fast >= .5 * slow", [False, True, True, True]),
        ("slow / (fast - fast) > 0", [True, True, True, True]),  # x/0 is inf, not a crash
    ],
)
def test_constraints_select_the_combinations_they_describe(text: str, expected: list) -> None:
    assert parse_constraint(text, NAMES)(COLUMNS).tolist() == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("fast < sloww", "unknown parameter 'sloww'"),
        ("__import__('os').system('true') < 1", "unexpected \"'os')"),
        ("__import__ < 1", "unknown parameter '__import__' (optimised: fast, period, slow)"),
        ("fast.__class__ < 1", "unexpected"),
        ("fast < slow;", "unexpected ';'"),
        ("fast slow", "expected a comparison"),
        ("fast <", "ends too early"),
        ("fast < slow or slow > 3", "unexpected 'or'"),
        ("(fast < slow", "expected ')'"),
        ("fast + 1", "ends too early"),
        ("", "empty"),
        ("   ", "empty"),
        ("fast < " + "1 + " * 40 + "1", "at most 60 tokens"),
        ("f" * (MAX_LENGTH + 1), f"at most {MAX_LENGTH} characters"),
    ],
)
def test_anything_outside_the_grammar_is_refused_naming_the_problem(text: str, says: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_constraint(text, NAMES)
    assert says in refused.value.message
    assert refused.value.details == {"field": "constraint"}


def test_nesting_is_bounded_by_the_token_limit() -> None:
    with pytest.raises(InvalidInput, match="tokens"):
        parse_constraint("(" * 50 + "fast" + ")" * 50 + " < slow", NAMES)
