"""The layering rules of the README's architecture section, checked on the source itself."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "tradegraph"


def _unit(module: str) -> str:
    """The part of tradegraph a module belongs to: its package, or the top-level module."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else parts[0]


def _imports() -> dict[str, set[str]]:
    """Every tradegraph module imported by each source file (function-level imports too)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        module = ".".join(("tradegraph", *path.relative_to(PACKAGE).with_suffix("").parts))
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
        found[module.removesuffix(".__init__")] = {n for n in names if n.startswith("tradegraph")}
    return found


IMPORTS = _imports()


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, imported in IMPORTS.items():
        for name in imported:
            if name != "tradegraph" and _unit(name) != _unit(module):
                edges[_unit(module)].add(_unit(name))
    return edges


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


def test_no_import_cycle_between_packages() -> None:
    assert _cycle(_graph()) is None


@pytest.mark.parametrize("layer", ["resolvers", "web"])
def test_resolvers_and_web_reach_data_only_through_services(layer: str) -> None:
    offenders = {
        module: sorted(n for n in imported if n.startswith("tradegraph.documents"))
        for module, imported in IMPORTS.items()
        if _unit(module) == layer
    }
    assert {m: names for m, names in offenders.items() if names} == {}


LOWER_LAYERS = ["documents", "pubsub", "events", "markets", "trading", "analytics", "auth"]


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_lower_layers_know_nothing_of_graphql_or_http(layer: str) -> None:
    upper = ("tradegraph.schema", "tradegraph.resolvers", "tradegraph.web", "tradegraph.app")
    offenders = {
        module: sorted(n for n in imported if n.startswith(upper))
        for module, imported in IMPORTS.items()
        if _unit(module) == layer
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_pubsub_is_transport_only() -> None:
    imported = set().union(*(i for m, i in IMPORTS.items() if _unit(m) == "pubsub"))
    assert {_unit(n) for n in imported} <= {"pubsub", "errors", "config"}
