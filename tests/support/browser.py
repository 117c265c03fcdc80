"""Headless Chromium for the browser tests: Debian's binary driven by Playwright (Playwright's
own browser download cannot work offline), a seeded server with a fast simulated feed, and tiny
page servers on other origins."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tradegraph.config import MarketFeed, Settings
from tradegraph.markets.feeds import market_feed
from tradegraph.markets.seed import seed_universe
from tradegraph.server import RunningServer, listening_socket, start_server
from tradegraph.services import Services

ENSURE_CHROMIUM = Path(__file__).parents[2] / "scripts" / "ensure-chromium"
# Without the background-networking flags Chromium keeps retrying connections this machine's
# closed network refuses. Playwright adds --headless and a fresh temporary --user-data-dir.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> tuple[str | None, str]:
    """Debian's Chromium, installed by scripts/ensure-chromium when missing (as root or in CI);
    (None, why) only when it cannot be installed here."""
    found = shutil.which("chromium")
    if found:
        return found, ""
    result = subprocess.run(
        [str(ENSURE_CHROMIUM)], capture_output=True, text=True, timeout=900, check=False
    )
    found = shutil.which("chromium")
    if found:
        return found, ""
    return None, f"Chromium cannot be installed here: {result.stderr.strip()[-400:]}"


async def start_live_server(**overrides: object) -> tuple[RunningServer, asyncio.Task[None]]:
    """A server with the demo instruments seeded and the simulated feed ticking fast.

    The feed starts after seeding (it reads the catalogue when it starts), as `serve --seed`
    will once a created instrument is priced at once (issue 13)."""
    from tests.e2e.conftest import server_settings

    settings: Settings = server_settings(**overrides)
    running = await start_server(settings)
    services: Services = running.app.state.services
    await seed_universe(services.instruments, services.market)
    fast = settings.model_copy(
        update={
            "market_feed": MarketFeed.SIMULATED,
            "simulated_tick_seconds": 0.2,
            "simulated_seed": 13,
        }
    )
    feed = market_feed(fast, services.market, services.instruments)
    assert feed is not None
    return running, asyncio.create_task(feed.run())


@asynccontextmanager
async def page_server(html: str, host: str = "127.0.0.1") -> AsyncIterator[str]:
    """Serves `html` at / on `host` and a free port: a page on another origin."""

    async def page(request: Request) -> HTMLResponse:
        return HTMLResponse(html)

    app = Starlette(routes=[Route("/", page)])
    sock = listening_socket(host, 0)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no startup event
        await asyncio.sleep(0.01)
    try:
        yield f"http://{host}:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def launched_chromium(*extra_args: str) -> AsyncIterator[Browser]:
    """Debian's Chromium driven by Playwright (the test is skipped where it is missing)."""
    executable, why = chromium_path()
    if executable is None:
        pytest.skip(why)
    async with async_playwright() as playwright:
        args = [*CHROMIUM_ARGS, *extra_args]
        browser = await playwright.chromium.launch(executable_path=executable, args=args)
        try:
            yield browser
        finally:
            await browser.close()


@asynccontextmanager
async def live_server(**overrides: object) -> AsyncIterator[RunningServer]:
    """start_live_server, stopped (feed and server) on the way out."""
    running, feed = await start_live_server(**overrides)
    try:
        yield running
    finally:
        feed.cancel()
        await running.stop()
