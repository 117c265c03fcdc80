"""docs/configuration.md and README.md's configuration section are generated from Settings and
must not drift from it."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import Field
from pydantic_settings import BaseSettings

from tradegraph import config_reference
from tradegraph.config import Settings
from tradegraph.trading import portfolios
from tradegraph.web import ws_messages

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


# Names that say a setting bounds what someone may cost: each must be in the README's limits.
LIMIT_NAME = re.compile(r"max_|_per_|concurrency|_queue_|_bytes|timeout|limit|niceness|_cash")
# Named like a limit, but not a caller's budget.
NOT_LIMITS = {
    "insight_max_retries": "retries of the server's own OpenAI call",
    "insight_timeout_seconds": "how long the server waits for its own OpenAI call",
}


def _readme_section() -> str:
    readme = config_reference.README.read_text()
    start = readme.index(config_reference.README_START)
    return readme[start : readme.index(config_reference.README_END, start)]


def _limits_table_variables() -> set[str]:
    """The variables of the README's limits table, as the committed README shows them."""
    table = _readme_section().split("**Limits**", 1)[1].split("\n\n")[1]
    return set(re.findall(r"^\| \[`([A-Z0-9_]+)`\]", table, re.MULTILINE))


def test_the_committed_readme_configuration_section_matches_settings() -> None:
    readme = config_reference.README.read_text()
    assert readme == config_reference.with_readme_section(readme), (
        f"README.md's configuration section differs from tradegraph/config.py: {REGENERATE}"
    )


def test_every_setting_named_like_a_limit_is_in_the_readme_limits_table() -> None:
    in_table = _limits_table_variables()
    named_like_limits = {
        config_reference.variable(name, field)
        for name, field in Settings.model_fields.items()
        if LIMIT_NAME.search(name) and name not in NOT_LIMITS
    }
    assert "TRADEGRAPH_FEED_MAX_REPLAY" in named_like_limits  # the pattern finds limits
    assert named_like_limits - in_table == set(), (
        "add these to config_reference.LIMITS (or, when one bounds no caller's cost, to "
        "NOT_LIMITS here with the reason), then regenerate"
    )


def test_the_readme_tables_name_real_settings_once() -> None:
    chosen = [*config_reference.ESSENTIALS, *config_reference.LIMITS]
    assert len(chosen) == len(set(chosen))
    assert set(chosen) <= set(Settings.model_fields)
    assert set(NOT_LIMITS) <= set(Settings.model_fields)


def test_the_readme_states_the_fixed_limits_from_the_code() -> None:
    section = _readme_section()
    text = " ".join(section.split())  # the paragraph is wrapped
    for phrase in config_reference.fixed_limits():
        assert " ".join(phrase.split()) in text
    init_cap = config_reference.readable_bytes(ws_messages.MAX_INIT_BYTES)
    assert f"a `connection_init` payload of {init_cap};" in text
    assert f"{portfolios.MAX_PORTFOLIOS_PER_OWNER} portfolios and" in text


def test_sizes_read_as_a_person_writes_them() -> None:
    assert config_reference.readable_bytes(64 * 1024) == "64 KiB"
    assert config_reference.readable_bytes(20 * 1024 * 1024) == "20 MiB"
    assert config_reference.readable_bytes(1000) == "1,000 bytes"


def test_a_readme_row_says_what_a_setting_is_in_its_first_clause() -> None:
    class Example(BaseSettings):
        queue_size: int = Field(
            default=1000,
            description="messages kept (per socket; see X); past it the socket closes. More",
        )
        broker_url: str | None = Field(
            default=None, description="the broker; unset: memory only. Set it for replicas"
        )

    queue, broker = Example.model_fields["queue_size"], Example.model_fields["broker_url"]
    # with a default: the first clause only (a `;` inside parentheses does not end it)
    assert config_reference.short_description(queue) == "messages kept (per socket; see X)"
    # unset by default: the sentence keeps what unset means, and stops at its end
    assert config_reference.short_description(broker) == "the broker; unset: memory only"


def test_rewriting_the_readme_replaces_only_the_section_between_its_markers() -> None:
    start, end = config_reference.README_START, config_reference.README_END
    readme = f"# Title\n\n{start}\nstale\n{end}\n\n## After\n"
    rewritten = config_reference.with_readme_section(readme)
    assert rewritten.startswith("# Title\n\n")
    assert rewritten.endswith(f"{end}\n\n## After\n")
    assert "stale" not in rewritten
    assert "| [`TRADEGRAPH_JWT_SECRET`](docs/configuration.md#tradegraph_jwt_secret) |" in rewritten
    with pytest.raises(ValueError, match="markers"):
        config_reference.with_readme_section("# Title without markers\n")
