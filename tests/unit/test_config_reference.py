"""docs/configuration.md is generated from Settings and must not drift from it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings

from tradegraph import config_reference
from tradegraph.config import Settings

REGENERATE = f"regenerate it with `{config_reference.COMMAND}` (or `make docs`) and commit it"


def test_every_setting_has_a_description() -> None:
    assert config_reference.undescribed() == [], (
        "give each of these Settings fields a Field(..., description=...): the configuration "
        "page is written from it"
    )


def test_the_committed_configuration_page_matches_settings() -> None:
    page = config_reference.PAGE
    assert page.exists(), f"{page} is missing: {REGENERATE}"
    assert page.read_text() == config_reference.render(), (
        f"docs/configuration.md differs from tradegraph/config.py's Settings: {REGENERATE}"
    )


def test_every_setting_has_a_section_and_a_row_under_its_environment_variable() -> None:
    page = config_reference.render()
    for name, field in Settings.model_fields.items():
        env = config_reference.variable(name, field)
        assert f"\n### `{env}`\n" in page, name
        assert f"| [`{env}`](#{env.lower()}) |" in page, name
    assert "### `OPENAI_API_KEY`" in page  # an alias keeps its own name
    assert "Type: secret · Default: unset" in page


def test_a_section_states_description_type_bounds_and_default() -> None:
    class Example(BaseSettings):
        fee_bps: Decimal = Field(default=Decimal(5), ge=0, le=1000, description="fee in bps")
        data_dir: Path | None = Field(default=None, description="see TRADEGRAPH_X, <dir>/`<a>`")

    fee, data_dir = Example.model_fields["fee_bps"], Example.model_fields["data_dir"]
    assert config_reference.section("fee_bps", fee) == (
        "### `TRADEGRAPH_FEE_BPS`\n\nFee in bps.\n\nType: decimal (≥ 0, ≤ 1000) · Default: `5`\n"
    )
    assert config_reference.section("data_dir", data_dir) == (
        "### `TRADEGRAPH_DATA_DIR`\n\nSee `TRADEGRAPH_X`, &lt;dir>/`<a>`.\n\n"
        "Type: path · Default: unset\n"
    )


def test_a_computed_default_is_not_this_machines_value() -> None:
    # backtest_workers defaults to the core count: the page must not depend on where it is built
    field = Settings.model_fields["backtest_workers"]
    assert config_reference.default(field) == "computed at startup"
