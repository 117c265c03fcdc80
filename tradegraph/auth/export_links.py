"""Signed download links for CSV exports: a short JWT naming one user, one portfolio and one
file, so a plain link (no Authorization header) can download it for a minute."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from tradegraph.auth.tokens import ALGORITHM, ISSUER
from tradegraph.config import Settings

PURPOSE = "export"


@dataclass(frozen=True)
class ExportLinks:
    """Issues and checks export tokens (HS256 with the JWT secret, `typ` "export": an access
    token is never one, and an export token is never an access token)."""

    secret: str
    ttl_seconds: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ExportLinks:
        return cls(settings.effective_jwt_secret, settings.export_link_seconds)

    def issue(self, user_id: str, portfolio_id: str, kind: str) -> str:
        """A token for `user_id` to download `kind` ("positions" or "orders") of a portfolio."""
        now = datetime.now(UTC)
        claims = {
            "iss": ISSUER,
            "typ": PURPOSE,
            "sub": user_id,
            "pid": portfolio_id,
            "kind": kind,
            "iat": now,
            "exp": now + timedelta(seconds=self.ttl_seconds),
        }
        return jwt.encode(claims, self.secret, algorithm=ALGORITHM)

    def user_for(self, token: str, portfolio_id: str, kind: str) -> str | None:
        """The user the token was issued to, if it is valid now and for exactly this file."""
        try:
            claims = jwt.decode(
                token,
                self.secret,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss"]},
            )
        except jwt.InvalidTokenError:
            return None
        if claims.get("typ") != PURPOSE:
            return None
        if claims.get("pid") != portfolio_id or claims.get("kind") != kind:
            return None
        user_id = claims["sub"]
        return user_id if isinstance(user_id, str) else None
