"""Fetching a document by the id a client sent."""

from __future__ import annotations

from typing import TypeVar

from beanie import Document, PydanticObjectId

D = TypeVar("D", bound=Document)


async def by_id(model: type[D], text: str) -> D | None:
    """The document with this id; None when it is unknown or not an ObjectId at all."""
    if not PydanticObjectId.is_valid(text):
        return None
    return await model.get(PydanticObjectId(text))
