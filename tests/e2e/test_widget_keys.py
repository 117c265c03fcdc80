"""Widget keys (issue 26): created by an admin and shown once, listed and revoked; over HTTP a
key (X-Widget-Key) reads market data from its origins only, with CORS for them."""

from __future__ import annotations

import hashlib
from typing import Any

import httpx
import pytest

from tests.support.clients import GraphQLClient, error_code
from tests.support.trading import (
    PLACE_ORDER,
    PORTFOLIO,
    create_instrument,
    order_input,
    publish_quote,
    quoted_portfolio,
)
from tests.support.widget_keys import (
    CREATE_WIDGET_KEY,
    SITE,
    WIDGET_KEYS,
    create_widget_key,
    revoke_widget_key,
)
from tradegraph.documents import WidgetKey

QUOTES = "query($s: [String!]!) { quotes(symbols: $s) { symbol bid ask last } }"
INSTRUMENTS = "{ instruments { symbol } }"


async def post_with_key(
    http: httpx.AsyncClient,
    key: str,
    query: str,
    variables: dict | None = None,
    origin: str | None = SITE,
    **headers: str,
) -> httpx.Response:
    sent = {"x-widget-key": key, **headers}
    if origin is not None:
        sent["origin"] = origin
    return await http.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


async def test_a_key_is_shown_once_and_only_its_hash_is_stored(
    gql: GraphQLClient, admin_token: str
) -> None:
    created = await create_widget_key(gql, admin_token, ["https://Shop.Example:443", SITE])
    key = created["key"]
    assert key.startswith("wk_")
    assert len(key) > 40
    assert created["keyHint"] == key[:9]
    assert created["origins"] == [SITE]  # normalised as browsers send Origin, each once
    assert created["symbols"] is None
    stored = await WidgetKey.find_all().to_list()
    assert [s.key_hash for s in stored] == [hashlib.sha256(key.encode()).hexdigest()]
    assert key not in stored[0].model_dump_json()
    listed = (await gql.data(WIDGET_KEYS, token=admin_token))["widgetKeys"]
    assert [(k["id"], k["key"], k["revokedAt"]) for k in listed] == [(created["id"], None, None)]


async def test_only_an_admin_manages_keys(gql: GraphQLClient, trader: dict) -> None:
    variables = {"input": {"name": "mine", "origins": [SITE]}}
    error = await gql.error(CREATE_WIDGET_KEY, variables, trader["accessToken"])
    assert error_code(error) == "FORBIDDEN"
    error = await gql.error(WIDGET_KEYS, token=trader["accessToken"])
    assert error_code(error) == "FORBIDDEN"
    assert await WidgetKey.find_all().count() == 0


@pytest.mark.parametrize(
    "origin",
    [
        "https://shop.example/",
        "https://shop.example/path",
        "shop.example",
        "ftp://shop.example",
        "https://*.example",
        "null",
        "https://user@shop.example",
        "https://shop.example:99999",
        "https://shop.example?x=1",
        "https://-bad-.example",
        "",
    ],
)
async def test_an_origin_that_is_not_plain_scheme_host_port_is_bad_user_input(
    gql: GraphQLClient, admin_token: str, origin: str
) -> None:
    variables = {"input": {"name": "site", "origins": [SITE, origin]}}
    error = await gql.error(CREATE_WIDGET_KEY, variables, admin_token)
    assert error_code(error) == "BAD_USER_INPUT"
    assert "scheme://host[:port]" in error["message"]
    assert await WidgetKey.find_all().count() == 0


async def test_other_bad_input_stores_nothing(gql: GraphQLClient, admin_token: str) -> None:
    await create_instrument(gql, admin_token)
    cases = [
        ({"name": "x", "origins": []}, "BAD_USER_INPUT"),
        ({"name": " ", "origins": [SITE]}, "BAD_USER_INPUT"),
        ({"name": "x", "origins": [SITE], "symbols": []}, "BAD_USER_INPUT"),
        ({"name": "x", "origins": [SITE], "symbols": ["PETR4", "NOPE"]}, "NOT_FOUND"),
        ({"name": "x", "origins": [f"https://s{i}.example" for i in range(21)]}, "BAD_USER_INPUT"),
    ]
    for given, code in cases:
        error = await gql.error(CREATE_WIDGET_KEY, {"input": given}, admin_token)
        assert error_code(error) == code, (given, error)
    assert await WidgetKey.find_all().count() == 0


async def test_revoking_an_unknown_key_is_not_found(gql: GraphQLClient, admin_token: str) -> None:
    for unknown in ("0123456789abcdef01234567", "nope"):
        error = await gql.error(
            "mutation($id: ID!) { revokeWidgetKey(id: $id) { id } }", {"id": unknown}, admin_token
        )
        assert error_code(error) == "NOT_FOUND"


