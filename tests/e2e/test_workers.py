"""`tradegraph serve --workers N` needs state the processes share: it refuses to start on the
memory broker or the in-process store emulation, saying what to set."""

from __future__ import annotations

import asyncio
import os
import sys

import pytest


async def serve_workers(env: dict[str, str]) -> tuple[int, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRADEGRAPH_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tradegraph",
        "serve",
        "--port",
        "0",
        "--workers",
        "2",
        env={**base, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, (out + err).decode()


async def test_workers_refuse_the_memory_broker_and_the_emulated_store() -> None:
    code, output = await serve_workers({})
    assert code == 2
    assert "TRADEGRAPH_BROADCAST_URL=redis://" in output
    assert "TRADEGRAPH_MONGODB_URL=mongodb://" in output


@pytest.mark.parametrize(
    ("env", "named", "not_named"),
    [
        (
            {"TRADEGRAPH_BROADCAST_URL": "redis://127.0.0.1:6379/0"},
            "TRADEGRAPH_MONGODB_URL",
            "TRADEGRAPH_BROADCAST_URL",
        ),
        (
            {"TRADEGRAPH_MONGODB_URL": "mongodb://127.0.0.1:27017"},
            "TRADEGRAPH_BROADCAST_URL",
            "TRADEGRAPH_MONGODB_URL",
        ),
    ],
)
async def test_workers_name_only_what_is_missing(
    env: dict[str, str], named: str, not_named: str
) -> None:
    code, output = await serve_workers(env)
    assert code == 2
    assert f"set {named}=" in output
    assert f"set {not_named}=" not in output
