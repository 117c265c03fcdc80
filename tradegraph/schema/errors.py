"""The one place domain errors become GraphQL `extensions.code`; unexpected errors are masked."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import structlog
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, GraphQLSyntaxError
from strawberry.extensions import SchemaExtension
from strawberry.types.execution import ExecutionResult

from tradegraph.errors import (
    AlreadyExists,
    DomainError,
    InsufficientFunds,
    InsufficientPosition,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    TooManyRequests,
)
from tradegraph.subscriptions.broker import SubscriberTooSlow

log = structlog.get_logger(__name__)

CODES: dict[type[DomainError], str] = {
    InvalidInput: "BAD_USER_INPUT",
    NotAuthenticated: "UNAUTHENTICATED",
    PermissionDenied: "FORBIDDEN",
    NotFound: "NOT_FOUND",
    AlreadyExists: "CONFLICT",
    TooManyRequests: "RATE_LIMITED",
    InsufficientFunds: "INSUFFICIENT_FUNDS",
    InsufficientPosition: "INSUFFICIENT_POSITION",
    SubscriberTooSlow: "SUBSCRIBER_TOO_SLOW",
}
INTERNAL = "INTERNAL_SERVER_ERROR"


def code_of(error: DomainError) -> str:
    for kind in type(error).__mro__:
        if kind in CODES:
            return CODES[kind]
    return INTERNAL


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def with_code(error: GraphQLError) -> GraphQLError:
    """The error with `extensions.code`. Errors raised while executing (they have a path) are
    domain errors or bugs: a bug, such as a result its type cannot serialise, is logged and
    masked as INTERNAL_SERVER_ERROR. Errors without a path concern the request itself."""
    original = error.original_error
    if isinstance(original, DomainError):
        details = {_camel(key): value for key, value in original.details.items()}
        return GraphQLError(
            original.message,
            nodes=error.nodes,
            path=error.path,
            original_error=original,
            extensions={**details, "code": code_of(original)},
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
            extensions={"code": INTERNAL},
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
