"""Browser sessions without a readable refresh token: login sets it as an HttpOnly,
SameSite=Strict cookie for /auth only; POST /auth/refresh rotates it; `logout` (mutation) and
POST /auth/logout revoke the session's refresh family."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.e2e.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, LOGIN, server_settings
from tests.support.clients import GraphQLClient, error_code
from tradegraph.documents import RefreshToken
from tradegraph.schema.core.session_cookie import REFRESH_COOKIE
from tradegraph.server import RunningServer, start_server

REFRESH = (
    """mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken } }"""
)
LOGOUT = "mutation { logout }"
LOGOUT_WITH = "mutation($t: String) { logout(refreshToken: $t) }"


def set_cookie(response: httpx.Response) -> str:
    (header,) = [v for k, v in response.headers.multi_items() if k == "set-cookie"]
    return header


async def log_in(http: httpx.AsyncClient) -> dict:
    response = await http.post(
        "/graphql",
        json={"query": LOGIN, "variables": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}},
    )
    return {"body": response.json()["data"]["login"], "cookie": set_cookie(response)}


async def test_login_sets_the_refresh_token_as_an_httponly_strict_cookie_for_auth_only(
    http: httpx.AsyncClient,
) -> None:
    login = await log_in(http)
    attributes = [part.strip().lower() for part in login["cookie"].split(";")]
    assert attributes[0] == f"{REFRESH_COOKIE}={login['body']['refreshToken']}".lower()
    assert "httponly" in attributes
    assert "samesite=strict" in attributes
    assert "path=/auth" in attributes
    assert "secure" not in attributes  # plain http here: a Secure cookie would never return


@pytest.fixture
async def https_behind_proxy() -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings(trusted_proxies="127.0.0.1"))
    yield running
    await running.stop()


async def test_the_cookie_is_secure_when_the_browser_uses_https(
    https_behind_proxy: RunningServer,
) -> None:
    async with httpx.AsyncClient(
        base_url=https_behind_proxy.url, headers={"x-forwarded-proto": "https"}
    ) as http:
        login = await log_in(http)
    assert "secure" in [part.strip().lower() for part in login["cookie"].split(";")]


async def test_auth_refresh_rotates_the_cookie_and_a_replayed_one_revokes_the_family(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        first = await log_in(browser)
        spent = browser.cookies[REFRESH_COOKIE]
        refreshed = await browser.post("/auth/refresh")
        assert refreshed.status_code == 200, refreshed.text
        body = refreshed.json()
        assert body["user"]["email"] == ADMIN_EMAIL
        assert body["expiresIn"] > 0
        assert "refreshToken" not in body  # the page never sees it
        assert browser.cookies[REFRESH_COOKIE] not in (spent, first["body"]["refreshToken"])
        me = await GraphQLClient(browser).data("{ me { email } }", token=body["accessToken"])
        assert me["me"]["email"] == ADMIN_EMAIL
    async with httpx.AsyncClient(base_url=server.url) as thief:
        thief.cookies.set(REFRESH_COOKIE, spent)
        replayed = await thief.post("/auth/refresh")
        assert replayed.status_code == 401
        assert replayed.json()["error"]["code"] == "UNAUTHENTICATED"
    assert await RefreshToken.find({"revoked": False}).count() == 0


async def test_auth_refresh_refuses_another_site_before_spending_the_cookie(
    server: RunningServer,
) -> None:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        await log_in(browser)
        for headers in ({"origin": "http://evil.example"}, {"sec-fetch-site": "cross-site"}):
            refused = await browser.post("/auth/refresh", headers=headers)
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "FORBIDDEN"
        same = await browser.post("/auth/refresh", headers={"origin": server.url})
        assert same.status_code == 200  # the cookie was still unspent
    async with httpx.AsyncClient(base_url=server.url) as stranger:
        assert (await stranger.post("/auth/refresh")).status_code == 401


async def test_the_logout_mutation_revokes_the_sessions_refresh_family(
    gql: GraphQLClient,
) -> None:
    login = await gql.data(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    token, refresh = login["login"]["accessToken"], login["login"]["refreshToken"]
    other = await gql.data(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert (await gql.data(LOGOUT, token=token))["logout"] is True
    refused = await gql.error(REFRESH, {"t": refresh})
    assert error_code(refused) == "UNAUTHENTICATED"
    assert (await gql.data(LOGOUT, token=token))["logout"] is False  # nothing left to end
    # Another login of the same user is another session: untouched.
    rotated = await gql.data(REFRESH, {"t": other["login"]["refreshToken"]})
    assert rotated["refreshToken"]["accessToken"]


async def test_logout_by_refresh_token_or_refused_without_any_token(gql: GraphQLClient) -> None:
    login = await gql.data(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    refresh = login["login"]["refreshToken"]
    assert (await gql.data(LOGOUT_WITH, {"t": refresh}))["logout"] is True
    assert error_code(await gql.error(REFRESH, {"t": refresh})) == "UNAUTHENTICATED"
    assert error_code(await gql.error(LOGOUT)) == "UNAUTHENTICATED"


async def test_auth_logout_revokes_the_cookies_family_and_clears_it(server: RunningServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as browser:
        login = await log_in(browser)
        ended = await browser.post("/auth/logout")
        assert ended.json() == {"loggedOut": True}
        assert "max-age=0" in set_cookie(ended).lower()
        assert REFRESH_COOKIE not in browser.cookies
        gql = GraphQLClient(browser)
        refused = await gql.error(REFRESH, {"t": login["body"]["refreshToken"]})
        assert error_code(refused) == "UNAUTHENTICATED"
