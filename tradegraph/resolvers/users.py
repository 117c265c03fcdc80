"""Resolvers for users and authentication."""

from __future__ import annotations

from tradegraph.auth.accounts import TokenPair
from tradegraph.schema.core.context import Info
from tradegraph.schema.users import AuthPayload, RegisterInput, User

UNKNOWN_ADDRESS = "unknown"


def _payload(info: Info, tokens: TokenPair) -> AuthPayload:
    return AuthPayload.from_tokens(tokens, info.context.services.settings.access_token_ttl_seconds)


def client_address(info: Info) -> str:
    """The caller's IP as the server sees it (behind a proxy: what uvicorn's
    --forwarded-allow-ips lets X-Forwarded-For say), the key of per-address throttling."""
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


async def refresh_token(info: Info, refresh_token: str) -> AuthPayload:
    """Spends a refresh token for a new pair. A spent token presented again revokes its family."""
    return _payload(info, await info.context.services.accounts.refresh(refresh_token))
