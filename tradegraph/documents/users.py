"""User accounts and refresh tokens."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, PydanticObjectId
from pymongo import ASCENDING, IndexModel


class Role(StrEnum):
    ADMIN = "ADMIN"
    ANALYST = "ANALYST"
    TRADER = "TRADER"


class User(Document):
    email: str  # normalised to lower case; unique
    # TR39 skeleton of the email (auth/lookalikes.py); unique, so a look-alike is refused by the
    # database. Missing on accounts from before it existed until startup fills it in (sparse).
    email_skeleton: str | None = None
    password_hash: str
    role: Role
    created_at: datetime

    class Settings:
        name = "users"
        use_revision = False
        indexes = [
            IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
            IndexModel(
                [("email_skeleton", ASCENDING)],
                unique=True,
                sparse=True,
                name="email_skeleton_unique",
            ),
        ]


class RefreshToken(Document):
    """One issued refresh token, stored by hash. Single use: `used_at` is set on rotation."""

    token_hash: str
    user_id: PydanticObjectId
    family_id: str  # every token rotated from one login; a reused token revokes the family
    expires_at: datetime
    used_at: datetime | None = None
    revoked: bool = False

    class Settings:
        name = "refresh_tokens"
        use_revision = False
        indexes = [
            IndexModel([("token_hash", ASCENDING)], unique=True, name="token_hash_unique"),
            IndexModel([("family_id", ASCENDING)], name="family"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry_ttl"),
        ]
