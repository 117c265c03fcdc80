"""Live portfolio values from memory (trading/portfolio_book.py): after every fill, quote and
cash movement the value a socket receives equals the one computed from the stored positions,
and every socket watching a portfolio shares one book."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from tests.support.clients import (
    GraphQLClient,
    TransportWS,
    connected,
    subscriber_count,
    wait_for_subscribers,
)
from tests.support.trading import (
    DEPOSIT,
    create_instrument,
    dec,
    funded_portfolio,
    place,
    publish_quote,
)
from tradegraph.pubsub.channels import portfolio_channel
from tradegraph.server import RunningServer

VALUE = """subscription($id: ID!) {
  portfolioValue(portfolioId: $id) { cash equity unrealizedPnl dayPnl }
}"""
STORED = """query($id: ID!) { portfolio(id: $id) { cash equity unrealizedPnl dayPnl } }"""
FIELDS = ("cash", "equity", "unrealizedPnl", "dayPnl")
VALE3 = {"symbol": "VALE3", "name": "Vale ON"}


async def stored_value(gql: GraphQLClient, token: str, portfolio_id: str) -> dict[str, Any]:
    """The value the `portfolio` query computes from the stored portfolio and positions."""
    found = (await gql.data(STORED, {"id": portfolio_id}, token))["portfolio"]
    return {field: dec(found[field]) for field in FIELDS}


async def live_value_reaches(client: TransportWS, operation: str, wanted: dict[str, Any]) -> None:
    """Reads live values until one equals `wanted` in every field (a wrong book never does)."""
    seen = []
    try:
        async with asyncio.timeout(10):
            while True:
                message = await client.receive()
                assert message["id"] == operation, message
                value = message["payload"]["data"]["portfolioValue"]
                seen.append({field: dec(value[field]) for field in FIELDS})
                if seen[-1] == wanted:
                    return
    except TimeoutError:
        raise AssertionError(f"no live value equal to {wanted}; the last: {seen[-3:]}") from None


async def test_the_live_value_after_every_fill_and_quote_equals_the_stored_valuation(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, **VALE3)
    pid = await funded_portfolio(gql, token, "10000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.02")
    await publish_quote(gql, admin_token, bid="20.00", ask="20.05", symbol="VALE3")
    client = await connected(server.url, token)
    await client.subscribe("value", VALUE, {"id": pid})
    await live_value_reaches(client, "value", await stored_value(gql, token, pid))

    # buys, a partial sale, a position closed, a new one opened: each with new prices after
    steps = [
        ("PETR4", "BUY", "10"),
        ("VALE3", "BUY", "7"),
        ("PETR4", "SELL", "4"),
        ("VALE3", "SELL", "7"),
        ("VALE3", "BUY", "3"),
    ]
    for number, (symbol, side, quantity) in enumerate(steps, start=1):
        order = await place(gql, token, pid, side, quantity, symbol=symbol)
        assert order["status"] == "FILLED"
        await live_value_reaches(client, "value", await stored_value(gql, token, pid))
        await publish_quote(gql, admin_token, bid=f"{10 + number}.01", ask=f"{10 + number}.04")
        await publish_quote(
            gql, admin_token, bid=f"{20 - number}.10", ask=f"{20 - number}.13", symbol="VALE3"
        )
        await live_value_reaches(client, "value", await stored_value(gql, token, pid))
    await client.close()


async def test_a_deposit_reaches_the_live_value_without_waiting_for_a_quote(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await place(gql, token, pid, "BUY", "5")
    client = await connected(server.url, token)
    await client.subscribe("value", VALUE, {"id": pid})
    await live_value_reaches(client, "value", await stored_value(gql, token, pid))
    await gql.data(DEPOSIT, {"id": pid, "amount": "250.25"}, token)
    stored = await stored_value(gql, token, pid)
    assert stored["cash"] == dec("1200.25")
    await live_value_reaches(client, "value", stored)  # no quote was published meanwhile
    await client.close()


async def test_sockets_watching_one_portfolio_share_one_book_and_it_ends_with_the_last(
    server: RunningServer,
    http: httpx.AsyncClient,
    gql: GraphQLClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await place(gql, token, pid, "BUY", "5")
    books = server.app.state.services.portfolios.books
    clients = [await connected(server.url, token) for _ in range(3)]
    for client in clients:
        await client.subscribe("value", VALUE, {"id": pid})
    stored = await stored_value(gql, token, pid)
    for client in clients:
        await live_value_reaches(client, "value", stored)
    # one book: one subscription to the portfolio's hints, however many sockets
    assert await subscriber_count(http, portfolio_channel(pid)) == 1
    assert len(books) == 1

    await publish_quote(gql, admin_token, bid="10.50", ask="10.60")
    stored = await stored_value(gql, token, pid)
    assert stored["equity"] == dec("1002.75")  # 950 cash + 5 x 10.55
    for client in clients:
        await live_value_reaches(client, "value", stored)
    for client in clients:
        await client.close()
    await wait_for_subscribers(http, portfolio_channel(pid), 0)
    assert len(books) == 0
