"""GraphQL types for users and authentication."""

from __future__ import annotations

from datetime import datetime

import strawberry

from tradegraph import documents
from tradegraph.auth.accounts import TokenPair

strawberry.enum(
    documents.Role,
    name="Role",
    description="ADMIN manages everything; ANALYST reads all data; TRADER reads their own.",
)
Role = documents.Role


@strawberry.type(description="An account. Passwords and hashes are never exposed.")
class User:
    id: strawberry.ID
    email: str
    role: Role
    created_at: datetime

    @classmethod
    def from_document(cls, user: documents.User) -> User:
        return cls(
            id=strawberry.ID(str(user.id)),
            email=user.email,
            role=user.role,
            created_at=user.created_at,
        )


@strawberry.type(description="Tokens issued by register, login and refreshToken.")
class AuthPayload:
    access_token: str = strawberry.field(
        description="JWT for `Authorization: Bearer …`; short-lived (see expiresIn)."
    )
    refresh_token: str = strawberry.field(
        description="Single use: refreshToken spends it and returns a new pair."
    )
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User

    @classmethod
    def from_tokens(cls, tokens: TokenPair, expires_in: int) -> AuthPayload:
        return cls(
            access_token=tokens.access_token,
            refresh_token=tokens.refresh_token,
            expires_in=expires_in,
            user=User.from_document(tokens.user),
        )


@strawberry.input(description="Self-registration; the account gets role TRADER.")
class RegisterInput:
    email: str
    password: str = strawberry.field(
        description="At least 10 characters, not a common or easily guessed password."
    )
