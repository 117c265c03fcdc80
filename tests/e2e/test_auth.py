"""Registration, login, token refresh and role checks, over real HTTP."""

from __future__ import annotations

import jwt

from tests.e2e.conftest import ADMIN_EMAIL, JWT_SECRET, LOGIN, REGISTER, register
from tests.support.clients import GraphQLClient, error_code
from tradegraph.documents import User

ME = "{ me { id email role } }"
REFRESH = """mutation($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken user { email } }
}"""


async def test_register_gives_a_trader_who_can_read_me(gql: GraphQLClient) -> None:
    payload = await register(gql, "New.Trader@Example.COM")
    assert payload["user"]["role"] == "TRADER"
    assert payload["user"]["email"] == "new.trader@example.com"
    assert payload["expiresIn"] > 0
    me = await gql.data(ME, token=payload["accessToken"])
    assert me["me"] == payload["user"]


async def test_me_is_null_without_a_token(gql: GraphQLClient) -> None:
    assert (await gql.data(ME))["me"] is None


async def test_register_rejects_a_taken_email_as_conflict(gql: GraphQLClient) -> None:
    await register(gql, "taken@example.com")
    error = await gql.error(REGISTER, {"email": "TAKEN@example.com", "password": "another-pass"})
    assert error_code(error) == "CONFLICT"
    assert await User.find(User.email == "taken@example.com").count() == 1


async def test_register_rejects_bad_email_and_short_password(gql: GraphQLClient) -> None:
    bad_email = await gql.error(REGISTER, {"email": "not-an-email", "password": "long-enough"})
    assert error_code(bad_email) == "BAD_USER_INPUT"
    assert "email" in bad_email["message"]
    short = await gql.error(REGISTER, {"email": "short@example.com", "password": "1234567"})
    assert error_code(short) == "BAD_USER_INPUT"
    assert "at least 10 characters" in short["message"]
    assert await User.find(User.email != ADMIN_EMAIL).count() == 0


async def test_login_with_wrong_password_is_unauthenticated(gql: GraphQLClient) -> None:
    await register(gql, "someone@example.com", "right-password")
    wrong = await gql.error(LOGIN, {"email": "someone@example.com", "password": "wrong-password"})
    assert error_code(wrong) == "UNAUTHENTICATED"
    unknown = await gql.error(LOGIN, {"email": "nobody@example.com", "password": "whatever1"})
    assert error_code(unknown) == "UNAUTHENTICATED"
    assert wrong["message"] == unknown["message"]  # no hint whether the account exists


async def test_repeated_login_failures_are_rate_limited(gql: GraphQLClient) -> None:
    await register(gql, "target@example.com", "right-password")
    for _ in range(3):  # login_max_failures in the test settings
        error = await gql.error(LOGIN, {"email": "target@example.com", "password": "nope-nope"})
        assert error_code(error) == "UNAUTHENTICATED"
    limited = await gql.error(LOGIN, {"email": "target@example.com", "password": "right-password"})
    assert error_code(limited) == "RATE_LIMITED"
    assert limited["extensions"]["retryAfterSeconds"] > 0


async def test_access_token_carries_role_and_expiry(gql: GraphQLClient) -> None:
    payload = await register(gql, "claims@example.com")
    claims = jwt.decode(
        payload["accessToken"], JWT_SECRET, algorithms=["HS256"], issuer="tradegraph"
    )
    assert claims["sub"] == payload["user"]["id"]
    assert claims["role"] == "TRADER"
    assert claims["exp"] - claims["iat"] == payload["expiresIn"]


async def test_forged_or_garbage_tokens_get_no_data(gql: GraphQLClient) -> None:
    payload = await register(gql, "victim@example.com")
    forged = jwt.encode(
        {
            "sub": payload["user"]["id"],
            "role": "ADMIN",
            "typ": "access",
            "iss": "tradegraph",
            "iat": 0,
            "exp": 4_000_000_000,
            "email": "x",
        },
        "some-other-secret-of-sufficient-length-0123",
        algorithm="HS256",
    )
    for token in (forged, "garbage", payload["refreshToken"]):
        error = await gql.error("{ events { totalCount } }", token=token)
        assert error_code(error) == "UNAUTHENTICATED"
        assert "invalid or expired" in error["message"]


async def test_refresh_token_rotates_and_is_single_use(gql: GraphQLClient) -> None:
    first = await register(gql, "rotate@example.com")
    second = (await gql.data(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]
    assert second["refreshToken"] != first["refreshToken"]
    assert (await gql.data(ME, token=second["accessToken"]))["me"]["email"] == "rotate@example.com"
    reused = await gql.error(REFRESH, {"token": first["refreshToken"]})
    assert error_code(reused) == "UNAUTHENTICATED"


async def test_reusing_a_spent_refresh_token_revokes_its_family(gql: GraphQLClient) -> None:
    first = await register(gql, "stolen@example.com")
    second = (await gql.data(REFRESH, {"token": first["refreshToken"]}))["refreshToken"]
    await gql.error(REFRESH, {"token": first["refreshToken"]})  # the thief replays it
    revoked = await gql.error(REFRESH, {"token": second["refreshToken"]})
    assert error_code(revoked) == "UNAUTHENTICATED"


async def test_unknown_refresh_token_is_unauthenticated(gql: GraphQLClient) -> None:
    assert error_code(await gql.error(REFRESH, {"token": "made-up"})) == "UNAUTHENTICATED"


async def test_no_response_contains_a_password_or_hash(gql: GraphQLClient) -> None:
    body = await gql.execute(
        REGISTER, {"email": "secret@example.com", "password": "hunter2-correct-horse"}
    )
    text = str(body)
    user = await User.find_one(User.email == "secret@example.com")
    assert user is not None
    assert "hunter2-correct-horse" not in text
    assert user.password_hash not in text
    assert user.password_hash.startswith("$argon2")
    schema_error = await gql.error("{ me { passwordHash } }")
    assert error_code(schema_error) == "GRAPHQL_VALIDATION_FAILED"
