"""GraphQL types for watchlists."""

from __future__ import annotations

import strawberry

from tradegraph import documents
from tradegraph.schema.core.context import Info
from tradegraph.schema.markets import Quote


@strawberry.type(description="Your named list of symbols, in the order you gave them.")
class Watchlist:
    id: strawberry.ID
    name: str
    symbols: list[str]
    _document: strawberry.Private[documents.Watchlist]

    @strawberry.field(
        description="The last quote of each symbol, in order; unquoted ones left out."
    )
    async def quotes(self, info: Info) -> list[Quote]:
        found = await info.context.services.watchlists.quotes(self._document)
        return [Quote.from_value(q) for q in found]

    @classmethod
    def from_document(cls, watchlist: documents.Watchlist) -> Watchlist:
        return cls(
            id=strawberry.ID(str(watchlist.id)),
            name=watchlist.name,
            symbols=list(watchlist.symbols),
            _document=watchlist,
        )
