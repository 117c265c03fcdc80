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
    """The error with `extensions.code`. Errors raised while executing (they have a path) are
    domain errors or bugs: a bug, such as a result its type cannot serialise, is logged and
    masked as INTERNAL_SERVER_ERROR. Errors without a path concern the request itself."""
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
    if error.extensions and "code" in error.extensions:
        return error
    if error.path is not None:
        log.error(
            "unexpected error in resolver",
            path=error.path,
            error=error.message,
            exc_info=original or error,
        )
        return GraphQLError(
            "internal server error",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": INTERNAL.code},
        )
    error.extensions = {**(error.extensions or {}), "code": _request_error_code(error)}
    return error


def _request_error_code(error: GraphQLError) -> str:
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED"
    if error.message.startswith("Variable "):
        return "BAD_USER_INPUT"  # a variable's value failed its type
    if error.original_error is not None and not isinstance(error.original_error, GraphQLError):
        return "BAD_USER_INPUT"  # a custom scalar (Decimal) refused a literal of the document
    return "GRAPHQL_VALIDATION_FAILED"


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
