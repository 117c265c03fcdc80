"""The first `serve` in development on an empty store opens on the demo market (instruments,
quotes, history), and says while history is still loading; TRADEGRAPH_DEMO=false starts
empty."""

from __future__ import annotations

import httpx

from tests.support.clients import GraphQLClient
from tests.support.servers import start_tradegraph

ADMIN = {
    "TRADEGRAPH_ADMIN_EMAIL": "demo-admin@example.com",
    "TRADEGRAPH_ADMIN_PASSWORD": "demo-admin-password",
}
LOGIN = (
    'mutation { login(email: "demo-admin@example.com", password: "demo-admin-password") '
    "{ accessToken } }"
)
MARKET = """{ instruments { symbol } marketHistory { loading startedAt finishedAt } }"""
PRICED = '{ quote(symbol: "BTCUSDT") { mid } }'


async def market_of(url: str, query: str = MARKET) -> dict:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        gql = GraphQLClient(http)
        token = (await gql.data(LOGIN))["login"]["accessToken"]
        return await gql.data(query, token=token)


async def test_the_first_serve_in_development_opens_on_the_demo_market() -> None:
    env = {**ADMIN, "TRADEGRAPH_DEMO": "true", "TRADEGRAPH_SEED_HISTORY_DAYS": "1"}
    server = await start_tradegraph(env, start_timeout=120)
    try:
        market = await market_of(server.url)  # "listening" is logged once seeding has ended
        priced = await market_of(server.url, PRICED)
    finally:
        await server.stop()
    assert {"PETR4", "AAPL", "SPY", "BTCUSDT"} <= {i["symbol"] for i in market["instruments"]}
    assert priced["quote"] is not None
    history = market["marketHistory"]
    assert history["loading"] is False
    assert history["startedAt"] is not None
    assert history["finishedAt"] >= history["startedAt"]


async def test_demo_false_starts_with_an_empty_store() -> None:
    server = await start_tradegraph({**ADMIN, "TRADEGRAPH_DEMO": "false"})
    try:
        market = await market_of(server.url)
    finally:
        await server.stop()
    assert market["instruments"] == []
    assert market["marketHistory"] == {"loading": False, "startedAt": None, "finishedAt": None}
