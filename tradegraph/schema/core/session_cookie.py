"""The refresh token as a cookie, for browsers: HttpOnly (page scripts never see it), SameSite
Strict (never sent from another site), Secure when the page is https, and sent only under
/auth: to POST /auth/refresh, which spends it, and POST /auth/logout (web/session_endpoints.py).

login, register and refreshToken over HTTP set it (API clients may ignore it and keep using the
`refreshToken` field); logout clears it."""

from __future__ import annotations

from typing import Any

from starlette.requests import HTTPConnection
from starlette.responses import Response

REFRESH_COOKIE = "tradegraph_refresh"
SESSION_PATH = "/auth"


def is_https(request: HTTPConnection, public_url: str | None) -> bool:
    """Whether the browser reached us over https: the request's scheme (behind a trusted proxy,
    its X-Forwarded-Proto), or a TRADEGRAPH_PUBLIC_URL that says so."""
    return request.url.scheme in ("https", "wss") or (public_url or "").startswith("https://")


def set_refresh_cookie(
    response: Response, token: str, max_age: int, request: HTTPConnection, public_url: str | None
) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=max_age,
        path=SESSION_PATH,
        secure=is_https(request, public_url),
        httponly=True,
        samesite="strict",
    )


def clear_refresh_cookie(
    response: Response, request: HTTPConnection, public_url: str | None
) -> None:
    response.delete_cookie(
        REFRESH_COOKIE,
        path=SESSION_PATH,
        secure=is_https(request, public_url),
        httponly=True,
        samesite="strict",
    )


def http_exchange(context: Any) -> tuple[HTTPConnection, Response] | None:
    """The request and the response of an operation over HTTP; None over a WebSocket."""
    request, response = getattr(context, "request", None), getattr(context, "response", None)
    if isinstance(response, Response) and isinstance(request, HTTPConnection):
        return request, response
    return None
