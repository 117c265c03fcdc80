"""Research runs shared fairly: per-user slots with a bounded queue, turns between users in the
worker pool, cancel by the owner or an ADMIN, runs of dead processes closed, the ResearchRun
interface, and heavy result fields weighed and read once per operation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.e2e.conftest import login_admin, register, server_settings
from tests.e2e.test_analytics import START, load, walk, window
from tests.e2e.test_optimization import OPTIMIZE, follow, request
from tests.support.clients import GraphQLClient, connected, error_code
from tradegraph.analytics.research_runs import INTERRUPTED, sweep_orphans
from tradegraph.documents import BacktestRun, OptimizationRun, ResearchProcess
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

BARS = 2_000
LARGE = [  # 100 x 100 = 10,000 combinations: seconds of work per run
    {"name": "fast", "start": 2, "stop": 101, "step": 1},
    {"name": "slow", "start": 102, "stop": 201, "step": 1},
]
SMALL = [
    {"name": "fast", "start": 2, "stop": 4, "step": 2},
    {"name": "slow", "start": 10, "stop": 20, "step": 10},
]
MINE = """{ optimizations(first: 20) { edges { node { id status queuePosition } } } }"""
CANCEL = """mutation($id: ID!) { cancelOptimization(id: $id) { id status finishedAt error } }"""
CANCEL_BACKTEST = """mutation($id: ID!) { cancelBacktest(id: $id) { id status } }"""
RUN = """mutation($input: BacktestInput!) { runBacktest(input: $input) { id status } }"""
STATUS = """query($id: ID!) { optimization(id: $id) { status error } }"""


async def optimize(gql: GraphQLClient, token: str, grid: list[dict]) -> dict[str, Any]:
    started = await gql.data(OPTIMIZE, {"input": request(BARS, parameters=grid)}, token)
    return started["optimizeBacktest"]


async def statuses(gql: GraphQLClient, token: str) -> dict[str, dict[str, Any]]:
    edges = (await gql.data(MINE, token=token))["optimizations"]["edges"]
    return {edge["node"]["id"]: edge["node"] for edge in edges}


async def test_a_small_run_takes_turns_with_a_users_queue_of_large_ones_and_cancels_stop_them(
    server: RunningServer, services: Services, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await load(gql, admin_token, *walk(BARS, seed=7))
    hog = trader["accessToken"]
    large = [await optimize(gql, hog, LARGE) for _ in range(12)]  # 2 running + 10 queued
    refused = await gql.error(OPTIMIZE, {"input": request(BARS, parameters=LARGE)}, hog)
    assert error_code(refused) == "RATE_LIMITED"
    assert "TRADEGRAPH_QUEUED_RUNS_PER_USER" in refused["message"]
    assert len(await statuses(gql, hog)) == 12  # the refused one stored nothing

    queued = await statuses(gql, hog)
    positions = [queued[run["id"]]["queuePosition"] for run in large[2:]]
    assert positions == list(range(1, 11))  # in the order they were started
    assert all(queued[run["id"]]["queuePosition"] is None for run in large[:2])

    other = (await register(gql, "other@example.com"))["accessToken"]
    small = await optimize(gql, other, SMALL)
    assert small["combinations"] == 4
    updates = await follow(server, other, small["id"])
    assert updates[-1]["status"] == "COMPLETED"
    # it finished between the large runs' chunks, not behind them
    now = await statuses(gql, hog)
    assert [now[run["id"]]["status"] for run in large[:2]] == ["RUNNING", "RUNNING"]
    assert all(now[run["id"]]["status"] == "QUEUED" for run in large[2:])

    # a queued backtest of the same user waits for a slot too, and is cancelled at once
    backtest_input = {
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        **window(BARS),
        "initialCash": "10000",
        "strategy": {"kind": "SMA_CROSSOVER", "fast": 5, "slow": 20},
    }
    refused = await gql.error(RUN, {"input": backtest_input}, hog)
    assert error_code(refused) == "RATE_LIMITED"  # 10 optimisations wait already
    hidden = await gql.error(CANCEL, {"id": large[0]["id"]}, other)
    assert error_code(hidden) == "NOT_FOUND"
    assert (await statuses(gql, hog))[large[0]["id"]]["status"] == "RUNNING"

    client = await connected(server.url, hog)
    await client.subscribe(
        "p",
        "subscription($id: ID!) { optimizationProgress(id: $id) { status } }",
        {"id": large[0]["id"]},
    )
    assert (await client.receive())["payload"]["data"]["optimizationProgress"][
        "status"
    ] == "RUNNING"
    cancelled = (await gql.data(CANCEL, {"id": large[0]["id"]}, hog))["cancelOptimization"]
    assert cancelled["status"] == "CANCELED"
    assert cancelled["finishedAt"]
    async with asyncio.timeout(30):
        while (message := await client.receive(timeout=30))["type"] == "next":
            last = message["payload"]["data"]["optimizationProgress"]["status"]
    assert (last, message["type"]) == ("CANCELED", "complete")
    await client.close()
    again = await gql.error(CANCEL, {"id": large[0]["id"]}, hog)
    assert error_code(again) == "CONFLICT"
    assert "already CANCELED" in again["message"]
    finished = await gql.error(CANCEL, {"id": small["id"]}, other)
    assert error_code(finished) == "CONFLICT"

    # the first queued run took the freed slot; an ADMIN may cancel anyone's
    by_admin = await gql.data(CANCEL, {"id": large[5]["id"]}, admin_token)
    assert by_admin["cancelOptimization"]["status"] == "CANCELED"
    backtest = (await gql.data(RUN, {"input": backtest_input}, hog))["runBacktest"]
    assert backtest["status"] == "QUEUED"
    assert (await gql.data(CANCEL_BACKTEST, {"id": backtest["id"]}, hog))["cancelBacktest"][
        "status"
    ] == "CANCELED"
    for run in large[1:]:
        if (await statuses(gql, hog))[run["id"]]["status"] in ("QUEUED", "RUNNING"):
            await gql.data(CANCEL, {"id": run["id"]}, hog)
    final = await statuses(gql, hog)
    assert {node["status"] for node in final.values()} == {"CANCELED"}
    assert all(node["queuePosition"] is None for node in final.values())
    # nothing of theirs is left in the pool's line: another small run goes straight through
    assert (await follow(server, other, (await optimize(gql, other, SMALL))["id"]))[-1][
        "status"
    ] == "COMPLETED"
    assert services.optimizations.queue.waiting(trader["user"]["id"]) == 0


async def test_runs_of_dead_processes_fail_at_once_and_their_feeds_end(
    server: RunningServer, services: Services, gql: GraphQLClient, trader: dict
) -> None:
    token, owner = trader["accessToken"], trader["user"]["id"]
    processes = services.optimizations.processes
    exited = await asyncio.create_subprocess_exec("true")
    await exited.wait()
    sleeping = await asyncio.create_subprocess_exec("sleep", "60")
    now = datetime.now(UTC)
    records = {  # id: (host, pid, last seen)
        "restarted": (processes.host, exited.pid, now),  # same host, its pid is gone
        "silent": ("elsewhere", 1, now - timedelta(hours=1)),  # stopped beating
        "alive-here": (processes.host, sleeping.pid, now),
        "alive-elsewhere": ("elsewhere", 1, now),
    }
    for process_id, (host, pid, seen) in records.items():
        await ResearchProcess(
            id=process_id, host=host, pid=pid, started_at=seen, seen_at=seen
        ).insert()
    runs = {}
    for process_id in records:
        runs[process_id] = await _stored_run(owner, process_id)
    backtest = BacktestRun(**_run_fields(owner, "restarted"), strategy={"kind": "SMA_CROSSOVER"})
    await backtest.insert()
    client = await connected(server.url, token)
    query = "subscription($id: ID!) { optimizationProgress(id: $id) { status error } }"
    await client.subscribe("p", query, {"id": str(runs["restarted"].id)})
    first = (await client.receive())["payload"]["data"]["optimizationProgress"]
    try:
        await sweep_orphans(processes, [services.backtests, services.optimizations])
        # the server's own heartbeat may have swept first: then the feed began with the end
        final = (
            await client.receive()
            if first["status"] == "RUNNING"
            else {"payload": {"data": {"optimizationProgress": first}}}
        )
        assert final["payload"]["data"]["optimizationProgress"] == {
            "status": "FAILED",
            "error": INTERRUPTED,
        }
        assert (await client.receive())["type"] == "complete"
    finally:
        sleeping.kill()
        await sleeping.wait()
        await client.close()
    found = {
        process_id: (await gql.data(STATUS, {"id": str(run.id)}, token))["optimization"]
        for process_id, run in runs.items()
    }
    assert found["restarted"] == found["silent"] == {"status": "FAILED", "error": INTERRUPTED}
    assert found["alive-here"]["status"] == found["alive-elsewhere"]["status"] == "RUNNING"
    stored = await BacktestRun.get(backtest.id)
    assert stored is not None
    assert stored.status.value == "FAILED"
    assert await ResearchProcess.get("restarted") is None  # dead records are dropped


def _run_fields(owner: str, process_id: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "owner_id": owner,
        "status": "RUNNING",
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        "from_": START,
        "to": START + timedelta(minutes=10),
        "initial_cash": 1000.0,
        "fee_bps": 0.0,
        "created_at": now,
        "updated_at": now,
        "process_id": process_id,
    }


async def _stored_run(owner: str, process_id: str) -> OptimizationRun:
    run = OptimizationRun(
        **_run_fields(owner, process_id),
        kind="SMA_CROSSOVER",
        parameters=[],
        maximize="SHARPE",
        combinations=1,
    )
    return await run.insert()


async def test_a_run_in_flight_when_the_server_stops_is_failed_after_the_restart(
    tmp_path: Path,
) -> None:
    settings = server_settings(data_dir=str(tmp_path), backtest_workers=1)
    running = await start_server(settings)
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await load(gql, admin, *walk(BARS, seed=8))
            started = await optimize(gql, admin, LARGE)
            query = f'{{ optimization(id: "{started["id"]}") {{ status }} }}'
            async with asyncio.timeout(60):
                while (await gql.data(query, token=admin))["optimization"]["status"] != "RUNNING":
                    pass
    finally:
        await running.stop()
    restarted = await start_server(settings)
    try:
        async with httpx.AsyncClient(base_url=restarted.url, timeout=30) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            found = await gql.data(STATUS, {"id": started["id"]}, admin)
            assert found["optimization"] == {"status": "FAILED", "error": INTERRUPTED}
    finally:
        await restarted.stop()


async def test_result_fields_are_weighed_and_their_rows_read_once(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await load(gql, admin_token, *walk(300, seed=9))
    token = trader["accessToken"]
    started = (await gql.data(OPTIMIZE, {"input": request(300)}, token))["optimizeBacktest"]
    assert (await follow(server, token, started["id"]))[-1]["status"] == "COMPLETED"
    aliases = " ".join(
        f'h{i}: heatmap(x: "fast", y: "slow") {{ values }} t{i}: top(n: 3) {{ rank }}'
        for i in range(5)
    )
    many = f'{{ optimization(id: "{started["id"]}") {{ {aliases} }} }}'
    found = (await gql.data(many, token=token))["optimization"]
    assert len({str(found[f"h{i}"]) for i in range(5)}) == 1
    assert found["t0"] == [{"rank": 1}, {"rank": 2}, {"rank": 3}]
    heavy = " ".join(f'h{i}: heatmap(x: "fast", y: "slow") {{ x }}' for i in range(30))
    refused = await gql.error(
        f'{{ optimization(id: "{started["id"]}") {{ {heavy} }} }}', token=token
    )
    assert error_code(refused) == "QUERY_TOO_COMPLEX"
    assert "estimated cost" in refused["message"]
    through_interface = """{ optimizations { edges { node {
        ... on ResearchRun { id status progress queuePosition finishedAt } } } } }"""
    node = (await gql.data(through_interface, token=token))["optimizations"]["edges"][0]["node"]
    assert (node["id"], node["status"]) == (started["id"], "COMPLETED")
    assert node["queuePosition"] is None


async def test_a_range_that_cannot_be_enumerated_is_refused_naming_it(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await load(gql, admin_token, *walk(50))
    overflow = [{"name": "slow", "start": -1.7e308, "stop": 1.7e308, "step": 1e300}]
    error = await gql.error(
        OPTIMIZE, {"input": request(50, parameters=overflow)}, trader["accessToken"]
    )
    assert error_code(error) == "BAD_USER_INPUT"
    assert error["message"].startswith("slow: the range")
    assert error["extensions"]["parameter"] == "slow"
