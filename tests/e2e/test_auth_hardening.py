"""Hostile input against authentication, over real HTTP and WebSockets: concurrent password
guessing, floods of logins, sockets that outlive their token, tokens that outlive their user or
role, weak passwords and account enumeration through register."""

from __future__ import annotations

import asyncio
import json
import re
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import jwt
import pytest
import websockets

from tests.e2e.conftest import (
    ADMIN_EMAIL,
    ADMIN_ENV,
    ADMIN_PASSWORD,
    JWT_SECRET,
    LOGIN,
    REGISTER,
    login_admin,
    register,
)
from tests.support.clients import GraphQLClient, TransportWS, connected, error_code
from tests.support.servers import Process, start_redis, start_tradegraph
from tests.support.trading import CREATE_PORTFOLIO, DEPOSIT, PORTFOLIO
from tradegraph.documents import Portfolio, Role, User
from tradegraph.server import RunningServer
from tradegraph.services import Services

MAX_FAILURES = 3  # login_max_failures of the test settings (tests/conftest.py)
MAX_FAILURES_PER_ADDRESS = 20  # the default
MAX_REGISTER_CONFLICTS = 5  # the default
SEND_TOKEN = 'send {"Authorization": "Bearer <accessToken>"} in connection_init'
PORTFOLIOS = "{ portfolios { id } }"
ME = "{ me { email role } }"
POLL_LIMIT_SECONDS = 15.0  # the user cache holds an entry 5 s: a bound far above it


@asynccontextmanager
async def client_at(url: str, address: str = "127.0.0.1") -> AsyncIterator[GraphQLClient]:
    """A GraphQL client whose connections come from `address` (loopback has a whole /8)."""
    transport = httpx.AsyncHTTPTransport(
        local_address=address, limits=httpx.Limits(max_connections=400)
    )
    async with httpx.AsyncClient(base_url=url, timeout=60, transport=transport) as http:
        yield GraphQLClient(http)


async def login_outcomes(gql: GraphQLClient, credentials: list[tuple[str, str]]) -> Counter[str]:
    """Sends every login at once; counts the answers: OK or the error code."""

    async def one(email: str, password: str) -> str:
        body = await gql.execute(LOGIN, {"email": email, "password": password})
        return error_code(body["errors"][0]) if body.get("errors") else "OK"

    return Counter(await asyncio.gather(*(one(e, p) for e, p in credentials)))


