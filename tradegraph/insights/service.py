"""Insights: facts first, then the model's wording (or a template), cached in MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import structlog

from tradegraph.config import Settings
from tradegraph.documents import InsightRecord, InsightSource
from tradegraph.insights.facts import Facts, gather_facts, template_text
from tradegraph.insights.model import InsightModel, ModelUnavailable
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import INSIGHTS_CREATED

log = structlog.get_logger(__name__)
NO_KEY = "OPENAI_API_KEY is not set"


def decode_insight(message: str) -> InsightRecord:
    record: InsightRecord = InsightRecord.model_validate_json(message)
    return record


class Insights:
    def __init__(self, settings: Settings, broker: Broker) -> None:
        self.broker = broker
        self.cache_seconds = settings.insight_cache_seconds
        key = settings.openai_api_key
        self.model = (
            None
            if key is None
            else InsightModel(
                key.get_secret_value(),
                settings.openai_base_url,
                settings.openai_model,
                settings.insight_language,
                settings.insight_timeout_seconds,
                settings.insight_max_retries,
            )
        )

    async def cached_or_new(self, range_text: str) -> tuple[InsightRecord, bool]:
        """The cached insight for these facts, or a new one; (insight, served from cache)."""
        facts = await gather_facts(range_text)
        cached = (
            await InsightRecord.find(
                {
                    "range": facts.range,
                    "fingerprint": facts.fingerprint,
                    "expires_at": {"$gt": datetime.now(UTC)},
                }
            )
            .sort("-created_at")
            .first_or_none()
        )
        if cached is not None:
            return cached, True
        return await self._create(facts), False

    async def generate(self, range_text: str) -> InsightRecord:
        """Always asks afresh (and refreshes the cache)."""
        return await self._create(await gather_facts(range_text))

    async def _create(self, facts: Facts) -> InsightRecord:
        now = datetime.now(UTC)
        record = InsightRecord(
            range=facts.range,
            fingerprint=facts.fingerprint,
            text=template_text(facts),
            source=InsightSource.TEMPLATE,
            facts=facts.values,
            reason=NO_KEY,
            created_at=now,
            expires_at=now + timedelta(seconds=self.cache_seconds),
        )
        if self.model is not None:
            try:
                answer = await self.model.write(facts)
                record.text, record.source, record.reason = answer.text, InsightSource.OPENAI, None
                record.model, record.cost_usd = answer.model, answer.cost_usd
                record.prompt_tokens = answer.prompt_tokens
                record.completion_tokens = answer.completion_tokens
            except ModelUnavailable as error:
                log.warning("insight falls back to the template", reason=error.reason)
                record.reason = error.reason
                record.expires_at = now  # a failure is not cached: the next call asks again
        await record.insert()
        await self.broker.publish(INSIGHTS_CREATED, record.model_dump_json())
        return record
