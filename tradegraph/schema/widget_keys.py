"""GraphQL types for widget keys (ADMIN): publishable, read-only market-data keys bound to the
origins of the pages that embed the widgets."""

from __future__ import annotations

from datetime import datetime

import strawberry

from tradegraph import documents


@strawberry.type(
    description="A publishable key for the embeddable widgets (/widgets.js): it reads only "
    "market data, only from its origins, only its symbols when it lists any."
)
class WidgetKey:
    id: strawberry.ID
    name: str
    key: str | None = strawberry.field(
        description="The key (wk_…), returned once by createWidgetKey; null afterwards: only a "
        "hash is stored."
    )
    key_hint: str = strawberry.field(description="The key's first characters, to tell keys apart.")
    origins: list[str] = strawberry.field(
        description="Pages on these origins (scheme://host[:port], matched exactly against the "
        "Origin header) may use the key."
    )
    symbols: list[str] | None = strawberry.field(
        description="The instruments the key covers; null: every instrument."
    )
    created_at: datetime
    revoked_at: datetime | None = strawberry.field(
        description="When it was revoked; its sockets were closed then. Null: active."
    )

    @classmethod
    def from_document(cls, stored: documents.WidgetKey, key: str | None = None) -> WidgetKey:
        return cls(
            id=strawberry.ID(str(stored.id)),
            name=stored.name,
            key=key,
            key_hint=stored.key_hint,
            origins=list(stored.origins),
            symbols=list(stored.symbols) if stored.symbols is not None else None,
            created_at=stored.created_at,
            revoked_at=stored.revoked_at,
        )


@strawberry.input(description="A new widget key (ADMIN).")
class CreateWidgetKeyInput:
    name: str = strawberry.field(description="What the key is for, 1 to 100 characters.")
    origins: list[str] = strawberry.field(
        description="1 to 20 plain origins, scheme://host[:port] (http or https, no path), e.g. "
        "https://www.example.com; anything else is BAD_USER_INPUT."
    )
    symbols: list[str] | None = strawberry.field(
        default=None, description="1 to 100 known symbols; null or omitted: every instrument."
    )
