"""JSON error bodies: the non-GraphQL endpoints' shape, and GraphQL's for /graphql refusals."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def error_response(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **details}}, status_code=status
    )


def graphql_error_response(status: int, code: str, message: str) -> JSONResponse:
    """A GraphQL-shaped refusal of a request that never reached execution."""
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status
    )
