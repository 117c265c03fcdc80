"""Parameter optimisation over GraphQL, on imported candles: ranking, the best run, the heatmap,
walk-forward folds, refusals, responsiveness while the pool works, and the pool's shutdown."""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from typing import Any

import httpx
import pandas as pd
import pytest

from tests.e2e.conftest import login_admin, register, server_settings
from tests.e2e.test_analytics import START, load, walk, window
from tests.support.clients import GraphQLClient, connected, error_code
from tests.support.number_format import at_scale, near
from tests.support.reference_backtest import backtest as reference_backtest
from tradegraph.server import RunningServer, start_server
from tradegraph.services import Services

OPTIMIZE = """mutation($input: OptimizeInput!) {
  optimizeBacktest(input: $input) { id status combinations }
}"""
PROGRESS = """subscription($id: ID!) { optimizationProgress(id: $id) {
  status progress error combinations bars bestParameters
  best { totalReturn tradeCount finalEquity }
} }"""
RESULTS = """query($id: ID!, $n: Int!, $x: String!, $y: String!) { optimization(id: $id) {
  status combinations bestParameters best { totalReturn sharpe tradeCount finalEquity }
  top(n: $n) { rank parameters score metrics { totalReturn sharpe tradeCount } }
  heatmap(x: $x, y: $y) { x y metric xValues yValues values cells { x y value } }
  sharpe: heatmap(x: $x, y: $y, metric: SHARPE) { metric values }
  folds { index trainFrom trainTo testFrom testTo parameters initialEquity finalEquity
          inSample { totalReturn } outOfSample { totalReturn tradeCount } }
  outOfSampleEquity { time equity }
} }"""
GRID = [
    {"name": "fast", "start": 2, "stop": 6, "step": 2},
    {"name": "slow", "start": 10, "stop": 30, "step": 10},
]


def frame_of(opens: list[float], closes: list[float]) -> pd.DataFrame:
    times = [int((START + timedelta(minutes=i)).timestamp()) for i in range(len(closes))]
    return pd.DataFrame({"time": times, "open": opens, "close": closes})


def request(n: int, **changes: Any) -> dict[str, Any]:
    return {
        "symbol": "PETR4",
        "interval": "ONE_MINUTE",
        **window(n),
        "initialCash": "10000",
        "feeBps": 5,
        "kind": "SMA_CROSSOVER",
        "parameters": GRID,
        "maximize": "TOTAL_RETURN",
        **changes,
    }


async def follow(server: RunningServer, token: str, optimization_id: str) -> list[dict]:
    client = await connected(server.url, token)
    await client.subscribe("o", PROGRESS, {"id": optimization_id})
    updates = []
    async with asyncio.timeout(60):
        while (message := await client.receive(timeout=60))["type"] == "next":
            assert "errors" not in message["payload"], message
            updates.append(message["payload"]["data"]["optimizationProgress"])
    assert message == {"id": "o", "type": "complete"}
    await client.close()
    return updates


def reference_return(frame: pd.DataFrame, params: dict) -> float:
    _, equity = reference_backtest(frame, "SMA_CROSSOVER", params, 10_000, 5)
    return equity[-1] / 10_000 - 1


