"""Runs the app under uvicorn on a socket bound first, so port 0 yields a known free port, in a
process tuned for serving (its garbage collector)."""

from __future__ import annotations

import asyncio
import gc
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.applications import Starlette

from tradegraph.app import create_app
from tradegraph.config import Settings

# Collections of the youngest generation every 10,000 allocations instead of 700: a request or a
# quote's fan-out allocates thousands of short-lived objects, and a collection in the middle of
# it promotes the live ones, which then pile up in the oldest generation until a full
# collection walks every object of every socket (~200 ms at 200 dashboards, every 15-25 s).
# Measured in `python -m bench day` (bench/README.md, "A trading day"): no full collection in
# the minute instead of five; a young collection walks at most 10,000 objects (a few ms).
GC_YOUNG_THRESHOLD = 10_000


def tune_collector() -> None:
    """The serving process's garbage collector (GC_YOUNG_THRESHOLD); once per process, before
    it serves: `serve` (start_server) and each `serve --workers N` process (cli.worker_app)."""
    gc.set_threshold(GC_YOUNG_THRESHOLD, *gc.get_threshold()[1:])


@dataclass
class RunningServer:
    url: str
    app: Starlette
    server: uvicorn.Server
    task: asyncio.Task[None]

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """What every tradegraph uvicorn runs with, one process or several workers."""
    return {
        "log_config": None,
        "lifespan": "on",
        # Off: uvicorn would believe X-Forwarded-For from 127.0.0.1 whatever the settings say;
        # TRADEGRAPH_TRUSTED_PROXIES decides instead (web/client_address.py).
        "proxy_headers": False,
        # WebSocket-level pings are off: graphql-transport-ws pings come from the GraphQL view.
        "ws_ping_interval": None,
        # Off by default: a deflate context per socket costs more memory than quotes save.
        "ws_per_message_deflate": settings.ws_compression,
        # A message is read whole before anything can look at it: no larger than a body.
        "ws_max_size": settings.effective_ws_max_message_bytes,
    }


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit it: without, a response written in two parts (headers,
    # body) waits for the client's delayed ACK, ~40 ms per request on a kept-alive connection.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(2048)
    return sock


async def start_server(settings: Settings, host: str = "127.0.0.1", port: int = 0) -> RunningServer:
    """Starts serving; returns once startup (store, broker, admin) has completed."""
    tune_collector()
    app = create_app(settings)
    sock = listening_socket(host, port)
    bound_port = sock.getsockname()[1]
    config = uvicorn.Config(app, **uvicorn_options(settings))
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    ready = asyncio.create_task(app.state.started.wait())
    await asyncio.wait([ready, task], return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        await task  # raises the startup error
        raise RuntimeError("server stopped during startup")
    shown_host = f"[{host}]" if ":" in host else host
    return RunningServer(url=f"http://{shown_host}:{bound_port}", app=app, server=server, task=task)
