"""Watchlists: a user's named, ordered lists of symbols."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel


class Watchlist(Document):
    owner_id: str
    name: str
    symbols: list[str] = Field(default_factory=list)  # in the order the owner gave
    created_at: datetime
    updated_at: datetime

    class Settings:
        name = "watchlists"
        use_revision = False
        indexes = [IndexModel([("owner_id", ASCENDING), ("created_at", ASCENDING)], name="owner")]
