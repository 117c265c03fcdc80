"""Widget keys: publishable, read-only market-data keys bound to origins. Only a hash of the
key is stored; the key itself is shown once, when it is created."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pymongo import ASCENDING, IndexModel


class WidgetKey(Document):
    name: str
    key_hash: str  # SHA-256 hex of the whole key: keys are random, a slow hash adds nothing
    key_hint: str  # the first characters of the key, to tell keys apart in a list
    origins: list[str]  # normalised scheme://host[:port], as browsers send Origin
    symbols: list[str] | None = None  # None: every instrument
    created_at: datetime
    created_by: str  # user id of the admin
    revoked_at: datetime | None = None

    class Settings:
        name = "widget_keys"
        use_revision = False
        indexes = [IndexModel([("key_hash", ASCENDING)], unique=True, name="key_hash_unique")]
