"""The Strawberry extension that applies QueryLimits: it parses through the document cache under
the token limit, refuses documents over the limits before validation, and skips validating a
document already found valid. HTTP, graphql-transport-ws and graphql-ws all run its hooks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSyntaxError,
    NameNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from strawberry.extensions import SchemaExtension

from tradegraph.schema.core.document_cache import CachedDocument, DocumentCache
from tradegraph.schema.core.query_cost import (
    FragmentCycle,
    QueryLimits,
    limit_exceeded,
    measure_document,
    too_complex,
)

if TYPE_CHECKING:
    from strawberry.types import ExecutionContext


class QueryLimiter(SchemaExtension):
    """Per operation (a factory in the schema's extensions); `cache` is shared by all."""

    def __init__(self, limits: QueryLimits, cache: DocumentCache) -> None:
        super().__init__()
        self.limits = limits
        self.cache = cache
        self._entry: CachedDocument | None = None

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self.limits.max_tokens
        if isinstance(context.query, str) and context.graphql_document is None:
            self._parse_and_measure(context, context.query)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        entry = self._entry
        known_valid = (
            entry is not None
            and context.pre_execution_errors is None
            and context.validation_rules in entry.valid_under
        )
        if known_valid:
            context.pre_execution_errors = []  # Strawberry validates only while this is None
        yield
        if entry is not None and not known_valid and context.pre_execution_errors == []:
            entry.valid_under.add(context.validation_rules)

    def _parse_and_measure(self, context: ExecutionContext, query: str) -> None:
        try:
            entry = self.cache.parse(query, self.limits.max_tokens)
        except GraphQLSyntaxError as error:
            refusal = _parse_refusal(error, self.limits)
            if refusal is not None:
                # With no document Strawberry would parse again; a stand-in lets the refusal
                # through as a pre-execution error. Other syntax errors it reports itself.
                context.graphql_document = _stand_in(context)
                context.pre_execution_errors = [refusal]
            return
        context.graphql_document = entry.document
        self._entry = entry
        measure = entry.measure
        if measure is None:
            variables = context.variables if isinstance(context.variables, Mapping) else {}
            try:
                measure = measure_document(entry.document, context.schema._schema, variables)
            except FragmentCycle as error:
                context.pre_execution_errors = [error]
                return
            if not measure.uses_variables:
                entry.measure = measure
        if (refusal := limit_exceeded(measure, self.limits)) is not None:
            context.pre_execution_errors = [refusal]


def _parse_refusal(error: GraphQLSyntaxError, limits: QueryLimits) -> GraphQLError | None:
    # graphql-core reports both as syntax errors; they are limits, not mistakes.
    if f"more than {limits.max_tokens} tokens" in error.message:
        return too_complex(
            f"query token count exceeds the limit of {limits.max_tokens}"
            " (TRADEGRAPH_GRAPHQL_MAX_TOKENS)"
        )
    if "nested too deeply" in error.message:
        return too_complex(
            "query is nested too deeply to parse; the depth limit is"
            f" {limits.max_depth} (TRADEGRAPH_GRAPHQL_MAX_DEPTH)"
        )
    return None


def _stand_in(context: ExecutionContext) -> DocumentNode:
    """An empty operation of an allowed type, named as the request asks."""
    allowed = {OperationType(kind.value) for kind in context.allowed_operations}
    kind = min(allowed, key=list(OperationType).index, default=OperationType.QUERY)
    name = context.operation_name  # only the requested one: there is no document yet
    operation = OperationDefinitionNode(
        operation=kind,
        name=NameNode(value=name) if name else None,
        variable_definitions=(),
        directives=(),
        selection_set=SelectionSetNode(selections=()),
    )
    return DocumentNode(definitions=(operation,))
