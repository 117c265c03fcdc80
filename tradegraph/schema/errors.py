"""GraphQL errors get `extensions.code` from error_codes.py (the table shared with the HTTP
routes); unexpected errors are logged and masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from tradegraph.error_codes import INTERNAL, error_code, public_details
from tradegraph.errors import DomainError

log = structlog.get_logger(__name__)


def with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, DomainError):
        details = public_details(original)
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            original_error=original,
            extensions={**details, "code": error_code(original).code},
        )
    if original is not None and not isinstance(original, GraphQLError):
        log.error("unexpected error in resolver", path=error.path, exc_info=original)
        return GraphQLError(
            "internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": INTERNAL.code},
        )
    if error.extensions and "code" in error.extensions:
        return error
    if isinstance(error, GraphQLSyntaxError):
        code = "GRAPHQL_PARSE_FAILED"
    elif error.message.startswith("Variable "):
        code = "BAD_USER_INPUT"  # a variable's value failed its type
    else:
        code = "GRAPHQL_VALIDATION_FAILED"
    error.extensions = {**(error.extensions or {}), "code": code}
    return error


class ErrorCodes(SchemaExtension):
    """Sets `extensions.code` on every error of queries, mutations and subscription frames."""

    def on_operation(self) -> Iterator[None]:
        yield
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult):
            _apply(result)
        elif initial := getattr(result, "initial_result", None):
            _apply(initial)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        _apply(result)
        yield None


def _apply(result: Any) -> None:
    if getattr(result, "errors", None):
        result.errors = [
            error if getattr(error, "_coded", False) else _mark(with_code(error))
            for error in result.errors
        ]


def _mark(error: GraphQLError) -> GraphQLError:
    error._coded = True  # type: ignore[attr-defined]  # on_operation may see it again
    return error
