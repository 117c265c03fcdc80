"""Resolvers for users and authentication."""

from __future__ import annotations

from tradegraph.auth.accounts import TokenPair
from tradegraph.schema.auth import AuthPayload, RegisterInput, User
from tradegraph.schema.context import Info


def _payload(info: Info, tokens: TokenPair) -> AuthPayload:
    return AuthPayload.from_tokens(tokens, info.context.services.settings.access_token_ttl_seconds)


async def me(info: Info) -> User | None:
    """The authenticated user; null without a valid access token."""
    principal = info.context.principal
    if principal is None:
        return None
    user = await info.context.loaders.users.load(principal.user_id)
    return User.from_document(user) if user else None


async def register(info: Info, input: RegisterInput) -> AuthPayload:
    """Creates a TRADER account and logs it in."""
    return _payload(
        info, await info.context.services.accounts.register(input.email, input.password)
    )


async def login(info: Info, email: str, password: str) -> AuthPayload:
    """Exchanges email and password for tokens. Repeated failures are RATE_LIMITED."""
    return _payload(info, await info.context.services.accounts.login(email, password))


async def refresh_token(info: Info, refresh_token: str) -> AuthPayload:
    """Spends a refresh token for a new pair. A spent token presented again revokes its family."""
    return _payload(info, await info.context.services.accounts.refresh(refresh_token))
