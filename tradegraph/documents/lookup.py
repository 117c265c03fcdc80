"""Fetching a document by the id a client sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from beanie import Document, PydanticObjectId

D = TypeVar("D", bound=Document)


async def by_id(model: type[D], text: str) -> D | None:
    """The document with this id; None when it is unknown or not an ObjectId at all."""
    if not PydanticObjectId.is_valid(text):
        return None
    return await model.get(PydanticObjectId(text))


async def by_ids(model: type[D], texts: Sequence[str]) -> list[D | None]:
    """Documents in the order of `texts`, None where unknown: one query for a whole batch."""
    valid = [PydanticObjectId(t) for t in dict.fromkeys(texts) if PydanticObjectId.is_valid(t)]
    found = await model.find({"_id": {"$in": valid}}).to_list() if valid else []
    by_text = {str(document.id): document for document in found}
    return [by_text.get(text) for text in texts]
