"""Refuses GraphQL documents that would cost too much, before they are validated or executed.

`measure_document` walks a parsed document once. Every fragment definition is measured once, in
dependency order, and its measure is reused at each spread: `...F` where F spreads F' twice per
level for 40 levels takes 40 steps, not 2^40. Counts saturate at CAP instead of growing.

The cost estimates how many fields execution resolves: each field costs 1, and what is selected
inside a list is counted once per item, at the `first`/`limit` the request asks for (or the
argument's default), or DEFAULT_LIST_SIZE for a list nothing sizes. Introspection (`__schema`,
fields of `__Type`…) adds no depth and costs 1 a field, as in Strawberry's depth limiter (GraphiQL's
introspection query is 12 deep); graphql-core's MaxIntrospectionDepthRule bounds it instead.

A field that reads and ranks stored rows (an optimisation's up to 10,000 combinations) costs
what that work is worth in fields (FIELD_WEIGHTS), however small its selection: 30 aliases of
`heatmap` weigh 30 times one, even though the rows themselves are read once per operation.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    get_named_type,
    get_nullable_type,
    is_introspection_type,
    is_list_type,
)

if TYPE_CHECKING:
    from tradegraph.config import Settings

CAP = 2**62
DEFAULT_LIST_SIZE = 20  # the resolvers' default page size
PAGE_ARGUMENTS = ("first", "last", "limit")
ROWS_WEIGHT = 2_000  # reading and ranking up to 10,000 stored rows, in fields
FIELD_WEIGHTS = {  # (type, field) -> cost on top of its selection
    ("Optimization", "top"): ROWS_WEIGHT,
    ("Optimization", "heatmap"): ROWS_WEIGHT,
}
QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"


@dataclass(frozen=True)
class QueryLimits:
    """The most a document may ask for; see Settings.graphql_max_* for each one's meaning."""

    max_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 10_000
    max_fields: int = 1_000
    max_cost: int = 50_000

    @classmethod
    def from_settings(cls, settings: Settings) -> QueryLimits:
        return cls(
            max_depth=settings.graphql_max_depth,
            max_aliases=settings.graphql_max_aliases,
            max_tokens=settings.graphql_max_tokens,
            max_fields=settings.graphql_max_fields,
            max_cost=settings.graphql_max_cost,
        )


def _add(a: int, b: int) -> int:
    return min(a + b, CAP)


def _times(a: int, b: int) -> int:
    return min(a * b, CAP)


@dataclass(frozen=True)
class Measure:
    """A selection set once expanded. Its cost is `fixed_cost + item_cost * n` where n is the
    page size its enclosing field asked for (`events(first: n) { edges … }`)."""

    fields: int = 0
    depth: int = 0
    aliases: int = 0
    fixed_cost: int = 0
    item_cost: int = 0  # of the lists directly inside, per item

    def __add__(self, other: Measure) -> Measure:
        """Sibling selections: counts add up, depth is the deeper one's."""
        return Measure(
            fields=_add(self.fields, other.fields),
            depth=max(self.depth, other.depth),
            aliases=_add(self.aliases, other.aliases),
            fixed_cost=_add(self.fixed_cost, other.fixed_cost),
            item_cost=_add(self.item_cost, other.item_cost),
        )

    def cost(self, page_size: int | None = None) -> int:
        size = DEFAULT_LIST_SIZE if page_size is None else page_size
        return _add(self.fixed_cost, _times(self.item_cost, size))


@dataclass(frozen=True)
class DocumentMeasure:
    """The largest of each count over the document's operations and fragment definitions."""

    fields: int
    depth: int
    aliases: int
    cost: int
    uses_variables: bool  # a page size came from a variable: measure again for other values


class FragmentCycle(GraphQLError):
    """A fragment that spreads itself, directly or through others."""

    def __init__(self, path: list[str], node: FragmentDefinitionNode) -> None:
        super().__init__(
            f"fragment {path[0]} spreads itself ({' -> '.join(path)})",
            node,
            extensions={"code": "GRAPHQL_VALIDATION_FAILED"},
        )


def measure_document(
    document: DocumentNode, schema: GraphQLSchema, variables: Mapping[str, Any] | None = None
) -> DocumentMeasure:
    """Measures every operation and fragment of `document`; raises FragmentCycle."""
    walker = _Walker(document, schema, variables or {})
    measures = walker.measure_fragments()
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            root = schema.get_root_type(OperationType(definition.operation))
            measures.append(walker.selection_set(definition.selection_set, root))
    return DocumentMeasure(
        fields=max((m.fields for m in measures), default=0),
        depth=max((m.depth for m in measures), default=0),
        aliases=max((m.aliases for m in measures), default=0),
        cost=max((m.cost() for m in measures), default=0),
        uses_variables=walker.uses_variables,
    )


def limit_exceeded(measure: DocumentMeasure, limits: QueryLimits) -> GraphQLError | None:
    """A QUERY_TOO_COMPLEX error naming the first limit `measure` exceeds, or None."""
    checks = (
        ("query depth", measure.depth, limits.max_depth, "DEPTH", ""),
        ("alias count", measure.aliases, limits.max_aliases, "ALIASES", ""),
        ("field count (fragments expanded)", measure.fields, limits.max_fields, "FIELDS", ""),
        (
            "estimated cost",
            measure.cost,
            limits.max_cost,
            "COST",
            "; ask for smaller pages (first) or fewer fields",
        ),
    )
    for what, value, limit, name, hint in checks:
        if value > limit:
            shown = f"over {CAP}" if value >= CAP else str(value)
            return too_complex(
                f"{what} {shown} exceeds the limit of {limit} (TRADEGRAPH_GRAPHQL_MAX_{name}){hint}"
            )
    return None


