"""GraphQL type for insights: short texts about recent activity, worded by a model."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from strawberry.scalars import JSON

from tradegraph import decimals, documents

COST_USD_PLACES = 6  # model prices are quoted per million tokens: cents are too coarse

strawberry.enum(documents.InsightSource, name="InsightSource")
InsightSource = documents.InsightSource


@strawberry.type(description="A short text about recent activity, stating aggregated facts.")
class Insight:
    id: strawberry.ID
    range: str
    text: str
    source: InsightSource = strawberry.field(
        description="OPENAI: worded by the model; TEMPLATE: the facts in a fixed sentence."
    )
    model: str | None
    facts: JSON = strawberry.field(description="What the text is based on (events, trading).")
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: Decimal | None = strawberry.field(
        description="Estimated from the model's prices, in USD at 6 decimals."
    )
    cached: bool = strawberry.field(description="Served from the cache without a model call.")
    created_at: datetime
    reason: str | None = strawberry.field(description="Why the TEMPLATE was used.")

    @classmethod
    def from_document(cls, record: documents.InsightRecord, cached: bool = False) -> Insight:
        return cls(
            id=strawberry.ID(str(record.id)),
            range=record.range,
            text=record.text,
            source=record.source,
            model=record.model,
            facts=JSON(record.facts),
            prompt_tokens=record.prompt_tokens,
            completion_tokens=record.completion_tokens,
            cost_usd=None
            if record.cost_usd is None
            else decimals.at_places(decimals.exact(record.cost_usd), COST_USD_PLACES),
            cached=cached,
            created_at=record.created_at,
            reason=record.reason,
        )
