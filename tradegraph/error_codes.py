"""The one table from domain error class to what a client sees: the GraphQL `extensions.code`
and, for the non-GraphQL HTTP routes, the status. Looked up along the class hierarchy, so a
subclass inherits its parent's row unless it has its own."""

from __future__ import annotations

from typing import NamedTuple

from tradegraph.errors import (
    AlreadyExists,
    DomainError,
    InsufficientFunds,
    InsufficientPosition,
    InvalidInput,
    MalformedRequest,
    NotAuthenticated,
    NotFound,
    PayloadTooLarge,
    PermissionDenied,
    ServiceUnavailable,
    StreamInterrupted,
    SubscriberTooSlow,
    TooManyRequests,
)


class ErrorCode(NamedTuple):
    code: str
    http_status: int


INTERNAL = ErrorCode("INTERNAL_SERVER_ERROR", 500)

CODES: dict[type[DomainError], ErrorCode] = {
    InvalidInput: ErrorCode("BAD_USER_INPUT", 422),
    MalformedRequest: ErrorCode("BAD_USER_INPUT", 400),
    PayloadTooLarge: ErrorCode("BAD_USER_INPUT", 413),
    NotAuthenticated: ErrorCode("UNAUTHENTICATED", 401),
    PermissionDenied: ErrorCode("FORBIDDEN", 403),
    NotFound: ErrorCode("NOT_FOUND", 404),
    AlreadyExists: ErrorCode("CONFLICT", 409),
    TooManyRequests: ErrorCode("RATE_LIMITED", 429),
    InsufficientFunds: ErrorCode("INSUFFICIENT_FUNDS", 422),
    InsufficientPosition: ErrorCode("INSUFFICIENT_POSITION", 422),
    SubscriberTooSlow: ErrorCode("SUBSCRIBER_TOO_SLOW", 409),
    StreamInterrupted: ErrorCode("STREAM_INTERRUPTED", 503),
    ServiceUnavailable: ErrorCode("SERVICE_UNAVAILABLE", 503),
}


def error_code(error: DomainError) -> ErrorCode:
    """The row of the nearest class in `error`'s hierarchy that has one."""
    for kind in type(error).__mro__:
        if kind in CODES:
            return CODES[kind]
    return INTERNAL


def public_details(error: DomainError) -> dict[str, object]:
    """The error's details with camelCase keys, as GraphQL names its fields (`field`,
    `portfolioId`), for `extensions` and JSON error bodies alike."""
    return {_camel(key): value for key, value in error.details.items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
