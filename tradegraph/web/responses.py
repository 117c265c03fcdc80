"""JSON error bodies for the non-GraphQL endpoints, with the same codes as GraphQL errors."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse


def error_response(status: int, code: str, message: str, **details: Any) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message, **details}}, status_code=status
    )
