"""Nothing acknowledged is lost: `tradegraph serve` on the embedded store is killed with
SIGKILL right after its last acknowledgement (and mid-append) and restarted on the same data
directory; damaged journals and snapshots stop startup with one line naming the file."""

from __future__ import annotations

import asyncio
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN_ENV, login_admin, register
from tests.support.clients import WEBHOOK_SECRET, GraphQLClient, send_webhook
from tests.support.trading import (
    CREATE_PORTFOLIO,
    DEPOSIT,
    create_instrument,
    dec,
    place,
    portfolio,
    publish_quote,
)
from tradegraph.store.journal import encode_record, journal_files, read_records

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("TRADEGRAPH_MONGODB_URL")), reason="the journal is the emulation's"
)

LOGIN = """mutation($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken }
}"""
ORDERS = """query($id: ID!) {
  orders(portfolioId: $id, first: 50) { totalCount edges { node { status } } }
}"""
EVENTS = """query($user: String!) {
  events(first: 1, filter: {userId: $user}) { totalCount }
}"""
CLIENTS = 20
DEPOSITS_PER_CLIENT = 5
ORDERS_PER_CLIENT = 8
WEBHOOKS = 200  # 20 x (register, portfolio, 5 deposits, 8 orders) + 200 webhooks = 500 writes


@dataclass
class Served:
    process: asyncio.subprocess.Process
    url: str
    lines: list[str] = field(default_factory=list)  # everything it logged so far

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown, no last snapshot


async def _read_until_listening(served: Served, stream: asyncio.StreamReader) -> None:
    while line := (await stream.readline()).decode():
        served.lines.append(line)
        found = re.search(r'"url": "(http://[^"]+)"', line)
        if found and '"event": "listening"' in line:
            served.url = found.group(1)
            return
    raise AssertionError("tradegraph stopped before listening:\n" + "".join(served.lines))


async def _drain(served: Served, stream: asyncio.StreamReader) -> None:
    while line := await stream.readline():
        served.lines.append(line.decode())