async def verifications(url: str) -> int:
    """Passwords the server has verified so far, as its GET /metrics reports."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        metrics = (await http.get("/metrics")).text
    found = re.search(r"^tradegraph_password_verifications_total (\S+)$", metrics, re.MULTILINE)
    assert found, metrics
    return int(float(found.group(1)))


async def login_code(gql: GraphQLClient, email: str, password: str) -> str:
    return next(iter(await login_outcomes(gql, [(email, password)])))


async def closed(client: TransportWS) -> tuple[int, str]:
    """The close code and reason the server ended the socket with (other messages skipped)."""
    with pytest.raises(websockets.ConnectionClosed) as ended:
        await _read_until_closed(client)
    assert ended.value.rcvd is not None, "the server sent no close frame"
    return ended.value.rcvd.code, ended.value.rcvd.reason


async def _read_until_closed(client: TransportWS) -> None:
    while True:
        await client.receive()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    """Polls `check` until it holds; fails after POLL_LIMIT_SECONDS."""
    try:
        async with asyncio.timeout(POLL_LIMIT_SECONDS):
            while not await check():  # noqa: ASYNC110 - the store change has no event to await
                await asyncio.sleep(0.1)
    except TimeoutError:
        pytest.fail(f"not within {POLL_LIMIT_SECONDS} s: {what}")


@asynccontextmanager
async def tradegraph(**env: str) -> AsyncIterator[Process]:
    """A `tradegraph serve` subprocess with the test admin and `env`."""
    server = await start_tradegraph({**ADMIN_ENV, **env})
    try:
        yield server
    finally:
        await server.stop()


# --- password guessing -----------------------------------------------------------------------


async def test_concurrent_wrong_passwords_get_only_the_limit_verified(
    server: RunningServer,
) -> None:
    async with client_at(server.url) as attacker, client_at(server.url, "127.0.0.2") as owner:
        await register(attacker, "victim@example.com", "right-password")
        guesses = [("victim@example.com", f"guess-number-{n}") for n in range(200)]
        verified_before = await verifications(server.url)
        outcomes = await login_outcomes(attacker, guesses)
        # Exactly the limit was verified (and wrong); every other guess was refused unchecked.
        assert await verifications(server.url) - verified_before == MAX_FAILURES
        assert outcomes == {"UNAUTHENTICATED": MAX_FAILURES, "RATE_LIMITED": 200 - MAX_FAILURES}
        locked = await attacker.error(
            LOGIN, {"email": "victim@example.com", "password": "right-password"}
        )
        assert error_code(locked) == "RATE_LIMITED"
        assert "try again in" in locked["message"]
        assert locked["extensions"]["retryAfterSeconds"] > 0
        # Guessing from elsewhere does not lock the owner out.
        data = await owner.data(
            LOGIN, {"email": "victim@example.com", "password": "right-password"}
        )
        assert data["login"]["accessToken"]


async def test_failures_from_one_address_are_limited_across_emails(
    server: RunningServer,
) -> None:
    async with client_at(server.url, "127.0.0.3") as sprayer, client_at(server.url) as other:
        spray = [(f"user{n}@example.com", "spring-2024-pass") for n in range(40)]
        verified_before = await verifications(server.url)
        outcomes = await login_outcomes(sprayer, spray)
        assert await verifications(server.url) - verified_before == MAX_FAILURES_PER_ADDRESS
        assert outcomes == {
            "UNAUTHENTICATED": MAX_FAILURES_PER_ADDRESS,
            "RATE_LIMITED": 40 - MAX_FAILURES_PER_ADDRESS,
        }
        # Even a correct password is refused from that address; not from another one.
        assert await login_code(sprayer, ADMIN_EMAIL, ADMIN_PASSWORD) == "RATE_LIMITED"
        assert await login_code(other, ADMIN_EMAIL, ADMIN_PASSWORD) == "OK"


async def test_a_successful_login_gives_back_only_its_own_attempt(server: RunningServer) -> None:
    async with client_at(server.url, "127.0.0.4") as attacker:
        await register(attacker, "attacker@example.com", "attacker-own-pass")
        await register(attacker, "target@example.com", "target-secret-pass")
        spray = [(f"other{n}@example.com", "wrong-guess-1") for n in range(17)]
        spray += [("target@example.com", "wrong-guess-2")] * 2
        assert await login_outcomes(attacker, spray) == {"UNAUTHENTICATED": 19}
        # Logging into their own account does not reset the attacker's or the target's count.
        for _ in range(5):  # one at a time: each holds the address's last free slot meanwhile
            assert await login_code(attacker, "attacker@example.com", "attacker-own-pass") == "OK"
        assert await login_code(attacker, "target@example.com", "wrong-guess-3") == (
            "UNAUTHENTICATED"  # the 20th failure from this address, the 3rd on the target
        )
        assert await login_code(attacker, "target@example.com", "wrong-guess-4") == "RATE_LIMITED"
        assert await login_code(attacker, "fresh@example.com", "wrong-guess-5") == "RATE_LIMITED"


async def test_processes_on_one_redis_share_the_login_throttle() -> None:
    redis = await start_redis()
    env = {"TRADEGRAPH_BROADCAST_URL": redis.url, "TRADEGRAPH_LOGIN_MAX_FAILURES": "3"}
    try:
        async with (
            tradegraph(**env) as first,
            tradegraph(**env) as second,
            client_at(first.url) as into_first,
            client_at(second.url) as into_second,
            client_at(second.url, "127.0.0.2") as elsewhere,
        ):
            guesses = [(ADMIN_EMAIL, f"wrong-{n}") for n in range(30)]
            outcomes = await asyncio.gather(
                login_outcomes(into_first, guesses[:15]), login_outcomes(into_second, guesses[15:])
            )
            assert outcomes[0] + outcomes[1] == {"UNAUTHENTICATED": 3, "RATE_LIMITED": 27}
            assert await verifications(first.url) + await verifications(second.url) == 3
            for gql in (into_first, into_second):
                assert await login_code(gql, ADMIN_EMAIL, ADMIN_PASSWORD) == "RATE_LIMITED"
            assert await login_code(elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD) == "OK"
    finally:
        await redis.stop()


async def test_logins_with_the_right_password_are_bounded_per_account_and_address() -> None:
    """Each login is an argon2 verification: one account cannot keep a core busy with them."""
    async with (
        tradegraph(TRADEGRAPH_LOGIN_MAX_PER_ACCOUNT_PER_MINUTE="3") as server,
        client_at(server.url) as gql,
        client_at(server.url, "127.0.0.2") as elsewhere,
    ):
        await register(gql, "other@example.com", "other-password-42")
        before = await verifications(server.url)
        codes = [await login_code(gql, ADMIN_EMAIL, ADMIN_PASSWORD) for _ in range(3)]
        assert codes == ["OK", "OK", "OK"]
        refused = await gql.execute(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
        (error,) = refused["errors"]
        assert error_code(error) == "RATE_LIMITED"
        assert "too many logins to this account from your address" in error["message"]
        assert await verifications(server.url) == before + 3  # refused before verifying
        # Concurrent ones cannot get past it either, and a wrong password counts as a login.
        assert await login_outcomes(gql, [(ADMIN_EMAIL, "wrong")] * 20) == {"RATE_LIMITED": 20}
        assert await verifications(server.url) == before + 3
        # The owner elsewhere, and another account from the same address, log in as before.
        assert await login_code(elsewhere, ADMIN_EMAIL, ADMIN_PASSWORD) == "OK"
        assert await login_code(gql, "other@example.com", "other-password-42") == "OK"


async def test_healthz_answers_while_a_flood_of_logins_is_in_flight() -> None:
    # Every login of the flood is verified (no address limit in the way, and all of it may
    # wait for its caller's share): 150 hashes of work.
    async with (
        tradegraph(
            TRADEGRAPH_LOGIN_MAX_FAILURES_PER_ADDRESS="1000",
            TRADEGRAPH_MAX_WAITING_REQUESTS_PER_CALLER="1000",
        ) as server,
        client_at(server.url) as flood,
        client_at(server.url, "127.0.0.2") as owner,
        httpx.AsyncClient(base_url=server.url, timeout=60) as probe,
    ):
        credentials = [(f"nobody{n}@example.com", "not-the-password") for n in range(150)]
        first_answer = asyncio.Event()

        async def one(email: str, password: str) -> str:
            body = await flood.execute(LOGIN, {"email": email, "password": password})
            first_answer.set()
            return error_code(body["errors"][0])

        batch = asyncio.ensure_future(asyncio.gather(*(one(e, p) for e, p in credentials)))
        await first_answer.wait()  # the server is working through the flood
        health = asyncio.ensure_future(probe.get("/healthz"))
        racing: list[asyncio.Future[Any]] = [health, batch]
        done, _ = await asyncio.wait(racing, return_when=asyncio.FIRST_COMPLETED)
        assert health in done, "healthz waited for the flood of logins"
        assert not batch.done()
        assert health.result().json() == {"status": "ok"}
        assert Counter(await batch) == {"UNAUTHENTICATED": 150}
        assert await verifications(server.url) == 150
        assert await login_code(owner, ADMIN_EMAIL, ADMIN_PASSWORD) == "OK"


# --- WebSockets ------------------------------------------------------------------------------


async def test_a_socket_closes_4403_when_its_token_expires() -> None:
    async with (
        tradegraph(TRADEGRAPH_ACCESS_TOKEN_TTL_SECONDS="4") as server,
        client_at(server.url) as gql,
    ):
        token = await login_admin(gql)
        created = await gql.data(CREATE_PORTFOLIO, {"name": "P", "currency": "BRL"}, token)
        portfolio_id = created["createPortfolio"]["id"]
        modern = await connected(server.url, token)
        legacy = await connected(server.url, token, protocol="graphql-ws")
        # While the token holds, the socket runs operations.
        await modern.subscribe("d1", DEPOSIT, {"id": portfolio_id, "amount": "10"})
        deposited = await modern.receive()
        assert Decimal(deposited["payload"]["data"]["deposit"]["cash"]) == 10, deposited
        assert await closed(modern) == (4403, "token expired")
        assert await closed(legacy) == (4403, "token expired")
        # The expired token opens no new socket and runs nothing over HTTP either.
        code, reason = await closed(await TransportWS.connect(server.url, token))
        assert code == 4403
        assert "invalid or expired" in reason
        assert SEND_TOKEN in reason
        refused = await gql.error(DEPOSIT, {"id": portfolio_id, "amount": "5"}, token)
        assert error_code(refused) == "UNAUTHENTICATED"
        portfolio = await gql.data(PORTFOLIO, {"id": portfolio_id}, await login_admin(gql))
        assert Decimal(portfolio["portfolio"]["cash"]) == 10


async def test_every_refused_connection_init_closes_4403_saying_what_to_send(
    server: RunningServer,
) -> None:
    for protocol in ("graphql-transport-ws", "graphql-ws"):
        for token in (None, "not-a-jwt"):
            client = await TransportWS.connect(server.url, token, protocol=protocol)
            if protocol == "graphql-ws":
                error = json.loads(await client.socket.recv())
                assert error["type"] == "connection_error"
                assert SEND_TOKEN in error["payload"]["message"]
            code, reason = await closed(client)
            assert code == 4403, (protocol, token)  # legacy graphql-ws used to close 1011
            assert SEND_TOKEN in reason


# --- the stored user, not the token ----------------------------------------------------------


async def test_a_deleted_users_token_is_unauthenticated(
    server: RunningServer, gql: GraphQLClient, services: Services
) -> None:
    trader = await register(gql, "leaving@example.com")
    token = trader["accessToken"]
    await gql.data(CREATE_PORTFOLIO, {"name": "Before", "currency": "BRL"}, token)
    await User.find(User.email == "leaving@example.com").delete()

    async def refused() -> bool:
        body = await gql.execute(PORTFOLIOS, token=token)
        return bool(body.get("errors")) and error_code(body["errors"][0]) == "UNAUTHENTICATED"

    await eventually(refused, "the deleted user's token stops working")
    error = await gql.error(CREATE_PORTFOLIO, {"name": "After", "currency": "BRL"}, token)
    assert error_code(error) == "UNAUTHENTICATED"
    assert "no longer exists" in error["message"]
    assert await Portfolio.find_all().count() == 1
    assert (await gql.data(ME, token=token))["me"] is None
    client = await TransportWS.connect(server.url, token)
    code, reason = await closed(client)
    assert code == 4403
    assert "no longer exists" in reason


async def test_a_changed_role_applies_without_a_new_token(
    gql: GraphQLClient, services: Services
) -> None:
    owner = await register(gql, "owner@example.com")
    await gql.data(CREATE_PORTFOLIO, {"name": "Theirs", "currency": "BRL"}, owner["accessToken"])
    await services.accounts.create_user("moved@example.com", "analyst-password", Role.ANALYST)
    login = await gql.data(LOGIN, {"email": "moved@example.com", "password": "analyst-password"})
    token = login["login"]["accessToken"]
    assert len((await gql.data(PORTFOLIOS, token=token))["portfolios"]) == 1  # sees all
    refused = await gql.error(CREATE_PORTFOLIO, {"name": "Mine", "currency": "BRL"}, token)
    assert error_code(refused) == "FORBIDDEN"

    user = await User.find_one(User.email == "moved@example.com")
    assert user is not None
    await user.set({User.role: Role.TRADER})

    async def sees_only_own() -> bool:
        return (await gql.data(PORTFOLIOS, token=token))["portfolios"] == []

    await eventually(sees_only_own, "the analyst-turned-trader stops seeing every portfolio")
    assert (await gql.data(ME, token=token))["me"]["role"] == "TRADER"
    await gql.data(CREATE_PORTFOLIO, {"name": "Mine", "currency": "BRL"}, token)  # TRADERs may
    claims = jwt.decode(token, JWT_SECRET, algorithms=["HS256"], issuer="tradegraph")
    assert claims["role"] == "ANALYST"  # the token still says so: the store decided


# --- passwords and registration --------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "says"),
    [
        ("short-pw1", "at least 10 characters"),
        (" " * 12, "only whitespace"),
        ("x" * 257, "at most 256 characters"),
        ("password123", "too easy to guess"),
        ("qwertyuiop", "too easy to guess"),
        ("aaaaaaaaaaaa", "too easy to guess"),
        ("iloveyou123", "too easy to guess"),
        ("johnsmith1990", "too easy to guess"),  # the email's own name
    ],
)
async def test_weak_passwords_are_refused_with_advice(
    gql: GraphQLClient, password: str, says: str
) -> None:
    error = await gql.error(REGISTER, {"email": "johnsmith@example.com", "password": password})
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "password"
    assert says in error["message"]
    assert await User.find(User.email == "johnsmith@example.com").count() == 0


async def test_a_passphrase_is_accepted(gql: GraphQLClient) -> None:
    payload = await register(gql, "phrase@example.com", "mauve tractor lantern")
    assert payload["user"]["email"] == "phrase@example.com"


async def test_taken_email_answers_are_limited_per_address(server: RunningServer) -> None:
    """register says CONFLICT for a taken email (it logs the new user in at once, so it cannot
    pretend), but only MAX_REGISTER_CONFLICTS times per address and window: enumerating
    accounts through it is slow. Successful registrations do not count."""
    async with (
        client_at(server.url, "127.0.0.5") as prober,
        client_at(server.url, "127.0.0.6") as newcomer,
    ):
        for n in range(MAX_REGISTER_CONFLICTS + 2):  # successes never use the allowance up
            await register(prober, f"member{n}@example.com")
        attempts = [
            prober.execute(
                REGISTER, {"email": f"member{n}@example.com", "password": "any-pass-9x!"}
            )
            for n in range(MAX_REGISTER_CONFLICTS + 2)
        ]
        codes = Counter(error_code(body["errors"][0]) for body in await asyncio.gather(*attempts))
        assert codes == {"CONFLICT": MAX_REGISTER_CONFLICTS, "RATE_LIMITED": 2}
        blocked = await prober.error(
            REGISTER, {"email": "brand-new@example.com", "password": "fresh-pass-77x"}
        )
        assert error_code(blocked) == "RATE_LIMITED"
        assert "try again in" in blocked["message"]
        assert await User.find(User.email == "brand-new@example.com").count() == 0
        await register(newcomer, "brand-new@example.com")
