"""JSON error bodies for the non-GraphQL routes: a route raises a domain error and the handler
registered in app.py answers with the status and code from error_codes.py."""

from __future__ import annotations

from typing import Any

import structlog
from starlette.requests import Request
from starlette.responses import JSONResponse

from tradegraph.error_codes import INTERNAL, error_code, public_details
from tradegraph.errors import DomainError, NotAuthenticated

log = structlog.get_logger(__name__)


def error_response(error: DomainError) -> JSONResponse:
    """`{"error": {"code", "message", …details}}` with the status of the error's class."""
    row = error_code(error)
    details = public_details(error)
    response = JSONResponse(
        {"error": {"code": row.code, "message": error.message, **details}},
        status_code=row.http_status,
    )
    if isinstance(error, NotAuthenticated):
        response.headers["www-authenticate"] = "Bearer"
    retry_after = error.details.get("retry_after_seconds")
    if retry_after is not None:  # RATE_LIMITED, SERVICE_UNAVAILABLE: when to try again
        response.headers["retry-after"] = str(retry_after)
    return response


async def domain_error_handler(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, DomainError)
    return error_response(error)


async def unexpected_error_handler(request: Request, error: Exception) -> JSONResponse:
    """Anything else is logged with its traceback and answered as JSON, never plain text."""
    log.error("unexpected error in route", path=request.url.path, exc_info=error)
    body: dict[str, Any] = {"error": {"code": INTERNAL.code, "message": "internal server error"}}
    return JSONResponse(body, status_code=INTERNAL.http_status)


def graphql_error_response(status: int, code: str, message: str) -> JSONResponse:
    """A GraphQL-shaped refusal of a /graphql request that never reached execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )
