"""Real processes the tests start: redis-server, and tradegraph servers as subprocesses."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import sys
from dataclasses import dataclass, field

START_TIMEOUT = 60.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    process: asyncio.subprocess.Process
    url: str
    output: list[str] = field(default_factory=list)  # its log lines after the readiness line

    async def stop(self) -> None:
        if self.process.returncode is None:
            self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 20)
            except TimeoutError as error:
                self.process.kill()  # no orphan left behind; the failure shows its last words
                last = "".join(self.output[-15:])
                message = f"the server did not stop within 20 s; it logged:\n{last}"
                raise AssertionError(message) from error


async def start_redis(port: int | None = None) -> Process:
    """A private redis-server on a free port (or `port`, to restart one); returns once it logs
    that it accepts connections."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server is required: run scripts/ensure-redis (make test does)"
    port = port or free_port()
    process = await asyncio.create_subprocess_exec(
        binary,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert process.stdout is not None
    await _line_containing(process.stdout, "Ready to accept connections", "redis-server")
    return Process(process, f"redis://127.0.0.1:{port}/0")


async def start_tradegraph(
    env: dict[str, str], *args: str, start_timeout: float | None = None
) -> Process:
    """`tradegraph serve --port 0`; the URL is read from its 'listening' log line (logged
    once `--seed` has seeded: give that more than the default START_TIMEOUT)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tradegraph",
        "serve",
        "--port",
        "0",
        *args,
        # Memory-only and without the first-run demo market unless a test asks for them.
        env={
            **os.environ,
            "TRADEGRAPH_LOG_FORMAT": "json",
            "TRADEGRAPH_DATA_DIR": "",
            "TRADEGRAPH_DEMO": "false",
            **env,
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    output: list[str] = []
    line = await _line_containing(
        process.stderr, '"event": "listening"', "tradegraph", output, start_timeout
    )
    url = re.search(r'"url": "(http://[^"]+)"', line)
    assert url, line
    return Process(process, url.group(1), output)


async def _line_containing(
    stream: asyncio.StreamReader,
    marker: str,
    name: str,
    sink: list[str] | None = None,
    within: float | None = None,
) -> str:
    """The first output line with `marker` (the process's readiness signal); the rest of the
    output is drained in the background so the process never blocks on a full pipe."""
    seen = []
    async with asyncio.timeout(within or START_TIMEOUT):
        while line := (await stream.readline()).decode():
            seen.append(line)
            if marker in line:
                asyncio.get_running_loop().create_task(_drain(stream, sink))
                return line
    raise AssertionError(f"{name} did not start:\n" + "".join(seen))


async def _drain(stream: asyncio.StreamReader, sink: list[str] | None) -> None:
    while line := await stream.readline():
        if sink is not None:
            sink.append(line.decode())
