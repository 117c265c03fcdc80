"""The configuration page of the docs (docs/configuration.md) and the README's configuration
section, written from `Settings`.

Every variable, its type, default and description come from the fields themselves, so neither
can fall behind config.py: tests/unit/test_config_reference.py compares the committed page with
`render()` and the README with `with_readme_section()`. Regenerate both with
`.venv/bin/python -m tradegraph.config_reference` (or `make docs`).

The README shows two tables (ESSENTIALS, LIMITS) and the fixed limits a user meets, taken from
the constants that enforce them; it imports them from every layer, so this module sits with the
CLI at the top of the layering.
"""

from __future__ import annotations

import enum
import re
import sys
import textwrap
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tradegraph import pagination
from tradegraph.analytics import parameter_grid, research_runs
from tradegraph.auth import password_policy
from tradegraph.config import Settings
from tradegraph.events import validation
from tradegraph.markets import candles, instruments
from tradegraph.trading import portfolios, watchlists
from tradegraph.web import json_cost, ws_messages

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "configuration.md"
README = ROOT / "README.md"
COMMAND = ".venv/bin/python -m tradegraph.config_reference"

INTRODUCTION = """\
# Configuration

<!-- Generated from tradegraph/config.py by `{command}`: edit the descriptions there. -->

tradegraph reads its settings once, at startup, from environment variables
(`tradegraph/config.py`, pydantic-settings): nothing else reads the environment. Each variable
is the setting's name in capitals with the `TRADEGRAPH_` prefix; the OpenAI client's own
`OPENAI_*` variables keep their usual names. A value that does not fit its type or bounds stops
startup with a message naming the variable.

- Booleans accept `true`/`false` (also `1`/`0`, `yes`/`no`, `on`/`off`).
- An empty value unsets `TRADEGRAPH_MONGODB_URL`, `TRADEGRAPH_METRICS_TOKEN`, `OPENAI_API_KEY`
  and `OPENAI_BASE_URL`; `TRADEGRAPH_DATA_DIR=` (empty) keeps the embedded store in memory only.
- A *secret* is held masked: printed settings show `**********`, never its value.

In production (`TRADEGRAPH_ENVIRONMENT=production`) the server refuses to start until
`TRADEGRAPH_JWT_SECRET`, `TRADEGRAPH_WEBHOOK_SECRET` and `TRADEGRAPH_MONGODB_URL` are set; with
several processes (`serve --workers N`, replicas) set `TRADEGRAPH_BROADCAST_URL=redis://…` and a
shared `TRADEGRAPH_JWT_SECRET` too. [Deploying](operations/deploying.md) has the whole list.

## All variables

| Variable | Default |
|---|---|
"""

_TYPE_NAMES: dict[object, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    Decimal: "decimal",
    Path: "path",
    SecretStr: "secret",
}


def variable(name: str, field: FieldInfo) -> str:
    """The environment variable a field is read from."""
    alias = field.validation_alias
    if isinstance(alias, str):
        return alias
    prefix = Settings.model_config.get("env_prefix", "")
    return f"{prefix}{name}".upper()


def type_name(annotation: object) -> str:
    """A reader's name for a field's type: `integer`, `secret`, or an enum's values."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        parts = [a for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(type_name(a) for a in parts)
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return ", ".join(f"`{member.value}`" for member in annotation)
    return _TYPE_NAMES.get(annotation, getattr(annotation, "__name__", str(annotation)))


def bounds(field: FieldInfo) -> str:
    """The field's numeric and length bounds, e.g. `> 0, ≤ 60`."""
    found = []
    for item in field.metadata:
        for attribute, symbol in (("gt", ">"), ("ge", "≥"), ("lt", "<"), ("le", "≤")):
            value = getattr(item, attribute, None)
            if value is not None:
                found.append(f"{symbol} {value}")
        if isinstance(item, annotated_types.MinLen):
            found.append(f"length ≥ {item.min_length}")
        if isinstance(item, annotated_types.MaxLen):
            found.append(f"length ≤ {item.max_length}")
    return ", ".join(found)


def default(field: FieldInfo) -> str:
    """The default as it would be written in the environment, or what stands for it."""
    if field.default_factory is not None:
        return "computed at startup"
    value: Any = field.default
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "unset"
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        value = "true" if value else "false"
    return f"`{value}`"


_VARIABLE = re.compile(r"\b(?:TRADEGRAPH|OPENAI)_[A-Z0-9_]+\b")