def too_complex(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": QUERY_TOO_COMPLEX})


class _Walker:
    def __init__(
        self, document: DocumentNode, schema: GraphQLSchema, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {
            definition.name.value: definition
            for definition in document.definitions
            if isinstance(definition, FragmentDefinitionNode)
        }
        self.defaults = _variable_defaults(document)
        self.measured: dict[str, Measure] = {}
        self.uses_variables = False

    def measure_fragments(self) -> list[Measure]:
        """Measures each fragment after the fragments it spreads."""
        for name in _dependency_order(self.fragments):
            definition = self.fragments[name]
            self.measured[name] = self.selection_set(
                definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
            )
        return list(self.measured.values())

    def selection_set(self, node: SelectionSetNode, parent: GraphQLNamedType | None) -> Measure:
        total = Measure()
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent)
            elif isinstance(selection, FragmentSpreadNode):
                # Unknown fragments count as nothing: validation refuses them.
                total += self.measured.get(selection.name.value, Measure())
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = parent if condition is None else self.schema.get_type(condition.name.value)
                total += self.selection_set(selection.selection_set, inner)
        return total

    def field(self, node: FieldNode, parent: GraphQLNamedType | None) -> Measure:
        alias = 1 if node.alias is not None else 0
        if node.selection_set is None:
            return Measure(fields=1, aliases=alias, fixed_cost=1)
        measure = self._field(node, parent, alias)
        weight = FIELD_WEIGHTS.get((parent.name if parent else "", node.name.value), 0)
        return replace(measure, fixed_cost=_add(measure.fixed_cost, weight))

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, alias: int) -> Measure:
        assert node.selection_set is not None
        definition = _field_definition(parent, node.name.value)
        child_type = get_named_type(definition.type) if definition is not None else None
        children = self.selection_set(node.selection_set, child_type)
        fields, aliases = _add(1, children.fields), _add(alias, children.aliases)
        if node.name.value.startswith("__") or (
            parent is not None and is_introspection_type(parent)
        ):
            return Measure(fields=fields, aliases=aliases, fixed_cost=fields)
        size = self.page_size(node, definition)
        is_list = definition is not None and is_list_type(get_nullable_type(definition.type))
        depth = 1 + children.depth
        if not is_list:  # a connection's lists (`edges`) hold `size` items
            return Measure(fields, depth, aliases, fixed_cost=_add(1, children.cost(size)))
        if size is None:  # as long as the enclosing field's page size says, or unknown
            return Measure(fields, depth, aliases, fixed_cost=1, item_cost=children.cost())
        return Measure(fields, depth, aliases, fixed_cost=_add(1, _times(size, children.cost())))

    def page_size(self, node: FieldNode, definition: GraphQLField | None) -> int | None:
        """The `first`/`last`/`limit` the field is asked for; None when it has no such argument."""
        if definition is None:
            return None
        for name in PAGE_ARGUMENTS:
            argument = definition.args.get(name)
            if argument is None:
                continue
            value = self.argument_value(node, name)
            if value is Undefined:
                value = argument.default_value
            if isinstance(value, int) and not isinstance(value, bool):
                return min(max(value, 0), CAP)
            return DEFAULT_LIST_SIZE
        return None

    def argument_value(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value != name:
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                self.uses_variables = True
                variable = value.name.value
                return self.variables.get(variable, self.defaults.get(variable, Undefined))
            return None  # another literal: invalid, validation refuses it
        return Undefined


def _field_definition(parent: GraphQLNamedType | None, name: str) -> GraphQLField | None:
    if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        return None
    field: GraphQLField | None = parent.fields.get(name)
    return field


def _variable_defaults(document: DocumentNode) -> dict[str, int]:
    """Integer defaults of the operations' variables (the largest, if two operations differ)."""
    defaults: dict[str, int] = {}
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        for variable in definition.variable_definitions or ():
            if isinstance(variable.default_value, IntValueNode):
                name = variable.variable.name.value
                value = int(variable.default_value.value)
                defaults[name] = max(value, defaults.get(name, value))
    return defaults


def _spreads(node: SelectionSetNode) -> Iterator[str]:
    for selection in node.selections:
        if isinstance(selection, FragmentSpreadNode):
            yield selection.name.value
        elif isinstance(selection, FieldNode | InlineFragmentNode) and selection.selection_set:
            yield from _spreads(selection.selection_set)


def _dependency_order(fragments: Mapping[str, FragmentDefinitionNode]) -> list[str]:
    """Fragment names, each after every fragment it spreads (iterative: chains can be long).

    Raises FragmentCycle; spreads of unknown fragments are left to validation."""
    spreads = {
        name: list(dict.fromkeys(_spreads(fragment.selection_set)))
        for name, fragment in fragments.items()
    }
    order: list[str] = []
    done: set[str] = set()
    for start in fragments:
        if start in done:
            continue
        path, on_path = [start], {start}
        pending = [iter(spreads[start])]
        while pending:
            child = next(pending[-1], None)
            if child is None:
                on_path.discard(path[-1])
                done.add(path[-1])
                order.append(path.pop())
                pending.pop()
            elif child in on_path:
                cycle = [*path[path.index(child) :], child]
                raise FragmentCycle(cycle, fragments[child])
            elif child in fragments and child not in done:
                path.append(child)
                on_path.add(child)
                pending.append(iter(spreads[child]))
    return order
