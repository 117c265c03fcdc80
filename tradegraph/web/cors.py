"""Which browser origins may use the API: one policy for CORS on HTTP and for the WebSocket
handshake's origin check, from TRADEGRAPH_CORS_ORIGINS."""

from __future__ import annotations

import re
from dataclasses import dataclass

import structlog
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin

from tradegraph.config import Environment, Settings

log = structlog.get_logger("tradegraph.cors")

# Development: a front-end dev server on any local port (Vite's 5173, CRA's 3000, …).
LOCAL_DEVELOPMENT = re.compile(r"http://(localhost|127\.0\.0\.1)(:[0-9]{1,5})?")
# What a browser's Origin header holds: scheme://host[:port], nothing else (no userinfo, path,
# query, fragment or whitespace). Anything more is a forged or broken header, never echoed.
SERIALIZED_ORIGIN = re.compile(
    r"[a-z][a-z0-9+.-]*://(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:[0-9]{1,5})?", re.IGNORECASE
)
ALLOWED_HEADERS = ("authorization", "content-type")
ALLOWED_METHODS = ("GET", "POST")
PREFLIGHT_MAX_AGE = 600


def well_formed(origin: str) -> bool:
    """Whether `origin` is exactly scheme://host[:port], as browsers send it: only such a value
    may ever be echoed back in Access-Control-Allow-Origin."""
    return SERIALIZED_ORIGIN.fullmatch(origin) is not None


@dataclass(frozen=True)
class OriginPolicy:
    """Exact origins (normalised as browsers send them), `*` for any, and optionally the
    development pattern."""

    origins: frozenset[str]
    pattern: re.Pattern[str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> OriginPolicy:
        """TRADEGRAPH_CORS_ORIGINS when set (empty: none); else local pages in development and
        none in production."""
        if settings.cors_origins is not None:
            listed = [o.strip() for o in settings.cors_origins.split(",") if o.strip()]
            try:
                return cls(normalize_allowed_origins(listed))
            except ValueError as error:
                raise ValueError(f"TRADEGRAPH_CORS_ORIGINS: {error}") from None
        if settings.environment is Environment.PRODUCTION:
            return cls(frozenset())
        return cls(frozenset(), LOCAL_DEVELOPMENT)

    def allows(self, origin: str) -> bool:
        """Whether a page served from `origin` may call the API. Only an origin exactly as
        browsers serialize it can be allowed (and so echoed), even with `*`."""
        if not well_formed(origin):
            return False
        if "*" in self.origins:
            return True
        normalized = normalize_origin(origin)
        if normalized is None:
            return False
        if self.pattern is not None and self.pattern.fullmatch(normalized):
            return True
        return normalized in self.origins

    def describe(self) -> str:
        """For logs: what is allowed."""
        parts = sorted(self.origins)
        if self.pattern is not None:
            parts.append("http://localhost:* and http://127.0.0.1:* (development default)")
        return ", ".join(parts) or "no other origin"


class Cors(CORSMiddleware):
    """Starlette's CORS middleware on an OriginPolicy: the allowed origin is echoed (never `*`),
    `authorization` and `content-type` may be sent, and a granted preflight answers 204."""

    def __init__(self, app: ASGIApp, policy: OriginPolicy) -> None:
        super().__init__(
            app,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            max_age=PREFLIGHT_MAX_AGE,
        )
        self.policy = policy

    def is_allowed_origin(self, origin: str) -> bool:
        return self.policy.allows(origin)

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 200:
            log.info(
                "CORS preflight refused",
                origin=request_headers.get("origin"),
                reason=bytes(response.body).decode(),
                allowed=self.policy.describe(),
            )
            return response
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-length"}
        headers.pop("content-type", None)
        return Response(status_code=204, headers=headers)


class WebSocketOriginCheck:
    """Mixed into the GraphQL view: a cross-origin WebSocket handshake is accepted only from an
    origin the policy allows; any other is refused 403 (Strawberry's check) and logged here
    with the reason, since the browser shows only close code 1006."""

    origin_policy: OriginPolicy

    def is_websocket_origin_allowed(self, request: object, origin: str) -> bool:
        if self.origin_policy.allows(origin):
            return True
        log.warning(
            "WebSocket refused (403): origin not allowed",
            origin=origin,
            allowed=self.origin_policy.describe(),
            fix="add the origin to TRADEGRAPH_CORS_ORIGINS (comma-separated)",
        )
        return False
