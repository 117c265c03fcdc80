"""The GraphQL API assembled in one place: root types composed from the per-domain resolvers,
the scalars and the extensions every operation runs through."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaxAliasesLimiter, QueryDepthLimiter
from strawberry.schema.config import StrawberryConfig

from tradegraph.api.mutation import Mutation
from tradegraph.api.query import Query
from tradegraph.api.subscription import Subscription
from tradegraph.schema.authentication import StoredPrincipal
from tradegraph.schema.context import FreshLoaders
from tradegraph.schema.errors import ErrorCodes
from tradegraph.schema.scalars import DecimalScalar

MAX_QUERY_DEPTH = 10
MAX_ALIASES = 30


class Schema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: Any = None) -> None:
        """Silenced: ErrorCodes logs the unexpected errors; the rest are the caller's."""


def build_schema() -> strawberry.Schema:
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        config=StrawberryConfig(scalar_map={Decimal: DecimalScalar}),
        extensions=[
            ErrorCodes,
            FreshLoaders,
            StoredPrincipal,
            lambda: QueryDepthLimiter(max_depth=MAX_QUERY_DEPTH),
            lambda: MaxAliasesLimiter(max_alias_count=MAX_ALIASES),
        ],
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"