async def test_an_optimisation_ranks_every_combination_and_draws_its_heatmap(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    opens, closes = walk(600)
    await load(gql, admin_token, opens, closes)
    token = trader["accessToken"]
    constraint = "fast * 3 <= slow"
    started = (await gql.data(OPTIMIZE, {"input": request(600, constraint=constraint)}, token))[
        "optimizeBacktest"
    ]
    combos = [(f, s) for f in (2, 4, 6) for s in (10, 20, 30) if f * 3 <= s]
    assert started["combinations"] == len(combos) == 7
    updates = await follow(server, token, started["id"])
    progress = [u["progress"] for u in updates]
    assert progress == sorted(progress)
    final = updates[-1]
    assert (final["status"], final["progress"], final["bars"]) == ("COMPLETED", 1.0, 600)

    frame = frame_of(opens, closes)
    expected = {
        combo: reference_return(frame, dict(zip(("fast", "slow"), combo, strict=True)))
        for combo in combos
    }
    variables = {"id": started["id"], "n": 100, "x": "fast", "y": "slow"}
    result = (await gql.data(RESULTS, variables, token))["optimization"]
    top = result["top"]
    assert [row["rank"] for row in top] == list(range(1, 8))
    found = {(row["parameters"]["fast"], row["parameters"]["slow"]): row for row in top}
    assert found.keys() == expected.keys()
    for combo, total in expected.items():
        assert found[combo]["metrics"]["totalReturn"] == pytest.approx(total)
        assert found[combo]["score"] == found[combo]["metrics"]["totalReturn"]
    scores = [row["score"] for row in top]
    assert scores == sorted(scores, reverse=True)
    winner = max(expected, key=lambda combo: expected[combo])
    assert result["bestParameters"] == {"fast": winner[0], "slow": winner[1]}
    assert result["best"]["totalReturn"] == pytest.approx(expected[winner])
    assert near(result["best"]["finalEquity"], 2, 10_000 * (1 + expected[winner]))  # BRL
    assert top[0]["parameters"] == result["bestParameters"]

    heatmap = result["heatmap"]
    assert (heatmap["x"], heatmap["y"], heatmap["metric"]) == ("fast", "slow", "TOTAL_RETURN")
    assert (heatmap["xValues"], heatmap["yValues"]) == ([2, 4, 6], [10, 20, 30])
    for j, slow in enumerate((10, 20, 30)):
        for i, fast in enumerate((2, 4, 6)):
            cell = heatmap["values"][j][i]
            if (fast, slow) in expected:
                assert cell == pytest.approx(expected[(fast, slow)])
            else:
                assert cell is None  # excluded by the constraint
    assert len(heatmap["cells"]) == 9
    sharpe = {(row["parameters"]["fast"], row["parameters"]["slow"]): row for row in top}
    assert result["sharpe"]["metric"] == "SHARPE"
    assert result["sharpe"]["values"][2][0] == pytest.approx(sharpe[(2, 30)]["metrics"]["sharpe"])
    assert result["folds"] == []
    assert result["outOfSampleEquity"] == []

    listed = await gql.data("{ optimizations { edges { node { id } } totalCount } }", token=token)
    assert listed["optimizations"]["totalCount"] == 1
    assert listed["optimizations"]["edges"][0]["node"]["id"] == started["id"]
    stranger = (await register(gql, "stranger@example.com"))["accessToken"]
    hidden = await gql.error(f'{{ optimization(id: "{started["id"]}") {{ id }} }}', token=stranger)
    assert error_code(hidden) == "NOT_FOUND"
    bad_axis = await gql.error(RESULTS, {**variables, "x": "period"}, token)
    assert error_code(bad_axis) == "BAD_USER_INPUT"
    assert "'period' is not an optimised parameter" in bad_axis["message"]


async def test_walk_forward_runs_each_folds_in_sample_winner_out_of_sample(
    server: RunningServer, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    opens, closes = walk(900, seed=11)
    await load(gql, admin_token, opens, closes)
    token = trader["accessToken"]
    walk_forward = {"folds": 3, "trainFraction": 0.6}
    started = (await gql.data(OPTIMIZE, {"input": request(900, walkForward=walk_forward)}, token))[
        "optimizeBacktest"
    ]
    assert (await follow(server, token, started["id"]))[-1]["status"] == "COMPLETED"
    variables = {"id": started["id"], "n": 1, "x": "fast", "y": "slow"}
    result = (await gql.data(RESULTS, variables, token))["optimization"]
    folds = result["folds"]
    assert [fold["index"] for fold in folds] == [0, 1, 2]

    frame = frame_of(opens, closes)
    window_bars = 900 / (0.6 + 3 * 0.4)
    train = round(window_bars * 0.6)
    test = (900 - train) // 3
    combos = [{"fast": f, "slow": s} for f in (2, 4, 6) for s in (10, 20, 30)]
    cash = 10_000.0
    for i, fold in enumerate(folds):
        test_start, test_stop = train + i * test, 900 if i == 2 else train + (i + 1) * test
        train_part = frame.iloc[test_start - train : test_start].reset_index(drop=True)
        test_part = frame.iloc[test_start:test_stop].reset_index(drop=True)
        assert pd.Timestamp(fold["trainFrom"]).timestamp() == train_part["time"].iloc[0]
        assert pd.Timestamp(fold["testFrom"]).timestamp() == test_part["time"].iloc[0]
        assert pd.Timestamp(fold["testTo"]).timestamp() == test_part["time"].iloc[-1]
        in_sample = {tuple(c.values()): reference_return(train_part, c) for c in combos}
        best = max(in_sample.values())
        assert in_sample[(fold["parameters"]["fast"], fold["parameters"]["slow"])] == best
        assert fold["inSample"]["totalReturn"] == pytest.approx(best)
        trades, equity = reference_backtest(test_part, "SMA_CROSSOVER", fold["parameters"], cash, 5)
        assert near(fold["initialEquity"], 2, cash)  # BRL: Decimal strings at 2 decimals
        assert near(fold["finalEquity"], 2, equity[-1])
        assert fold["outOfSample"]["tradeCount"] == len(trades)
        cash = equity[-1]
    curve = result["outOfSampleEquity"]
    assert all(at_scale(point["equity"], 2) > 0 for point in curve)
    assert near(curve[-1]["equity"], 2, cash)
    assert pd.Timestamp(curve[0]["time"]) == pd.Timestamp(folds[0]["testFrom"])


async def test_bad_optimisations_are_refused_and_store_nothing(
    gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await load(gql, admin_token, *walk(50))
    token = trader["accessToken"]
    huge = [
        {"name": "fast", "start": 1, "stop": 200, "step": 1},
        {"name": "slow", "start": 1, "stop": 200, "step": 1},
    ]
    cases: list[tuple[dict[str, Any], str]] = [
        ({"parameters": huge}, "40,000 combinations: at most 10,000"),
        ({"constraint": "fast < slo"}, "unknown parameter 'slo'"),
        ({"constraint": "__import__('os')"}, "constraint: unexpected"),
        ({"parameters": [{"name": "upper", "start": 1, "stop": 2, "step": 1}]}, "no parameter"),
        ({"walkForward": {"folds": 0, "trainFraction": 0.5}}, "folds must be 1 to 20"),
        ({"walkForward": {"folds": 2, "trainFraction": 1.5}}, "trainFraction"),
        ({"constraint": "fast > slow"}, "no combination satisfies"),
        ({"initialCash": "0"}, "initialCash"),
    ]
    for change, says in cases:
        error = await gql.error(OPTIMIZE, {"input": request(50, **change)}, token)
        assert error_code(error) == "BAD_USER_INPUT", change
        assert says in error["message"], (change, error["message"])
    listed = await gql.data("{ optimizations { totalCount } }", token=token)
    assert listed["optimizations"]["totalCount"] == 0


async def test_the_server_answers_queries_while_the_pool_optimises(
    services: Services, gql: GraphQLClient, admin_token: str, trader: dict
) -> None:
    await load(gql, admin_token, *walk(1_000, seed=2))
    token = trader["accessToken"]
    grid = [
        {"name": "fast", "start": 2, "stop": 30, "step": 1},
        {"name": "slow", "start": 50, "stop": 400, "step": 10},
        {"name": "stopLossPct", "start": 1, "stop": 2, "step": 1},
    ]
    started = (await gql.data(OPTIMIZE, {"input": request(1_000, parameters=grid)}, token))[
        "optimizeBacktest"
    ]
    seen = []
    async with asyncio.timeout(120):
        while True:
            query = f'{{ optimization(id: "{started["id"]}") {{ status progress }} }}'
            state = (await gql.data(query, token=token))["optimization"]
            seen.append(state)
            if state["status"] in ("COMPLETED", "FAILED"):
                break
    assert seen[-1]["status"] == "COMPLETED"
    # answered in the middle of the grid: the event loop was not running it
    assert any(s["status"] == "RUNNING" and 0.05 < s["progress"] < 0.95 for s in seen), seen
    workers = services.optimizations.queue.pool.process_ids()
    assert workers
    assert os.getpid() not in workers


async def test_the_worker_processes_end_with_the_server_even_mid_grid() -> None:
    running = await start_server(server_settings(backtest_workers=2))
    try:
        async with httpx.AsyncClient(base_url=running.url, timeout=30) as http:
            gql = GraphQLClient(http)
            admin = await login_admin(gql)
            await load(gql, admin, *walk(300))
            started = (await gql.data(OPTIMIZE, {"input": request(300)}, admin))["optimizeBacktest"]
            assert (await follow(running, admin, started["id"]))[-1]["status"] == "COMPLETED"
            services: Services = running.app.state.services
            workers = services.optimizations.queue.pool.process_ids()
            assert len(workers) == 2
            for pid in workers:
                os.kill(pid, 0)  # alive
            long_grid = [
                {"name": "fast", "start": 2, "stop": 30, "step": 1},
                {"name": "slow", "start": 31, "stop": 100, "step": 1},
                {"name": "stopLossPct", "start": 1, "stop": 3, "step": 1},
            ]
            busy = (await gql.data(OPTIMIZE, {"input": request(300, parameters=long_grid)}, admin))[
                "optimizeBacktest"
            ]
            query = f'{{ optimization(id: "{busy["id"]}") {{ status progress }} }}'
            async with asyncio.timeout(60):
                while (await gql.data(query, token=admin))["optimization"]["progress"] <= 0.05:
                    pass  # until the workers are inside the grid
    finally:
        async with asyncio.timeout(30):  # stopping does not wait for the grid to finish
            await running.stop()
    for pid in workers:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)  # exited and reaped: nothing leaks past stop_services
