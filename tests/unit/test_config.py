"""Settings added for issue 10: TRADEGRAPH_METRICS_TOKEN."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tradegraph.config import Settings


def test_metrics_token_is_unset_by_default_and_when_empty() -> None:
    assert Settings().metrics_token is None
    assert Settings(metrics_token="").metrics_token is None


def test_a_short_metrics_token_is_refused() -> None:
    with pytest.raises(ValidationError, match="at least 16 characters"):
        Settings(metrics_token="short")
    token = Settings(metrics_token="x" * 16).metrics_token
    assert token is not None
    assert token.get_secret_value() == "x" * 16
