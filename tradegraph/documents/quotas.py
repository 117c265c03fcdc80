"""Per-owner counts of capped items (portfolios, watchlists)."""

from __future__ import annotations

from beanie import Document


class OwnedCount(Document):
    """How many items of one kind an owner holds (`_id` is "<kind>:<owner id>"): a cap is
    checked and taken in one conditional increment, so concurrent creations cannot pass it."""

    id: str  # type: ignore[assignment]
    held: int = 0

    class Settings:
        name = "owned_counts"
        use_revision = False
