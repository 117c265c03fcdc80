"""OriginPolicy: what TRADEGRAPH_CORS_ORIGINS and the environment allow."""

from __future__ import annotations

import pytest

from tradegraph.config import Settings
from tradegraph.web.cors import OriginPolicy


def policy(**values: object) -> OriginPolicy:
    return OriginPolicy.from_settings(Settings(**values))  # type: ignore[arg-type]  # any setting, by name


def test_development_default_allows_local_pages_on_any_port_only() -> None:
    allowed = policy()
    assert allowed.allows("http://localhost:5173")
    assert allowed.allows("http://127.0.0.1")
    assert allowed.allows("http://LOCALHOST:3000")
    assert not allowed.allows("https://localhost:5173")  # a scheme is part of an origin
    assert not allowed.allows("http://localhost.evil.example")
    assert not allowed.allows("http://127.0.0.1.evil.example:80")
    assert not allowed.allows("null")


def test_production_default_allows_none() -> None:
    assert not policy(environment="production").allows("http://localhost:5173")


def test_listed_origins_are_normalised_and_exact() -> None:
    allowed = policy(cors_origins="https://App.example:443, http://widgets.test:8080")
    assert allowed.allows("https://app.example")
    assert allowed.allows("http://widgets.test:8080")
    assert not allowed.allows("http://widgets.test:8081")
    assert not allowed.allows("http://localhost:5173")


def test_star_allows_any_origin_and_empty_allows_none() -> None:
    assert policy(cors_origins="*").allows("https://anything.example")
    assert not policy(cors_origins="").allows("http://localhost:5173")


def test_an_entry_that_is_not_an_origin_is_refused_at_startup() -> None:
    with pytest.raises(ValueError, match="TRADEGRAPH_CORS_ORIGINS"):
        policy(cors_origins="https://app.example/path")
