"""Unit tests: pure rules only. No server, no store, no event loop."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def clean_state() -> None:
    """Replaces tests/conftest.py's async per-test cleanup: nothing here touches the store, and
    without it no test in this package needs an event loop."""
