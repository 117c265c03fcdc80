"""The configuration page of the docs (docs/configuration.md), written from `Settings`.

Every variable, its type, default and description come from the fields themselves, so the page
cannot fall behind config.py: tests/unit/test_config_reference.py compares the committed page with
`render()`. Regenerate with `.venv/bin/python -m tradegraph.config_reference` (or `make docs`).
"""

from __future__ import annotations

import enum
import re
import sys
import types
import typing
from decimal import Decimal
from pathlib import Path
from typing import Any

import annotated_types
from pydantic import SecretStr
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from tradegraph.config import Settings

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
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


def main() -> int:
    missing = undescribed()
    if missing:
        print(f"Settings fields without a description: {', '.join(missing)}", file=sys.stderr)
        return 1
    PAGE.write_text(render())
    print(f"wrote {PAGE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
