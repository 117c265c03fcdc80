"""Staff read other users' portfolios but nothing ever trades or moves cash in a portfolio its
caller does not own (an ADMIN's order once filled in a TRADER's account)."""

from __future__ import annotations

from typing import Any

from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    CANCEL_ORDER,
    DEPOSIT,
    PLACE_ORDER,
    create_instrument,
    funded_portfolio,
    order_input,
    place,
    portfolio,
    publish_quote,
)

CANCEL_ALL = "mutation($id: ID!) { cancelAllOrders(portfolioId: $id) { id } }"
CLOSE = 'mutation($id: ID!) { closePosition(portfolioId: $id, symbol: "PETR4") { id } }'
REPLACE = """mutation($id: ID!) { replaceOrder(id: $id, input: {limitPrice: "6.00"}) { id } }"""


async def test_staff_read_a_traders_portfolio_but_never_trade_in_it(
    gql: GraphQLClient, admin_token: str, analyst_token: str, trader: dict
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    await publish_quote(gql, admin_token, bid="10.00", ask="10.00")
    await place(gql, token, pid, "BUY", "5")
    resting = await place(gql, token, pid, "BUY", "1", type="LIMIT", limitPrice="5.00")
    before = await portfolio(gql, token, pid)
    for staff in (admin_token, analyst_token):
        seen = await portfolio(gql, staff, pid)
        assert seen == before  # readable, with its owner
        attempts: list[tuple[str, dict[str, Any]]] = [
            (PLACE_ORDER, {"input": order_input(pid, "BUY", "1")}),
            (DEPOSIT, {"id": pid, "amount": "100"}),
            (CANCEL_ORDER, {"id": resting["id"]}),
            (CANCEL_ALL, {"id": pid}),
            (CLOSE, {"id": pid}),
            (REPLACE, {"id": resting["id"]}),
        ]
        for mutation, variables in attempts:
            error = await gql.error(mutation, variables, staff)
            assert error_code(error) == "FORBIDDEN", (mutation, error)
            assert "owner" in error["message"]
    assert await portfolio(gql, token, pid) == before  # the database is exactly as it was
