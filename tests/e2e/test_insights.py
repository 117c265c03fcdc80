"""Insights over GraphQL against a local OpenAI-compatible server: facts first, the model's
wording, the cache, and the TEMPLATE fallback when the API fails, times out or has no key."""

from __future__ import annotations

import httpx

from tests.e2e.conftest import ADMIN_ENV, login_admin
from tests.support.clients import GraphQLClient, connected, error_code, wait_for_subscribers
from tests.support.fake_openai import ANSWER, FakeOpenAI
from tests.support.servers import start_tradegraph
from tradegraph.server import RunningServer

FIELDS = """id text source model facts promptTokens completionTokens costUsd cached createdAt
  reason range"""
INSIGHT = f"query($range: String) {{ insight(range: $range) {{ {FIELDS} }} }}"
GENERATE = f"mutation($range: String) {{ generateInsight(range: $range) {{ {FIELDS} }} }}"
INGEST = """mutation($input: EventInput!) { ingestEvent(input: $input) { id } }"""
EVENTS = [
    ("u1", "purchase", 50),
    ("u2", "purchase", 40),
    ("u0", "purchase", 30),
    ("u1", "login", 0),
    ("u2", "login", 0),
    ("u3", "page_view", 0),
    ("u0", "login", 0),
]
TEMPLATE = "Last 24h: 7 events, 3 purchases, average ticket 40.00, top users u1, u2, u0."


async def seed_events(gql: GraphQLClient, admin: str) -> None:
    for user, kind, value in EVENTS:
        await gql.data(INGEST, {"input": {"userId": user, "type": kind, "value": value}}, admin)


async def test_insight_words_the_facts_with_the_model_then_serves_the_cache(
    gql: GraphQLClient, admin_token: str, analyst_token: str, fake_openai: FakeOpenAI
) -> None:
    await seed_events(gql, admin_token)
    first = (await gql.data(INSIGHT, {}, analyst_token))["insight"]
    assert (first["source"], first["text"], first["cached"]) == ("OPENAI", ANSWER, False)
    assert (first["promptTokens"], first["completionTokens"]) == (1200, 300)
    # gpt-4o-mini prices: 1200 * 0.15 / 1e6 + 300 * 0.60 / 1e6, USD at 6 decimals
    assert first["costUsd"] == "0.000360"
    assert first["facts"]["purchases"] == 3
    assert first["facts"]["average_ticket"] == "40.00"
    assert first["facts"]["top_users"] == ["u1", "u2", "u0"]
    (request,) = fake_openai.requests
    assert request["authorization"] == "Bearer sk-test-key"
    assert '\\"purchases\\": 3' in fake_openai.prompts()[0]  # the facts are in the prompt
    assert "BCP 47 tag en" in fake_openai.prompts()[0]

    again = (await gql.data(INSIGHT, {"range": "24h"}, analyst_token))["insight"]
    assert (again["cached"], again["text"], again["id"]) == (
        True,
        ANSWER,
        first["id"],
    )
    assert len(fake_openai.requests) == 1  # the cache answered

    fresh = (await gql.data(GENERATE, {}, admin_token))["generateInsight"]
    assert fresh["cached"] is False
    assert len(fake_openai.requests) == 2  # generateInsight always asks


async def test_api_failure_and_timeout_give_the_template_with_a_reason(
    gql: GraphQLClient, admin_token: str, fake_openai: FakeOpenAI
) -> None:
    await seed_events(gql, admin_token)
    fake_openai.mode = "error"
    failed = (await gql.data(INSIGHT, {}, admin_token))["insight"]
    assert (failed["source"], failed["text"]) == ("TEMPLATE", TEMPLATE)
    assert "HTTP 500" in failed["reason"]
    assert len(fake_openai.requests) == 2  # one retry, bounded

    fake_openai.mode = "slow"
    fake_openai.requests.clear()
    slow = (await gql.data(GENERATE, {"range": "24h"}, admin_token))["generateInsight"]
    assert (slow["source"], slow["text"]) == ("TEMPLATE", TEMPLATE)
    assert "timed out" in slow["reason"]
    assert len(fake_openai.requests) == 2

    fake_openai.mode = "ok"  # failures are not cached: the next call asks the model again
    recovered = (await gql.data(INSIGHT, {}, admin_token))["insight"]
    assert (recovered["source"], recovered["cached"]) == ("OPENAI", False)


async def test_ranges_roles_and_the_live_feed(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    for bad in ("24", "1w", "0h", "-5m", "h24", "367d"):
        error = await gql.error(INSIGHT, {"range": bad}, admin_token)
        assert error_code(error) == "BAD_USER_INPUT", bad
    assert error_code(await gql.error(INSIGHT, {}, trader["accessToken"])) == "FORBIDDEN"

    client = await connected(server.url, admin_token)
    await client.subscribe("i", "subscription { insightCreated { text source range } }")
    await wait_for_subscribers(http, "tradegraph.insights.created", 1)
    await gql.data(GENERATE, {"range": "15m"}, admin_token)
    message = await client.receive()
    assert message["payload"]["data"]["insightCreated"] == {
        "text": ANSWER,
        "source": "OPENAI",
        "range": "15m",
    }
    await client.close()


async def test_without_an_api_key_the_insight_is_a_template_and_says_why() -> None:
    process = await start_tradegraph(
        {
            "OPENAI_API_KEY": "",
            "TRADEGRAPH_MARKET_FEED": "none",
            **ADMIN_ENV,
        }
    )
    try:
        async with httpx.AsyncClient(base_url=process.url, timeout=30) as http:
            gql = GraphQLClient(http)
            token = await login_admin(gql)
            await seed_events(gql, token)
            found = (await gql.data(INSIGHT, {}, token))["insight"]
            assert (found["source"], found["text"]) == ("TEMPLATE", TEMPLATE)
            assert found["reason"] == "OPENAI_API_KEY is not set"
            assert (found["promptTokens"], found["costUsd"]) == (None, None)
    finally:
        await process.stop()
