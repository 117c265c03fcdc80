"""Command line: tradegraph serve | seed | schema | users create."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import sys
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING

import structlog
from tqdm import tqdm

from tradegraph.config import Environment, Settings
from tradegraph.documents import Role
from tradegraph.logs import configure_logging
from tradegraph.services import Services
from tradegraph.store import bulk_load

if TYPE_CHECKING:
    from starlette.applications import Starlette

log = structlog.get_logger("tradegraph")

SEED_BATCH = 1000
# `serve --seed` stays small: the in-process emulation checks unique keys by scanning.
SERVE_SEED_DAYS = 7
SERVE_SEED_USERS = 20
IN_MEMORY_REFUSAL = (
    "TRADEGRAPH_MONGODB_URL is not set, so the store is an in-process emulation that lives and "
    "dies with one process: what this command wrote would be lost. Set TRADEGRAPH_MONGODB_URL, "
    "or use 'tradegraph serve --seed' and the TRADEGRAPH_ADMIN_* variables instead."
)


async def _serve(settings: Settings, host: str, port: int, seed_days: int | None) -> None:
    from tradegraph.server import start_server

    running = await start_server(settings, host, port)
    services: Services = running.app.state.services
    if not seed_days and await _first_demo_run(services):
        log.info("first run: loading the demo market (TRADEGRAPH_DEMO=false starts empty)")
        seed_days = SERVE_SEED_DAYS
    if seed_days:
        # Seeds while serving; the dashboard shows "history loading" until it ends.
        log.info("serving while the demo market loads", url=running.url)
        with services.market.history.loading_while(), bulk_load():  # see bulk_load
            await _seed(services, seed_days, users=SERVE_SEED_USERS)
    log.info(
        "listening",
        url=running.url,
        graphql=f"{running.url}/graphql",
        webhooks=f"{running.url}/webhooks/events",
    )
    await running.task


async def _first_demo_run(services: Services) -> bool:
    """TRADEGRAPH_DEMO in development, on a store that holds no instrument yet."""
    settings = services.settings
    if not settings.demo or settings.environment is not Environment.DEVELOPMENT:
        return False
    return not await services.instruments.search(None, None)


def worker_app() -> Starlette:
    """The app of one `serve --workers N` process (uvicorn imports it by name in each)."""
    from tradegraph.app import create_app
    from tradegraph.server import tune_collector

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    tune_collector()
    return create_app(settings)


def _serve_workers(settings: Settings, host: str, port: int, workers: int) -> int:
    problems = settings.worker_problems()
    if problems:
        needs = "; ".join(problems)
        log.error(f"--workers {workers} needs state shared between processes: {needs}")
        return 2
    import uvicorn

    from tradegraph.server import uvicorn_options

    url = f"http://{host}:{port}"
    log.info("listening", url=url, graphql=f"{url}/graphql", workers=workers)
    uvicorn.run(
        "tradegraph.cli:worker_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        **uvicorn_options(settings),
    )
    return 0


async def _seed(services: Services, days: int, users: int, seed: int = 7) -> None:
    from tradegraph.events.seed import EVENTS_PER_USER_PER_DAY, synthetic_events
    from tradegraph.markets.seed import seed_universe

    await services.store.wait_loaded()  # after a restart: the stored bars decide what to seed
    created, present = await seed_universe(services.instruments, services.market)
    log.info("instruments seeded", created=created, already_present=present)
    # One-minute bars per instrument ending now (TRADEGRAPH_SEED_HISTORY_DAYS, 30 by default),
    # stored a UTC day per document (markets/day_bars.py), on MongoDB and the emulation alike.
    await _seed_history(services, services.settings.seed_history_days)

    events = synthetic_events(days, users, seed)
    stored = duplicates = 0
    with tqdm(
        total=days * users * EVENTS_PER_USER_PER_DAY, unit="events", desc="seeding", file=sys.stderr
    ) as bar:
        while batch := list(islice(events, SEED_BATCH)):
            result = await services.events.ingest(batch, key_prefix="seed")
            stored += len(result.stored)
            duplicates += result.duplicates
            bar.update(len(batch) / 0.8)  # about 80% of slots become events
        bar.update((bar.total or 0) - bar.n)
    log.info("seeded", stored=stored, already_present=duplicates, days=days, users=users)


async def _seed_history(services: Services, days: int) -> None:
    from tradegraph.markets.history import seed_history

    prices = {}
    for instrument in await services.instruments.search(None, None):
        latest = await services.market.latest(instrument.symbol)
        if latest is not None:
            prices[instrument.symbol] = (instrument, latest.mid)
    settings = services.settings
    with tqdm(
        total=len(prices) * days * 1440, unit="bars", desc="price history", file=sys.stderr
    ) as bar:
        stored = await seed_history(
            prices,
            days,
            settings.simulated_drift,
            settings.simulated_volatility,
            progress=bar.update,
        )
    services.market.sessions.forget()  # session statistics now have a previous close
    log.info("price history seeded", bars=stored, days=days, instruments=len(prices))


async def _with_services(settings: Settings, action: str, args: argparse.Namespace) -> int:
    from tradegraph.services import start_services, stop_services

    services = await start_services(settings)
    try:
        if action == "seed":
            await _seed(services, args.days, args.users, args.seed)
        else:
            password = args.password or getpass.getpass(f"password for {args.email}: ")
            user = await services.accounts.create_user(args.email, password, Role(args.role))
            log.info("user created", email=user.email, role=user.role.value, id=str(user.id))
    finally:
        await stop_services(services)
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradegraph", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the API server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    serve.add_argument(
        "--seed",
        action="store_true",
        help=f"load the demo instruments and {SERVE_SEED_DAYS} days of synthetic events for "
        f"{SERVE_SEED_USERS} users first",
    )
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="uvicorn worker processes on one port; more than 1 needs TRADEGRAPH_BROADCAST_URL="
        "redis://… and TRADEGRAPH_MONGODB_URL=mongodb://…",
    )
    seed = commands.add_parser(
        "seed", help="store the demo instruments and synthetic events (needs a real MongoDB)"
    )
    seed.add_argument("--days", type=int, default=30)
    seed.add_argument("--users", type=int, default=50)
    seed.add_argument("--seed", type=int, default=7, help="random seed: same seed, same events")
    commands.add_parser("schema", help="print the GraphQL SDL")
    users = commands.add_parser("users", help="manage accounts")
    users_commands = users.add_subparsers(dest="users_command", required=True)
    create = users_commands.add_parser("create", help="create an account")
    create.add_argument("email")
    create.add_argument("--role", choices=[role.value for role in Role], default="TRADER")
    create.add_argument("--password", help="prompted for when omitted")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "schema":
        from tradegraph.api import schema_sdl

        sys.stdout.write(schema_sdl())
        return 0
    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    if args.command == "serve" and args.workers < 1:
        log.error("--workers must be at least 1")
        return 2
    if args.command == "serve" and args.workers > 1:
        return _serve_workers(settings, args.host, args.port, args.workers)
    if args.command == "serve":
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(
                _serve(settings, args.host, args.port, SERVE_SEED_DAYS if args.seed else None)
            )
        return 0
    if settings.uses_emulated_store:
        log.error(IN_MEMORY_REFUSAL)
        return 2
    if args.command == "seed" and (args.days < 1 or args.users < 1):
        log.error("--days and --users must be at least 1")
        return 2
    return asyncio.run(_with_services(settings, args.command, args))


if __name__ == "__main__":
    sys.exit(main())
