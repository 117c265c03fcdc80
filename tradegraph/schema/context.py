"""Per-request state: services, the caller, and why a presented token was refused."""

from __future__ import annotations

from typing import Any

from tradegraph.auth.principal import Principal
from tradegraph.auth.tokens import read_access_token
from tradegraph.errors import NotAuthenticated
from tradegraph.services import Services


def bearer_token(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    scheme, _, token = value.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class Context:
    def __init__(self, services: Services, request: Any, response: Any) -> None:
        self.services = services
        self.request = request
        self.response = response
        self.connection_params: dict[str, Any] | None = None
        self.principal: Principal | None = None
        self.token_refused = False

    def authenticate(self, authorization: Any) -> Principal | None:
        """Reads `Authorization: Bearer …`; remembers a refused token for the error message."""
        token = bearer_token(authorization)
        if token is None:
            self.token_refused = authorization is not None
            return None
        self.principal = read_access_token(token, self.services.settings.effective_jwt_secret)
        self.token_refused = self.principal is None
        return self.principal

    def require_principal(self) -> Principal:
        if self.principal is not None:
            return self.principal
        if self.token_refused:
            raise NotAuthenticated(
                "access token is invalid or expired; log in or refresh it (refreshToken)"
            )
        raise NotAuthenticated("authentication required: send Authorization: Bearer <accessToken>")
