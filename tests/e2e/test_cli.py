"""The tradegraph command line, run as a user would run it."""

from __future__ import annotations

import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import httpx

from tests.support.clients import GraphQLClient
from tests.support.servers import start_tradegraph


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    import os

    environment = {k: v for k, v in os.environ.items() if k != "TRADEGRAPH_MONGODB_URL"}
    return subprocess.run(
        [sys.executable, "-m", "tradegraph", *args],
        capture_output=True,
        text=True,
        env={**environment, "TRADEGRAPH_DATA_DIR": "", **(env or {})},
        timeout=60,
    )


def test_seed_refuses_the_in_memory_store_with_advice() -> None:
    result = run_cli("seed", "--days", "1", "--users", "2")
    assert result.returncode == 2
    assert "serve --seed" in result.stderr


def test_users_create_refuses_the_in_memory_store() -> None:
    result = run_cli("users", "create", "x@example.com", "--role", "ADMIN", "--password", "p" * 9)
    assert result.returncode == 2
    assert "TRADEGRAPH_MONGODB_URL" in result.stderr


def test_production_refuses_development_defaults() -> None:
    result = run_cli("serve", "--port", "0", env={"TRADEGRAPH_ENVIRONMENT": "production"})
    assert result.returncode != 0
    assert "TRADEGRAPH_JWT_SECRET must be set" in result.stderr


def test_bad_configuration_is_reported_by_name() -> None:
    result = run_cli("serve", env={"TRADEGRAPH_WEBHOOK_SECRET": "plain-text"})
    assert result.returncode != 0
    assert "webhook_secret" in result.stderr
    assert "whsec_" in result.stderr


def test_an_unreachable_mongodb_stops_startup_with_one_line_of_advice() -> None:
    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"mongodb://tradegraph:s3cret-pass@127.0.0.1:{port}/"
    result = run_cli("serve", "--port", "0", env={"TRADEGRAPH_MONGODB_URL": url})
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if "startup stopped" in line]
    assert "did not answer" in line
    assert "unset TRADEGRAPH_MONGODB_URL" in line
    assert "s3cret-pass" not in result.stderr


async def test_serve_seed_starts_with_the_demo_universe_and_synthetic_events() -> None:
    server = await start_tradegraph(
        {
            "TRADEGRAPH_ADMIN_EMAIL": "seed-admin@example.com",
            "TRADEGRAPH_ADMIN_PASSWORD": "seed-admin-password",
            "TRADEGRAPH_SEED_HISTORY_DAYS": "2",
        },
        "--seed",
    )
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            gql = GraphQLClient(http)
            login = await gql.data(
                'mutation { login(email: "seed-admin@example.com", '
                'password: "seed-admin-password") { accessToken } }'
            )
            token = login["login"]["accessToken"]
            data = await gql.data(
                "{ events(first: 1) { totalCount edges { node { type } } } }", token=token
            )
            assert data["events"]["totalCount"] > 1_500  # ~80% of 7 days x 20 users x 20
            markets = await gql.data(
                '{ instruments { symbol currency } quote(symbol: "PETR4") { mid } }', token=token
            )
            listed = {i["symbol"]: i["currency"] for i in markets["instruments"]}
            assert {"PETR4": "BRL", "VALE3": "BRL", "ITUB4": "BRL", "HGLG11": "BRL"}.items() <= (
                listed.items()
            )
            assert {"AAPL": "USD", "SPY": "USD", "BTCUSDT": "USDT", "ETHUSDT": "USDT"}.items() <= (
                listed.items()
            )
            assert markets["quote"] is not None  # priced from the start
            since = (datetime.now(UTC) - timedelta(hours=47)).isoformat()
            history = await gql.data(
                'query($from: DateTime!) { candles(symbol: "PETR4", interval: ONE_HOUR, '
                "from: $from) { start close } }",
                {"from": since},
                token=token,
            )
            assert len(history["candles"]) >= 47  # two seeded days reach back past `since`
    finally:
        await server.stop()