async def test_over_http_a_key_reads_market_data_from_its_origin_with_cors(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await publish_quote(gql, admin_token, "10.00", "10.02")
    key = (await create_widget_key(gql, admin_token))["key"]
    response = await post_with_key(http, key, QUOTES, {"s": ["petr4"]})
    assert response.status_code == 200, response.text
    assert response.json()["data"]["quotes"][0]["bid"] == "10.00"
    assert response.headers["access-control-allow-origin"] == SITE
    preflight = await http.options(
        "/graphql",
        headers={
            "origin": SITE,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,x-widget-key",
        },
    )
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == SITE
    assert "x-widget-key" in preflight.headers["access-control-allow-headers"]
    assert "access-control-allow-credentials" not in preflight.headers


async def test_a_widget_key_header_opens_no_other_path_to_other_origins(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    """Only /graphql checks the key: elsewhere (metrics, health, exports) the header is
    nothing, and CORS stays the TRADEGRAPH_CORS_ORIGINS policy."""
    key = (await create_widget_key(gql, admin_token))["key"]
    for path in ("/metrics", "/healthz"):
        response = await http.get(path, headers={"origin": SITE, "x-widget-key": key})
        assert "access-control-allow-origin" not in response.headers, path
        preflight = await http.options(
            path,
            headers={
                "origin": SITE,
                "access-control-request-method": "GET",
                "access-control-request-headers": "x-widget-key",
            },
        )
        assert preflight.status_code == 400, path
        assert "access-control-allow-origin" not in preflight.headers


async def test_over_http_a_key_is_refused_without_its_origin_or_when_unknown(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    created = await create_widget_key(gql, admin_token)
    key = created["key"]
    cases = [
        (key, "https://evil.example", 403, "FORBIDDEN", "not allowed for widget key"),
        (key, "http://shop.example", 403, "FORBIDDEN", "not allowed"),  # scheme differs
        (key, "https://shop.example:8443", 403, "FORBIDDEN", "not allowed"),  # port differs
        (key, None, 403, "FORBIDDEN", "Origin header"),
        (key[:-2], SITE, 401, "UNAUTHENTICATED", "widget key unknown"),
        ("not-a-key", SITE, 401, "UNAUTHENTICATED", "widget key unknown"),
    ]
    for presented, origin, status, code, words in cases:
        response = await post_with_key(http, presented, QUOTES, {"s": ["PETR4"]}, origin)
        assert response.status_code == status, (origin, response.text)
        error = response.json()["errors"][0]
        assert error["extensions"]["code"] == code
        assert words in error["message"]
    await revoke_widget_key(gql, admin_token, created["id"])
    response = await post_with_key(http, key, QUOTES, {"s": ["PETR4"]})
    assert response.status_code == 401
    assert "revoked" in response.json()["errors"][0]["message"]
    # The refusal is readable by the page: the widget shows why.
    assert response.headers["access-control-allow-origin"] == SITE


async def test_a_key_with_an_access_token_too_is_bad_user_input(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    key = (await create_widget_key(gql, admin_token))["key"]
    response = await post_with_key(http, key, INSTRUMENTS, authorization=f"Bearer {admin_token}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_key_cannot_place_an_order_read_a_portfolio_or_manage_keys(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    portfolio_id = await quoted_portfolio(gql, admin_token, trader["accessToken"])
    created = await create_widget_key(gql, admin_token)
    key = created["key"]
    refused: list[tuple[str, dict[str, Any]]] = [
        (PLACE_ORDER, {"input": order_input(portfolio_id, "BUY", "1")}),
        (PORTFOLIO, {"id": portfolio_id}),
        ("{ portfolios { id } }", {}),
        ("{ me { id } }", {}),
        ("{ events(first: 1) { edges { cursor } } }", {}),
        (WIDGET_KEYS, {}),
        ("mutation($id: ID!) { revokeWidgetKey(id: $id) { id } }", {"id": created["id"]}),
        (
            'mutation { login(email: "admin@example.com", password: "x") { accessToken } }',
            {},
        ),
    ]
    for query, variables in refused:
        response = await post_with_key(http, key, query, variables)
        body = response.json()
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", (query, body)
        assert "reads only market data" in body["errors"][0]["message"]
    orders = await gql.data(
        "query($id: ID!) { orders(portfolioId: $id) { edges { cursor } } }",
        {"id": portfolio_id},
        trader["accessToken"],
    )
    assert orders["orders"]["edges"] == []  # nothing was placed


async def test_a_key_with_symbols_covers_only_those(
    http: httpx.AsyncClient, gql: GraphQLClient, admin_token: str
) -> None:
    await create_instrument(gql, admin_token)
    await create_instrument(gql, admin_token, symbol="VALE3", name="Vale ON")
    await publish_quote(gql, admin_token, "10.00", "10.02")
    key = (await create_widget_key(gql, admin_token, symbols=["petr4"]))["key"]
    listed = await post_with_key(http, key, INSTRUMENTS)
    assert listed.json()["data"]["instruments"] == [{"symbol": "PETR4"}]
    allowed = await post_with_key(http, key, 'query { quote(symbol: "PETR4") { bid } }')
    assert allowed.json()["data"]["quote"] == {"bid": "10.00"}
    for query, variables in [
        (QUOTES, {"s": ["PETR4", "VALE3"]}),
        ('query { quote(symbol: "vale3") { bid } }', {}),
        ('query { instrument(symbol: "VALE3") { name } }', {}),
        ('query { candles(symbol: "VALE3", interval: ONE_MINUTE) { start } }', {}),
    ]:
        body = (await post_with_key(http, key, query, variables)).json()
        error = body["errors"][0]
        assert error["extensions"]["code"] == "FORBIDDEN", body
        assert "does not cover VALE3" in error["message"]