def _cell(text: str) -> str:
    """Markdown for text from a field: pipes escaped (it may sit in a table); outside code
    spans, `<` escaped (it would open an HTML tag) and variable names set as code."""
    parts = text.replace("|", "\\|").replace("\n", " ").split("`")
    for index in range(0, len(parts), 2):  # even parts lie outside code spans
        plain = parts[index].replace("<", "&lt;")
        parts[index] = _VARIABLE.sub(lambda match: f"`{match.group()}`", plain)
    return "`".join(parts)


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", ")", "!", "?")) else f"{text}."


def summary_row(name: str, field: FieldInfo) -> str:
    """The variable, linked to its section, and its default."""
    env = variable(name, field)
    return f"| [`{env}`](#{env.lower()}) | {_cell(default(field))} |\n"


def section(name: str, field: FieldInfo) -> str:
    """A variable's own section: its description, then type, bounds and default."""
    kind = type_name(field.annotation)
    limits = bounds(field)
    if limits:
        kind = f"{kind} ({limits})"
    description = _cell(_sentence(field.description or ""))
    facts = f"Type: {_cell(kind)} · Default: {_cell(default(field))}"
    return f"### `{variable(name, field)}`\n\n{description}\n\n{facts}\n"


def undescribed() -> list[str]:
    """Settings fields without a description: each must say what it is for."""
    return [name for name, field in Settings.model_fields.items() if not field.description]


def render() -> str:
    """The whole configuration page."""
    fields = Settings.model_fields.items()
    summary = "".join(summary_row(name, field) for name, field in fields)
    sections = "\n".join(section(name, field) for name, field in fields)
    return f"{INTRODUCTION.format(command=COMMAND)}{summary}\n## Each variable\n\n{sections}"


# The README's configuration section: what a deployment sets first, then every setting that
# bounds what one request, connection, user, caller or address may cost (docs/fair-share.md).
ESSENTIALS = (
    "environment",
    "mongodb_url",
    "broadcast_url",
    "jwt_secret",
    "webhook_secret",
    "admin_email",
    "admin_password",
    "data_dir",
    "market_feed",
    "openai_api_key",
    "cors_origins",
    "public_url",
    "trusted_proxies",
    "metrics_token",
    "log_format",
)
LIMITS = (
    "graphql_max_body_bytes",
    "ws_max_message_bytes",
    "webhook_max_body_bytes",
    "graphql_max_tokens",
    "graphql_max_depth",
    "graphql_max_aliases",
    "graphql_max_fields",
    "graphql_max_cost",
    "max_running_requests_per_caller",
    "max_waiting_requests_per_caller",
    "max_connections_per_user",
    "max_subscriptions_per_user",
    "widget_key_max_connections",
    "widget_key_max_subscriptions",
    "ws_init_timeout_seconds",
    "subscriber_queue_size",
    "feed_max_replay",
    "runs_per_user",
    "queued_runs_per_user",
    "max_portfolio_cash",
    "login_max_failures",
    "login_max_failures_per_address",
    "login_max_per_account_per_minute",
    "login_lockout_seconds",
    "register_max_conflicts_per_address",
    "register_window_seconds",
    "password_hash_concurrency",
    "password_hash_niceness",
)
README_START = f"<!-- configuration: generated by {COMMAND} from tradegraph/config.py -->"
README_END = "<!-- end of configuration -->"


def readable_bytes(count: int) -> str:
    """Bytes as a person reads them: `64 KiB`, `1 MiB`, or the count when it is not round."""
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if count >= scale and count % scale == 0:
            return f"{count // scale} {unit}"
    return f"{count:,} bytes"


def fixed_limits() -> list[str]:
    """The limits written in the code, not settings, that a user or client meets."""
    return [
        f"a `connection_init` payload of {readable_bytes(ws_messages.MAX_INIT_BYTES)}",
        f"{json_cost.MAX_JSON_VALUES:,} JSON values and {json_cost.MAX_JSON_DEPTH} levels of "
        "nesting in one body or message",
        f"{pagination.MAX_PAGE_SIZE} items per page ({research_runs.MAX_PAGE_SIZE} for "
        "backtest and optimisation runs)",
        f"{instruments.MAX_SYMBOLS_PER_REQUEST} symbols per quotes request",
        f"{candles.MAX_CANDLES:,} candles per request and {candles.MAX_IMPORT:,} per import",
        f"{portfolios.MAX_PORTFOLIOS_PER_OWNER} portfolios and {watchlists.MAX_WATCHLISTS} "
        f"watchlists per user, {watchlists.MAX_SYMBOLS} symbols per watchlist",
        f"{parameter_grid.MAX_COMBINATIONS:,} combinations per optimisation",
        f"{validation.MAX_BATCH_SIZE:,} events per webhook request, "
        f"{readable_bytes(validation.MAX_METADATA_BYTES)} of metadata per event",
        f"passwords of {password_policy.MIN_PASSWORD_LENGTH} to "
        f"{password_policy.MAX_PASSWORD_LENGTH} characters",
    ]


