"""What a new password must be: long enough, not blank, not common or trivially guessable.

Guessability is zxcvbn's estimate (Dropbox's estimator, with its list of common passwords,
words, names, keyboard patterns, repeats and sequences, and the account's own email).
"""

from __future__ import annotations

from zxcvbn import zxcvbn  # type: ignore[import-untyped]

from tradegraph.errors import InvalidInput

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256
# zxcvbn's score 2: more than 10^6 guesses. Every password on its common list scores below.
MIN_GUESSABILITY_SCORE = 2
_ESTIMATED_PREFIX = 72  # zxcvbn refuses longer input; a longer password is judged by its start


def check_password_rules(password: str, email: str = "") -> None:
    """Raises InvalidInput (field "password") saying what to change; CPU-bound (~10 ms)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        _refuse(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        _refuse(f"password must be at most {MAX_PASSWORD_LENGTH} characters")
    if not password.strip():
        _refuse("password must not be only whitespace")
    inputs = [email, email.partition("@")[0]] if email else []
    estimate = zxcvbn(password[:_ESTIMATED_PREFIX], user_inputs=inputs)
    if estimate["score"] < MIN_GUESSABILITY_SCORE:
        feedback = estimate["feedback"]
        why = feedback.get("warning") or "It follows a common pattern."
        advice = " ".join(feedback.get("suggestions") or []) or "Use a longer, less common one."
        _refuse(f"password is too easy to guess: {why} {advice}")


def _refuse(message: str) -> None:
    raise InvalidInput(message, field="password")
