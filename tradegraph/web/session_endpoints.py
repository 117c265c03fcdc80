"""The browser session's two endpoints, reached only with the HttpOnly refresh cookie
(schema/session_cookie.py): POST /auth/refresh rotates it and answers a new access token;
POST /auth/logout revokes its family and clears it. Same-origin only: a request another site
makes (Origin or Sec-Fetch-Site says so) is refused before the cookie is looked at."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tradegraph.errors import NotAuthenticated, PermissionDenied
from tradegraph.schema.core.session_cookie import (
    REFRESH_COOKIE,
    clear_refresh_cookie,
    set_refresh_cookie,
)
from tradegraph.services import Services
from tradegraph.web.errors import error_response

NO_COOKIE = "no session cookie: log in (the dashboard keeps the session in an HttpOnly cookie)"


def _check_same_origin(request: Request) -> None:
    site = request.headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        raise PermissionDenied("the session endpoints answer only pages of this server")
    origin = request.headers.get("origin")
    own = f"{request.url.scheme}://{request.url.netloc}"
    if origin is not None and origin != own:
        raise PermissionDenied("the session endpoints answer only pages of this server")


async def refresh_session(request: Request) -> Response:
    """POST /auth/refresh: spends the refresh cookie for a new access token and a new cookie
    (`{"accessToken", "expiresIn", "user": {"id", "email", "role"}}`); 401 UNAUTHENTICATED
    without a live cookie, which is then cleared."""
    _check_same_origin(request)
    services: Services = request.app.state.services
    settings = services.settings
    token = request.cookies.get(REFRESH_COOKIE)
    try:
        if not token:
            raise NotAuthenticated(NO_COOKIE)
        tokens = await services.accounts.refresh(token)
    except NotAuthenticated as refused:
        response: Response = error_response(refused)
        clear_refresh_cookie(response, request, settings.public_url)
        return response
    user = tokens.user
    response = JSONResponse(
        {
            "accessToken": tokens.access_token,
            "expiresIn": settings.access_token_ttl_seconds,
            "user": {"id": str(user.id), "email": user.email, "role": user.role.value},
        },
        headers={"cache-control": "no-store"},
    )
    max_age = settings.refresh_token_ttl_seconds
    set_refresh_cookie(response, tokens.refresh_token, max_age, request, settings.public_url)
    return response


async def end_session(request: Request) -> Response:
    """POST /auth/logout: revokes the refresh family of the cookie's session and clears the
    cookie; `{"loggedOut": true}` when a live session was ended."""
    _check_same_origin(request)
    services: Services = request.app.state.services
    token = request.cookies.get(REFRESH_COOKIE)
    revoked = await services.accounts.logout(None, token) if token else 0
    response = JSONResponse({"loggedOut": revoked > 0}, headers={"cache-control": "no-store"})
    clear_refresh_cookie(response, request, services.settings.public_url)
    return response
