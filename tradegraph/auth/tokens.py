"""Access tokens (JWT, HS256) and opaque single-use refresh tokens stored by hash."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

from tradegraph.auth.principal import Principal
from tradegraph.documents import Role

ISSUER = "tradegraph"
ALGORITHM = "HS256"


def issue_access_token(
    principal: Principal, secret: str, ttl_seconds: int, session_id: str | None = None
) -> str:
    """A JWT for `principal`; `session_id` (claim `sid`) names the login's refresh-token family,
    so `logout` with only this token can end the whole session."""
    now = datetime.now(UTC)
    claims: dict[str, object] = {
        "iss": ISSUER,
        "sub": principal.user_id,
        "email": principal.email,
        "role": principal.role.value,
        "typ": "access",
        "iat": now,
        "exp": now + timedelta(seconds=ttl_seconds),
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


@dataclass(frozen=True)
class AccessToken:
    """A verified access token: who it was issued to (as of then) and until when it holds."""

    principal: Principal
    expires_at: datetime
    session_id: str | None = None  # the refresh-token family of the login that issued it

    def expired(self, now: datetime | None = None) -> bool:
        return (now or datetime.now(UTC)) >= self.expires_at

    def seconds_left(self) -> float:
        return (self.expires_at - datetime.now(UTC)).total_seconds()


def decode_access_token(token: str, secret: str) -> AccessToken | None:
    """The verified token; None when malformed, forged, expired or not an access token."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
        if claims.get("typ") != "access":
            return None
        principal = Principal(
            user_id=claims["sub"], email=claims["email"], role=Role(claims["role"])
        )
        session_id = claims.get("sid")
        return AccessToken(
            principal,
            datetime.fromtimestamp(claims["exp"], UTC),
            session_id if isinstance(session_id, str) else None,
        )
    except (jwt.InvalidTokenError, KeyError, ValueError, TypeError, OverflowError):
        return None


def read_access_token(token: str, secret: str) -> Principal | None:
    """The token's principal as issued; None when the token is not valid now."""
    decoded = decode_access_token(token, secret)
    return decoded.principal if decoded else None


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def bearer_token(authorization: object) -> str | None:
    """The token of an `Authorization: Bearer <token>` value; None for anything else."""
    if not isinstance(authorization, str):
        return None
    scheme, _, token = authorization.strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def read_bearer(authorization: object, secret: str) -> Principal | None:
    """The principal of a valid `Authorization: Bearer <accessToken>` value; None otherwise."""
    token = bearer_token(authorization)
    return read_access_token(token, secret) if token is not None else None
