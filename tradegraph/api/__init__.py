"""The GraphQL API assembled in one place: root types composed from the per-domain resolvers,
the scalars and the extensions every operation runs through."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig

from tradegraph.api.mutation import Mutation
from tradegraph.api.query import Query
from tradegraph.api.subscription import Subscription
from tradegraph.schema.core.context import FreshLoaders
from tradegraph.schema.core.document_cache import DocumentCache
from tradegraph.schema.core.errors import ErrorCodes
from tradegraph.schema.core.introspection import DisableIntrospection, LimitIntrospectionDepth
from tradegraph.schema.core.query_cost import QueryLimits
from tradegraph.schema.core.query_cost_limit import QueryLimiter
from tradegraph.schema.core.scalars import DecimalScalar
from tradegraph.schema.core.stored_principal import StoredPrincipal
from tradegraph.schema.core.subscription_executor import PerEventMemoExecutor
from tradegraph.schema.core.widget_scope import WidgetKeyScope


class Schema(strawberry.Schema):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("execution_context_class", PerEventMemoExecutor)
        super().__init__(*args, **kwargs)

    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Silenced: ErrorCodes logs the unexpected errors; the rest are the caller's."""


def build_schema(
    limits: QueryLimits | None = None, *, introspection: bool = True
) -> strawberry.Schema:
    """The schema, refusing documents over `limits` (defaults: QueryLimits()) before any work,
    resolving the caller from the store and giving every operation fresh DataLoaders."""
    limits = limits or QueryLimits()
    documents = DocumentCache()  # one per schema: validity depends on the schema
    extensions: list[type[SchemaExtension] | Callable[[], SchemaExtension]] = [
        ErrorCodes,
        lambda: QueryLimiter(limits, documents),
        LimitIntrospectionDepth,
        FreshLoaders,
        StoredPrincipal,
        WidgetKeyScope,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=extensions,
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
