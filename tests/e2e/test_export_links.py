"""exportUrl: a plain link downloads a portfolio's CSV for 60 s, for that user and file only."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt

from tests.e2e.conftest import JWT_SECRET, register
from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    funded_portfolio,
    place,
    quoted_portfolio,
)
from tradegraph.auth.export_links import ExportLinks
from tradegraph.server import RunningServer

EXPORT_URL = "query($id: ID!, $kind: ExportKind!) { exportUrl(portfolioId: $id, kind: $kind) }"


async def export_url(gql: GraphQLClient, token: str, pid: str, kind: str) -> str:
    data = await gql.data(EXPORT_URL, {"id": pid, "kind": kind}, token)
    return str(data["exportUrl"])


async def test_a_plain_link_downloads_the_csv_it_was_issued_for(
    server: RunningServer,
    gql: GraphQLClient,
    http: httpx.AsyncClient,
    admin_token: str,
    trader: dict,
) -> None:
    token = trader["accessToken"]
    pid = await quoted_portfolio(gql, admin_token, token, "1000", bid="20.00", ask="20.10")
    bought = await place(gql, token, pid, "BUY", "3", clientOrderId="link-1")

    url = await export_url(gql, token, pid, "ORDERS")
    assert url.startswith(f"{server.url}/exports/portfolios/{pid}/orders.csv?token=")
    async with httpx.AsyncClient() as browser:  # no Authorization header at all
        response = await browser.get(url)
    assert response.status_code == 200, response.text
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert (row["id"], row["client_order_id"]) == (bought["id"], "link-1")

    claims = jwt.decode(parse_qs(urlsplit(url).query)["token"][0], JWT_SECRET, ["HS256"])
    assert claims["exp"] - claims["iat"] == 60
    assert claims["sub"] == trader["user"]["id"]

    positions = await export_url(gql, token, pid, "POSITIONS")
    response = await http.get(positions.removeprefix(server.url))
    assert response.status_code == 200
    (row,) = list(csv.DictReader(io.StringIO(response.text)))
    assert row["symbol"] == "PETR4"


async def test_a_link_opens_only_its_own_file(
    server: RunningServer, gql: GraphQLClient, http: httpx.AsyncClient, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await funded_portfolio(gql, token, "1000")
    other = await funded_portfolio(gql, token, "10")
    link = await export_url(gql, token, pid, "POSITIONS")
    signed = parse_qs(urlsplit(link).query)["token"][0]

    for path in (f"{pid}/orders.csv", f"{other}/positions.csv"):
        response = await http.get(f"/exports/portfolios/{path}", params={"token": signed})
        assert response.status_code == 401, path
        assert response.json()["error"]["code"] == "UNAUTHENTICATED"


async def test_an_expired_or_access_token_in_the_link_is_refused(
    gql: GraphQLClient, http: httpx.AsyncClient, trader: dict
) -> None:
    token = trader["accessToken"]
    pid = await funded_portfolio(gql, token, "1000")
    expired = ExportLinks(JWT_SECRET, ttl_seconds=-1).issue(trader["user"]["id"], pid, "positions")
    url = f"/exports/portfolios/{pid}/positions.csv"
    assert (await http.get(url, params={"token": expired})).status_code == 401
    assert (await http.get(url, params={"token": token})).status_code == 401  # not an export token
    header_form = await http.get(url, headers={"authorization": f"Bearer {token}"})
    assert header_form.status_code == 200


async def test_no_link_to_a_portfolio_you_cannot_read(gql: GraphQLClient, trader: dict) -> None:
    pid = await funded_portfolio(gql, trader["accessToken"], "1000")
    stranger = (await register(gql, "stranger@example.com"))["accessToken"]
    error = await gql.error(EXPORT_URL, {"id": pid, "kind": "ORDERS"}, stranger)
    assert error_code(error) == "NOT_FOUND"