@asynccontextmanager
async def serving(data_dir: Path, database: str, **env: str) -> AsyncIterator[Served]:
    """`tradegraph serve` on `data_dir`; stopped with SIGTERM at the end unless killed."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradegraph", "serve", "--port", "0",
        env={
            **os.environ, **ADMIN_ENV,
            "TRADEGRAPH_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "TRADEGRAPH_LOG_FORMAT": "json",
            "TRADEGRAPH_MARKET_FEED": "none",
            "TRADEGRAPH_DEMO": "false",  # no demo market on the empty store
            # Concurrent registrations from one address count as conflicts today (issue 20).
            "TRADEGRAPH_REGISTER_MAX_CONFLICTS_PER_ADDRESS": "1000",
            "TRADEGRAPH_DATA_DIR": str(data_dir),
            "TRADEGRAPH_MONGODB_DATABASE": database,
            **env,
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    served = Served(process, "")
    async with asyncio.timeout(60):
        await _read_until_listening(served, process.stderr)
    drain = asyncio.create_task(_drain(served, process.stderr))
    try:
        yield served
    finally:
        if process.returncode is None:
            process.terminate()
        await asyncio.wait_for(process.wait(), 30)
        await drain


@dataclass
class Client:
    email: str
    portfolio_id: str = ""
    deposited: Decimal = Decimal(0)
    spent: Decimal = Decimal(0)
    filled: int = 0


async def _trade(gql: GraphQLClient, client: Client) -> None:
    """register, a portfolio, deposits and market orders that fill: each one acknowledged."""
    token = (await register(gql, client.email))["accessToken"]
    created = await gql.data(CREATE_PORTFOLIO, {"name": "Main", "currency": "BRL"}, token)
    client.portfolio_id = created["createPortfolio"]["id"]
    for number in range(DEPOSITS_PER_CLIENT):
        amount = Decimal(1000 + number) + Decimal("0.25")
        await gql.data(DEPOSIT, {"id": client.portfolio_id, "amount": str(amount)}, token)
        client.deposited += amount
    for _ in range(ORDERS_PER_CLIENT):
        order = await place(gql, token, client.portfolio_id, "BUY", "1")
        assert order["status"] == "FILLED"
        client.spent += dec(order["averageFillPrice"])
        client.filled += 1


async def _send_events(http: httpx.AsyncClient, sender: int, count: int) -> None:
    for number in range(count):
        event = {"userId": f"sender-{sender}", "type": "login", "value": number}
        response = await send_webhook(http, [event], f"msg_{sender}_{number}")
        assert response.json()["stored"] == 1, response.text


async def test_every_acknowledged_write_is_there_after_kill_9(tmp_path: Path) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    clients = [Client(f"durable-{n}@example.com") for n in range(CLIENTS)]
    senders = 10
    # Snapshots every second: the kill may come at any point of one (journal rotation).
    async with serving(tmp_path, database, TRADEGRAPH_SNAPSHOT_SECONDS="1") as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)
            await publish_quote(gql, admin, "10.00", "10.10")
            await asyncio.gather(
                *(_trade(GraphQLClient(http), client) for client in clients),
                *(_send_events(http, sender, WEBHOOKS // senders) for sender in range(senders)),
            )
            served.kill()  # right after the last acknowledgement
        await served.process.wait()

    async with serving(tmp_path, database) as served:
        assert any('"event": "journal replayed"' in line for line in served.lines)
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
            gql = GraphQLClient(http)
            for client in clients:
                variables = {"email": client.email, "password": "trader-password"}
                token = (await gql.data(LOGIN, variables))["login"]["accessToken"]
                found = await portfolio(gql, token, client.portfolio_id)
                assert dec(found["cash"]) == client.deposited - client.spent, client
                assert [dec(p["quantity"]) for p in found["positions"]] == [client.filled]
                orders = (await gql.data(ORDERS, {"id": client.portfolio_id}, token))["orders"]
                assert orders["totalCount"] == ORDERS_PER_CLIENT
                assert {edge["node"]["status"] for edge in orders["edges"]} == {"FILLED"}
            admin = await login_admin(gql)
            for sender in range(senders):
                events = await gql.data(EVENTS, {"user": f"sender-{sender}"}, admin)
                assert events["events"]["totalCount"] == WEBHOOKS // senders
            first = {"userId": "sender-0", "type": "login", "value": 0}
            again = await send_webhook(http, [first], "msg_0_0")
            assert again.json()["duplicates"] == 1, again.text  # idempotency keys came back


def _torn_copy_of_last_record(path: Path) -> bytes:
    """The first half of the file's last record: what an append cut short leaves."""
    records, _ = read_records(path, last_file=True)
    *_, (_, payload) = records
    whole = encode_record(payload)
    return whole[: len(whole) // 2]


async def test_a_kill_mid_append_restarts_with_every_acknowledged_write(tmp_path: Path) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    acknowledged: list[Decimal] = []
    async with serving(tmp_path, database) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
            gql = GraphQLClient(http)
            token = (await register(gql, "midway@example.com"))["accessToken"]
            created = await gql.data(CREATE_PORTFOLIO, {"name": "Main", "currency": "BRL"}, token)
            portfolio_id = created["createPortfolio"]["id"]

            async def deposit_forever(worker: int) -> None:
                for number in range(10_000):
                    amount = Decimal(worker * 10_000 + number + 1)
                    await gql.data(DEPOSIT, {"id": portfolio_id, "amount": str(amount)}, token)
                    acknowledged.append(amount)

            workers = [asyncio.create_task(deposit_forever(n)) for n in range(4)]
            while len(acknowledged) < 100:  # noqa: ASYNC110 - the deposits are the events
                await asyncio.sleep(0.01)
            served.kill()  # deposits in flight: their appends may be anywhere
            results = await asyncio.gather(*workers, return_exceptions=True)
            assert all(isinstance(result, httpx.HTTPError) for result in results)
        await served.process.wait()
    (*_, (_, last)) = journal_files(tmp_path, database)
    intact = last.stat().st_size
    with last.open("ab") as file:  # the process died inside write(): half a record
        file.write(_torn_copy_of_last_record(last))

    async with serving(tmp_path, database) as served:
        torn = [line for line in served.lines if "dropped a torn last record" in line]
        assert len(torn) == 1, served.lines
        assert f"offset {intact}" in torn[0]
        assert last.stat().st_size == intact  # cut off, so later startups never meet it
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
            gql = GraphQLClient(http)
            variables = {"email": "midway@example.com", "password": "trader-password"}
            token = (await gql.data(LOGIN, variables))["login"]["accessToken"]
            cash = dec((await portfolio(gql, token, portfolio_id))["cash"])
    # Every acknowledged deposit is there; the ones in flight may be too (never more).
    assert cash >= sum(acknowledged)
    assert cash - sum(acknowledged) <= 4 * Decimal(40_000)


async def test_a_corrupt_record_before_the_end_stops_startup_naming_file_and_offset(
    tmp_path: Path,
) -> None:
    database = f"tradegraph_test_{uuid.uuid4().hex[:12]}"
    async with serving(tmp_path, database) as served:
        async with httpx.AsyncClient(base_url=served.url, timeout=60) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await create_instrument(gql, admin)
            await publish_quote(gql, admin, "10.00", "10.10")
        served.kill()
        await served.process.wait()
    (*_, (_, last)) = journal_files(tmp_path, database)
    records, _ = read_records(last, last_file=True)
    offsets = [offset for offset, _ in records]
    assert len(offsets) >= 3
    data = bytearray(last.read_bytes())
    data[offsets[1] + 20] ^= 0xFF  # a flipped bit in the second record's payload
    last.write_bytes(bytes(data))

    result = await _start_and_fail(tmp_path, database)
    assert result.count("\n") == 1, result  # one line, no traceback
    assert f"startup stopped: {last} has a corrupt record at offset {offsets[1]}" in result


async def _start_and_fail(data_dir: Path, database: str) -> str:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tradegraph", "serve", "--port", "0",
        env={
            **os.environ, "TRADEGRAPH_DATA_DIR": str(data_dir),
            "TRADEGRAPH_MONGODB_DATABASE": database, "TRADEGRAPH_MARKET_FEED": "none",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode != 0
    errors = [line for line in stderr.decode().splitlines() if "startup stopped" in line]
    assert "Traceback" not in stderr.decode(), stderr.decode()
    return "".join(line + "\n" for line in errors)


async def test_sync_interval_zero_fsyncs_before_the_acknowledgement(tmp_path: Path) -> None:
    from tests.e2e.conftest import server_settings
    from tradegraph.server import start_server

    settings = server_settings(data_dir=str(tmp_path), journal_sync_ms=0)
    server = await start_server(settings)
    try:
        journal: Any = server.app.state.services.store.journal
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            gql = GraphQLClient(http)
            for number in range(5):
                await register(gql, f"synced-{number}@example.com")
                assert journal.written > 0
                assert journal.synced == journal.written
    finally:
        await server.stop()
