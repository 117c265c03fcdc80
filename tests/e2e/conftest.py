"""Session fixtures: one real tradegraph server (uvicorn on 127.0.0.1, random port) and its
clients. Every test starts from an empty store holding only the configured admin."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from beanie import Document, init_beanie

from tests.support.clients import WEBHOOK_SECRET, GraphQLClient
from tests.support.fake_openai import FakeOpenAI
from tests.support.servers import Process, start_redis
from tradegraph.config import Settings
from tradegraph.documents import ALL_DOCUMENTS, User
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "admin-password-1"
JWT_SECRET = "test-jwt-secret-with-enough-entropy-0123456789"

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { id role } }
}"""
REGISTER = """mutation($email: String!, $password: String!) {
  register(input: {email: $email, password: $password}) {
    accessToken refreshToken expiresIn user { id email role }
  }
}"""


# For `tradegraph serve` subprocesses: the same secret and admin as the in-process server.
ADMIN_ENV = {
    "TRADEGRAPH_JWT_SECRET": JWT_SECRET,
    "TRADEGRAPH_ADMIN_EMAIL": ADMIN_EMAIL,
    "TRADEGRAPH_ADMIN_PASSWORD": ADMIN_PASSWORD,
}
FAKE_OPENAI = FakeOpenAI()


def server_settings(**overrides: object) -> Settings:
    """Settings for a test server. TRADEGRAPH_MONGODB_URL, when set, selects a real MongoDB;
    each server gets a database of its own, dropped afterwards."""
    values: dict[str, object] = {
        "mongodb_database": f"tradegraph_test_{uuid.uuid4().hex[:12]}",
        "data_dir": "",  # memory only: no snapshots
        "jwt_secret": JWT_SECRET,
        "webhook_secret": WEBHOOK_SECRET,
        "admin_email": ADMIN_EMAIL,
        "admin_password": ADMIN_PASSWORD,
        "ws_keepalive_seconds": 1.0,
        "ws_init_timeout_seconds": 1.0,
        "subscriber_queue_size": 50,
        "login_max_failures": 3,
        # The session server logs the admin in for test after test from one address.
        "login_max_per_account_per_minute": 100_000,
        "market_feed": "none",  # tests drive prices with publishQuote
        "portfolio_value_interval_seconds": 0.2,
        "openai_api_key": "sk-test-key",
        "openai_base_url": FAKE_OPENAI.url or None,
        "openai_model": "gpt-4o-mini",
        "insight_timeout_seconds": 1.0,
        "insight_max_retries": 1,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]  # any setting, by name


@pytest.fixture(scope="session")
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    """The OpenAI-compatible server the session's tradegraph server talks to."""
    await FAKE_OPENAI.start()
    yield FAKE_OPENAI
    await FAKE_OPENAI.stop()


@pytest.fixture(scope="session")
async def server(fake_openai: FakeOpenAI) -> AsyncIterator[RunningServer]:
    running = await start_server(server_settings())
    yield running
    services: Services = running.app.state.services
    if not services.store.emulated:
        await services.store.client.drop_database(services.store.database.name)
    await running.stop()


@pytest.fixture(scope="session")
def services(server: RunningServer) -> Services:
    return server.app.state.services


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> None:
    if "server" not in request.fixturenames:
        return
    services: Services = request.getfixturevalue("services")
    # Beanie binds the document classes process-wide: a test that started another in-process
    # server left them on that server's database. Back to the session server's.
    database = services.store.database
    if User.get_pymongo_collection().database.name != database.name:
        await init_beanie(database=database, document_models=ALL_DOCUMENTS)
    for document in ALL_DOCUMENTS:
        if document is not User:  # the configured admin stays
            assert issubclass(document, Document)  # every kind listed is stored
            await document.find_all().delete()
    services.instruments.forget()
    if services.engine.book is not None:  # orders were deleted behind its back
        services.engine.book.reload()
    services.market.sessions.forget()
    await User.find(User.email != ADMIN_EMAIL).delete()
    await services.accounts.throttle.clear()
    services.accounts.users.forget()
    FAKE_OPENAI.mode = "ok"
    FAKE_OPENAI.requests.clear()


@pytest.fixture
async def http(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http)


async def login_admin(gql: GraphQLClient) -> str:
    """An access token of the configured admin, on whichever server `gql` talks to."""
    data = await gql.data(LOGIN, {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    return data["login"]["accessToken"]


@pytest.fixture
async def admin_token(gql: GraphQLClient) -> str:
    return await login_admin(gql)


async def register(gql: GraphQLClient, email: str, password: str = "trader-password") -> dict:
    return (await gql.data(REGISTER, {"email": email, "password": password}))["register"]


@pytest.fixture
async def trader(gql: GraphQLClient) -> dict:
    """A registered TRADER: {accessToken, refreshToken, user {id email role}}."""
    return await register(gql, "trader@example.com")


@pytest.fixture
async def analyst_token(services: Services, gql: GraphQLClient) -> str:
    from tradegraph.documents import Role

    await services.accounts.create_user("analyst@example.com", "analyst-password", Role.ANALYST)
    data = await gql.data(LOGIN, {"email": "analyst@example.com", "password": "analyst-password"})
    return data["login"]["accessToken"]


@pytest.fixture(scope="session")
async def redis_server() -> AsyncIterator[Process]:
    process = await start_redis()
    yield process
    await process.stop()


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
