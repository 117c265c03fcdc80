"""Liveness (/healthz) and readiness (/readyz: the store is loaded and answers, and so does
the broker)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from tradegraph.services import Services

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def _check(probe: Callable[[], Awaitable[None]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as error:  # any failure means not ready; say which
        return f"error: {type(error).__name__}: {error}"
    return "ok"


async def readyz(request: Request) -> JSONResponse:
    """200 `ready` when the store and the broker answer; 503 `loading` while market data is
    still being loaded after a restart, `unavailable` when a dependency does not answer."""
    services: Services = request.app.state.services
    store, broker = await asyncio.gather(_check(services.store.ping), _check(services.broker.ping))
    loading = services.store.loading
    if loading is not None and store == "ok":
        store = loading
    failure = services.store.load_failure
    if failure is not None:
        store = f"error: {failure}"
    ready = store == "ok" and broker == "ok"
    status = "ready" if ready else "loading" if loading is not None else "unavailable"
    return JSONResponse(
        {"status": status, "store": store, "broker": broker},
        status_code=200 if ready else 503,
        headers={} if ready or loading is None else {"Retry-After": "5"},
    )
