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


LOWER_LAYERS = [
    "documents",
    "pubsub",
    "events",
    "markets",
    "trading",
    "analytics",
    "auth",
    "insights",
    "widgets",
    "store",
    "subscriptions",
]


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


# Each part of tradegraph in its layer, lowest first: a module imports only from its own layer or
# the layers below it (the README's architecture sketch).
LAYERS: list[set[str]] = [
    {
        "config",
        "errors",
        "error_codes",
        "decimals",
        "pagination",
        "time_buckets",
        "logs",
        "__init__",
        "tradegraph",
    },
    {"documents", "pubsub", "sequences"},
    {"events", "markets", "trading", "analytics", "auth", "insights", "widgets"},
    {"store", "subscriptions"},
    {"services"},
    {"schema", "resolvers", "api"},
    {"web", "app", "server", "cli", "__main__", "config_reference"},
]
RANK = {unit: rank for rank, units in enumerate(LAYERS) for unit in units}


def test_every_part_has_a_layer() -> None:
    assert {_unit(module) for module in IMPORTS} - set(RANK) == set()


def test_imports_point_down_the_layers() -> None:
    upward = sorted(
        f"{module} -> {name}"
        for module, imported in IMPORTS.items()
        for name in imported
        if name != "tradegraph" and RANK[_unit(name)] > RANK[_unit(module)]
    )
    assert upward == []


def _third_party(module: str) -> set[str]:
    path = PACKAGE.joinpath(*module.split(".")[1:])
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    found: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
    return found


@pytest.mark.parametrize("layer", LOWER_LAYERS)
def test_the_domain_imports_no_web_framework(layer: str) -> None:
    frameworks = {"strawberry", "starlette", "uvicorn"}
    offenders = {
        module: sorted(_third_party(module) & frameworks)
        for module in IMPORTS
        if _unit(module) == layer
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_no_import_cycle_between_modules() -> None:
    """Module by module, TYPE_CHECKING imports included: no two modules need each other."""
    graph = {module: _module_edges(module) - {module} for module in IMPORTS}
    assert _cycle(graph) is None


def _module_edges(module: str) -> set[str]:
    """The tradegraph modules `module` imports: `from package import submodule` points at the
    submodule, not at the package."""
    path = PACKAGE.joinpath(*module.split(".")[1:])
    source = path / "__init__.py" if path.is_dir() else path.with_suffix(".py")
    edges: set[str] = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                submodule = f"{node.module}.{alias.name}"
                edges.add(submodule if submodule in IMPORTS else node.module)
        elif isinstance(node, ast.Import):
            edges.update(alias.name for alias in node.names)
    return {edge for edge in edges if edge in IMPORTS}