_COUNTED = re.compile(r"\(counted [^()]*\)$")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


def _clauses(sentence: str) -> list[str]:
    """The sentence split at its top-level `; ` (not inside parentheses or code)."""
    found, depth, start, in_code = [], 0, 0, False
    for index, char in enumerate(sentence):
        if char == "`":
            in_code = not in_code
        elif not in_code and char in "()":
            depth += 1 if char == "(" else -1
        elif char == ";" and depth == 0 and not in_code:
            found.append(sentence[start:index].strip())
            start = index + 1
    return [*found, sentence[start:].strip()]


def short_description(field: FieldInfo) -> str:
    """What a setting is, for a README row: its description's first sentence. A setting with a
    default keeps only the sentence's first clause (before a top-level `;`; what follows says
    what happens past it, as its docs section does) and a closing "(counted per server
    process)" or the like; one unset by default keeps the whole sentence, which says what unset
    means."""
    sentence = _SENTENCE_END.split(field.description or "")[0].rstrip(".")
    if field.default is None:
        return sentence
    first = _clauses(sentence)[0]
    scope = _COUNTED.search(sentence)  # where a cap is counted: per process, or in Redis
    return first if scope is None or scope.group(0) in first else f"{first} {scope.group(0)}"


def readme_row(name: str) -> str:
    """A README row: the variable, linked to its section of docs/configuration.md."""
    field = Settings.model_fields[name]
    env = variable(name, field)
    value = default(field)
    if name.endswith("_bytes") and isinstance(field.default, int):
        value = f"{value} ({readable_bytes(field.default)})"
    link = f"[`{env}`](docs/configuration.md#{env.lower()})"
    text = short_description(field)
    return f"| {link} | {_cell(value)} | {_cell(f'{text[:1].upper()}{text[1:]}.')} |\n"


def _readme_table(names: tuple[str, ...]) -> str:
    rows = "".join(readme_row(name) for name in names)
    return f"| Variable | Default | What it is |\n|---|---|---|\n{rows}"


def readme_section() -> str:
    """The README's configuration section, between its markers (included)."""
    introduction = (
        "Every setting is an environment variable, read once at startup "
        "(`tradegraph/config.py`). [The configuration page](docs/configuration.md) has all "
        f"{len(Settings.model_fields)} of them with their types and bounds; these are the ones "
        "a deployment sets first:"
    )
    limits = (
        "**Limits**: what one request, connection, user, caller or client address may cost the "
        "server ([fair share and limits](docs/fair-share.md)):"
    )
    fixed = f"Fixed in the code, not configurable: {'; '.join(fixed_limits())}."
    return (
        f"{README_START}\n\n{_wrap(introduction)}\n\n{_readme_table(ESSENTIALS)}\n"
        f"{_wrap(limits)}\n\n{_readme_table(LIMITS)}\n{_wrap(fixed)}\n\n{README_END}"
    )


def _wrap(paragraph: str) -> str:
    """A paragraph wrapped as the README's own text is (links and code spans kept whole)."""
    return textwrap.fill(paragraph, width=100, break_long_words=False, break_on_hyphens=False)


def with_readme_section(readme: str) -> str:
    """The README with its configuration section (between the markers) written anew."""
    start, end = readme.find(README_START), readme.find(README_END)
    if start < 0 or end < start:
        raise ValueError(f"README.md lacks the markers {README_START!r} … {README_END!r}")
    return readme[:start] + readme_section() + readme[end + len(README_END) :]


def main() -> int:
    missing = undescribed()
    if missing:
        print(f"Settings fields without a description: {', '.join(missing)}", file=sys.stderr)
        return 1
    PAGE.write_text(render())
    README.write_text(with_readme_section(README.read_text()))
    print(f"wrote {PAGE} and the configuration section of {README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
