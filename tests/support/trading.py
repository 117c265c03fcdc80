"""GraphQL operations and helpers shared by the trading tests."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.support.clients import GraphQLClient

ORDER_FIELDS = """id clientOrderId status side type quantity filledQuantity averageFillPrice
  limitPrice stopPrice timeInForce rejectReason symbol expiresAt
  fills { quantity price fee timestamp } createdAt updatedAt"""
CREATE_INSTRUMENT = """mutation($input: InstrumentInput!) {
  createInstrument(input: $input) { symbol name assetClass currency tickSize lotSize }
}"""
PUBLISH_QUOTE = """mutation($input: QuoteInput!) {
  publishQuote(input: $input) { symbol bid ask mid bidSize askSize timestamp }
}"""
CREATE_PORTFOLIO = """mutation($name: String!, $currency: String!) {
  createPortfolio(input: {name: $name, baseCurrency: $currency}) { id cash availableCash }
}"""
DEPOSIT = """mutation($id: ID!, $amount: Decimal!) {
  deposit(portfolioId: $id, amount: $amount) { id cash availableCash }
}"""
WITHDRAW = """mutation($id: ID!, $amount: Decimal!) {
  withdraw(portfolioId: $id, amount: $amount) { id cash availableCash }
}"""
PLACE_ORDER = (
    f"""mutation($input: PlaceOrderInput!) {{ placeOrder(input: $input) {{ {ORDER_FIELDS} }} }}"""
)
CANCEL_ORDER = f"""mutation($id: ID!) {{ cancelOrder(id: $id) {{ {ORDER_FIELDS} }} }}"""
PORTFOLIO = """query($id: ID!) {
  portfolio(id: $id) {
    id name baseCurrency cash availableCash equity unrealizedPnl realizedPnl owner { email }
    positions { symbol quantity averageCost marketPrice marketValue unrealizedPnl realizedPnl }
  }
}"""

PETR4 = {
    "symbol": "PETR4",
    "name": "Petrobras PN",
    "assetClass": "STOCK",
    "exchange": "B3",
    "currency": "BRL",
    "tickSize": "0.01",
    "lotSize": "1",
    "timezone": "America/Sao_Paulo",
    "sessionClose": "17:00:00",
}


def dec(value: Any) -> Decimal:
    """Compare amounts by value: "100.50" and "100.5" are the same money."""
    return Decimal(value)


async def create_instrument(gql: GraphQLClient, admin: str, **overrides: Any) -> dict:
    data = await gql.data(CREATE_INSTRUMENT, {"input": {**PETR4, **overrides}}, admin)
    return data["createInstrument"]


async def publish_quote(
    gql: GraphQLClient, admin: str, bid: str, ask: str, symbol: str = "PETR4", **extra: Any
) -> dict:
    quote = {"symbol": symbol, "bid": bid, "ask": ask, **extra}
    return (await gql.data(PUBLISH_QUOTE, {"input": quote}, admin))["publishQuote"]


async def funded_portfolio(
    gql: GraphQLClient, token: str, amount: str, currency: str = "BRL"
) -> str:
    created = await gql.data(CREATE_PORTFOLIO, {"name": "Main", "currency": currency}, token)
    portfolio_id = created["createPortfolio"]["id"]
    if Decimal(amount) > 0:
        await gql.data(DEPOSIT, {"id": portfolio_id, "amount": amount}, token)
    return portfolio_id


def order_input(portfolio_id: str, side: str, quantity: str, **extra: Any) -> dict:
    return {
        "portfolioId": portfolio_id,
        "symbol": extra.pop("symbol", "PETR4"),
        "side": side,
        "type": extra.pop("type", "MARKET"),
        "quantity": quantity,
        **extra,
    }


async def place(
    gql: GraphQLClient, token: str, portfolio_id: str, side: str, quantity: str, **extra: Any
) -> dict:
    variables = {"input": order_input(portfolio_id, side, quantity, **extra)}
    return (await gql.data(PLACE_ORDER, variables, token))["placeOrder"]


async def portfolio(gql: GraphQLClient, token: str, portfolio_id: str) -> dict:
    return (await gql.data(PORTFOLIO, {"id": portfolio_id}, token))["portfolio"]


async def quoted_portfolio(
    gql: GraphQLClient,
    admin_token: str,
    token: str,
    cash: str = "1000",
    bid: str = "10.00",
    ask: str = "10.00",
) -> str:
    """The usual start of a trading test: the test instrument, a portfolio of `token`'s owner
    funded with `cash`, and a first quote. Returns the portfolio id."""
    await create_instrument(gql, admin_token)
    portfolio_id = await funded_portfolio(gql, token, cash)
    await publish_quote(gql, admin_token, bid=bid, ask=ask)
    return portfolio_id
