"""The committed SDL (schema.graphql) is what the server serves."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "schema.graphql"


def test_schema_graphql_is_up_to_date() -> None:
    printed = subprocess.run(
        [sys.executable, "-m", "tradegraph", "schema"], check=True, capture_output=True, text=True
    ).stdout
    assert printed == SCHEMA_FILE.read_text(), (
        "schema.graphql is stale: run 'make schema' (tradegraph schema > schema.graphql)"
    )


def test_every_root_field_is_documented() -> None:
    from tradegraph.api import build_schema

    schema = build_schema()._schema
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        assert root is not None
        for name, field in root.fields.items():
            assert field.description, f"{root.name}.{name} has no description"
