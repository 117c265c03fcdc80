"""Asking an OpenAI-compatible Chat Completions API for the insight's wording."""

from __future__ import annotations

import json
from dataclasses import dataclass

import openai
import structlog

from tradegraph.insights.facts import Facts

log = structlog.get_logger(__name__)

# USD per million tokens (input, output); unknown models get no cost estimate.
PRICES = {
    "gpt-4o-mini": (0.15, 0.60),
    "gpt-4o": (2.50, 10.00),
    "gpt-4.1": (2.00, 8.00),
    "gpt-4.1-mini": (0.40, 1.60),
    "gpt-4.1-nano": (0.10, 0.40),
}
MAX_TOKENS = 220
SYSTEM = (
    "You write one short insight (at most three sentences) for a trader's dashboard. State only "
    "what the facts say; do not invent numbers. Answer in the language with BCP 47 tag {lang}."
)


@dataclass(frozen=True)
class ModelAnswer:
    text: str
    model: str
    prompt_tokens: int | None
    completion_tokens: int | None
    cost_usd: float | None


class ModelUnavailable(Exception):
    """The model did not answer usefully; `reason` says why, for the TEMPLATE insight."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def estimate_cost(
    model: str, prompt_tokens: int | None, completion_tokens: int | None
) -> float | None:
    price = PRICES.get(model) or next(
        (
            p
            for name, p in sorted(PRICES.items(), key=lambda i: -len(i[0]))
            if model.startswith(name + "-")
        ),
        None,
    )
    if price is None or prompt_tokens is None or completion_tokens is None:
        return None
    return round((prompt_tokens * price[0] + completion_tokens * price[1]) / 1_000_000, 8)


class InsightModel:
    def __init__(
        self,
        api_key: str,
        base_url: str | None,
        model: str,
        language: str,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.model = model
        self.language = language
        self.client = openai.AsyncOpenAI(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries
        )

    async def write(self, facts: Facts) -> ModelAnswer:
        prompt = f"Facts for the last {facts.range}, as JSON:\n" + json.dumps(
            facts.values, sort_keys=True
        )
        try:
            response = await self.client.chat.completions.create(
                model=self.model,
                messages=[
                    {"role": "system", "content": SYSTEM.format(lang=self.language)},
                    {"role": "user", "content": prompt},
                ],
                max_tokens=MAX_TOKENS,
                temperature=0.3,
            )
        except openai.APITimeoutError as error:
            raise ModelUnavailable("the OpenAI API timed out") from error
        except openai.APIStatusError as error:
            raise ModelUnavailable(f"the OpenAI API answered HTTP {error.status_code}") from error
        except openai.APIError as error:
            raise ModelUnavailable(f"the OpenAI API failed: {type(error).__name__}") from error
        text = (response.choices[0].message.content or "").strip() if response.choices else ""
        if not text:
            raise ModelUnavailable("the OpenAI API returned no text")
        usage = response.usage
        prompt_tokens = usage.prompt_tokens if usage else None
        completion_tokens = usage.completion_tokens if usage else None
        cost = estimate_cost(response.model or self.model, prompt_tokens, completion_tokens)
        log.info(
            "insight written by model",
            model=response.model or self.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            estimated_cost_usd=cost,
        )
        return ModelAnswer(
            text, response.model or self.model, prompt_tokens, completion_tokens, cost
        )
