"""Resolvers for users and authentication."""

from __future__ import annotations

from tradegraph.auth.accounts import TokenPair
from tradegraph.errors import NotAuthenticated
from tradegraph.schema.core.context import AUTHENTICATION_REQUIRED, Info
from tradegraph.schema.core.session_cookie import (
    clear_refresh_cookie,
    http_exchange,
    set_refresh_cookie,
)
from tradegraph.schema.users import AuthPayload, RegisterInput, User

UNKNOWN_ADDRESS = "unknown"


def _payload(info: Info, tokens: TokenPair) -> AuthPayload:
    """The tokens in the answer, and the refresh token in an HttpOnly cookie for browsers."""
    settings = info.context.services.settings
    exchange = http_exchange(info.context)
    if exchange is not None:
        request, response = exchange
        max_age = settings.refresh_token_ttl_seconds
        set_refresh_cookie(response, tokens.refresh_token, max_age, request, settings.public_url)
    return AuthPayload.from_tokens(tokens, settings.access_token_ttl_seconds)


def client_address(info: Info) -> str:
    """The caller's IP: the socket's peer, or what a proxy named in TRADEGRAPH_TRUSTED_PROXIES
    forwarded (web/client_address.py); the key of per-address throttling."""
    client = getattr(info.context.request, "client", None)
    return client.host if client is not None and client.host else UNKNOWN_ADDRESS


async def me(info: Info) -> User | None:
    """The authenticated user; null without a valid access token."""
    principal = info.context.principal
    if principal is None:
        return None
    user = await info.context.loaders.users.load(principal.user_id)
    return User.from_document(user) if user else None


async def register(info: Info, input: RegisterInput) -> AuthPayload:
    """Creates a TRADER account and logs it in."""
    accounts = info.context.services.accounts
    return _payload(
        info, await accounts.register(input.email, input.password, client_address(info))
    )


async def login(info: Info, email: str, password: str) -> AuthPayload:
    """Exchanges email and password for tokens. Repeated failures are RATE_LIMITED."""
    accounts = info.context.services.accounts
    return _payload(info, await accounts.login(email, password, client_address(info)))


async def logout(info: Info, refresh_token: str | None = None) -> bool:
    """Ends a session: the refresh-token family of this access token's login (and of
    `refreshToken`, when given) is revoked, so none of its refresh tokens works again; the
    browser's refresh cookie is cleared. Access tokens already issued expire on their own
    (expiresIn). True when a live session was ended. Needs a valid access token or
    `refreshToken` (UNAUTHENTICATED otherwise)."""
    token = info.context.access_token
    if token is None and not refresh_token:
        raise NotAuthenticated(info.context.refusal or AUTHENTICATION_REQUIRED)
    session_id = token.session_id if token is not None else None
    revoked = await info.context.services.accounts.logout(session_id, refresh_token)
    exchange = http_exchange(info.context)
    if exchange is not None:
        request, response = exchange
        clear_refresh_cookie(response, request, info.context.services.settings.public_url)
    return revoked > 0


async def refresh_token(info: Info, refresh_token: str) -> AuthPayload:
    """Spends a refresh token for a new pair. A spent token presented again revokes its family."""
    return _payload(info, await info.context.services.accounts.refresh(refresh_token))
