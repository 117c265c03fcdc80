"""Watchlists end to end: per user, order kept, unknown symbols refused, quotes in order."""

from __future__ import annotations

from tests.e2e.conftest import register
from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import create_instrument, publish_quote

FIELDS = "id name symbols quotes { symbol bid ask }"
CREATE = f"""mutation($name: String!, $symbols: [String!]!) {{
  createWatchlist(name: $name, symbols: $symbols) {{ {FIELDS} }}
}}"""
UPDATE = f"""mutation($id: ID!, $name: String, $symbols: [String!]) {{
  updateWatchlist(id: $id, name: $name, symbols: $symbols) {{ {FIELDS} }}
}}"""
DELETE = """mutation($id: ID!) { deleteWatchlist(id: $id) }"""
ONE = f"""query($id: ID!) {{ watchlist(id: $id) {{ {FIELDS} }} }}"""
ALL = """query { watchlists { name symbols } }"""


async def test_watchlists_keep_order_refuse_unknown_symbols_and_stay_private(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    other = (await register(gql, "watcher@example.com"))["accessToken"]
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    await create_instrument(gql, admin_token, symbol="ITUB4", name="Itau PN")
    await publish_quote(gql, admin_token, bid="20.00", ask="20.10", symbol="VALE3")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.10")

    created = (
        await gql.data(CREATE, {"name": "Brasil", "symbols": ["vale3", "PETR4", "ITUB4"]}, token)
    )["createWatchlist"]
    assert created["symbols"] == ["VALE3", "PETR4", "ITUB4"]
    assert [q["symbol"] for q in created["quotes"]] == ["VALE3", "PETR4"]  # ITUB4 unquoted

    unknown = await gql.error(CREATE, {"name": "X", "symbols": ["PETR4", "NOPE"]}, token)
    assert (error_code(unknown), unknown["extensions"]["symbol"]) == ("NOT_FOUND", "NOPE")
    refused = await gql.error(UPDATE, {"id": created["id"], "symbols": ["NOPE"]}, token)
    assert error_code(refused) == "NOT_FOUND"
    assert (await gql.data(ALL, {}, token))["watchlists"] == [
        {"name": "Brasil", "symbols": ["VALE3", "PETR4", "ITUB4"]}
    ]

    updated = (
        await gql.data(
            UPDATE, {"id": created["id"], "name": "Top", "symbols": ["ITUB4", "VALE3"]}, token
        )
    )["updateWatchlist"]
    assert (updated["name"], updated["symbols"]) == ("Top", ["ITUB4", "VALE3"])
    renamed = await gql.data(UPDATE, {"id": created["id"], "name": "Mine"}, token)
    assert renamed["updateWatchlist"]["symbols"] == ["ITUB4", "VALE3"]

    for operation, variables in (
        (ONE, {"id": created["id"]}),
        (UPDATE, {"id": created["id"], "name": "theirs"}),
        (DELETE, {"id": created["id"]}),
    ):
        assert error_code(await gql.error(operation, variables, other)) == "NOT_FOUND"
        assert error_code(await gql.error(operation, variables, admin_token)) == "NOT_FOUND"
    assert (await gql.data(ALL, {}, other))["watchlists"] == []
    assert (await gql.data(ONE, {"id": created["id"]}, token))["watchlist"]["name"] == "Mine"

    assert (await gql.data(DELETE, {"id": created["id"]}, token))["deleteWatchlist"] is True
    assert error_code(await gql.error(ONE, {"id": created["id"]}, token)) == "NOT_FOUND"
    assert (await gql.data(ALL, {}, token))["watchlists"] == []


async def test_a_watchlist_name_must_not_be_blank(gql: GraphQLClient, trader: dict) -> None:
    error = await gql.error(CREATE, {"name": "  ", "symbols": []}, trader["accessToken"])
    assert (error_code(error), error["extensions"]["field"]) == ("BAD_USER_INPUT", "name")
    assert (await gql.data(ALL, {}, trader["accessToken"]))["watchlists"] == []
