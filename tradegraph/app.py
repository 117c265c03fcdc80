"""Builds the Starlette app: routes, error handlers, and a lifespan that starts the services
(services.py) and the market feed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route, WebSocketRoute

from tradegraph.config import Settings
from tradegraph.errors import DomainError
from tradegraph.markets.feeds import market_feed
from tradegraph.services import Services, start_services, stop_services
from tradegraph.store import StoreUnreachable
from tradegraph.store.journal import JournalCorrupt, promise
from tradegraph.store.recovery import Recovery
from tradegraph.store.snapshots import SnapshotUnreadable
from tradegraph.web.body_limits import BodyLimit
from tradegraph.web.caller_share import CallerShareLimit
from tradegraph.web.client_address import client_address_middleware
from tradegraph.web.cors import OriginPolicy
from tradegraph.web.dashboard import dashboard, no_dashboard, static_files
from tradegraph.web.errors import domain_error_handler, unexpected_error_handler
from tradegraph.web.exports import export_portfolio, redact_export_tokens_in_access_log
from tradegraph.web.graphql import GraphQLView
from tradegraph.web.health import healthz, readyz
from tradegraph.web.metrics import Metrics
from tradegraph.web.security_headers import SecurityHeaders
from tradegraph.web.session_endpoints import end_session, refresh_session
from tradegraph.web.webhooks import receive_events
from tradegraph.web.widget_cors import WidgetKeyCors
from tradegraph.web.widgets import widget_builder, widgets_script

log = structlog.get_logger("tradegraph")


async def start_market_feed(services: Services) -> None:
    """Starts the configured feed; every quote it produces goes through MarketData.ingest."""
    feed = market_feed(services.settings, services.market, services.instruments)
    if feed is not None:
        services.background.append(asyncio.create_task(feed.run()))
        log.info("market feed started", feed=feed.description)
    else:
        log.info("no market feed: quotes come only from publishQuote")


def _announce(services: Services) -> None:
    settings = services.settings
    log.info("store ready", store=services.store.description)
    log.info("broker ready", broker=services.broker.description)
    _announce_persistence(services)
    if settings.uses_memory_broker:
        log.warning(
            "live subscriptions reach only this process: set TRADEGRAPH_BROADCAST_URL="
            "redis://… to run several processes"
        )
    if settings.openai_api_key is None:
        log.info("insights: TEMPLATE only (OPENAI_API_KEY is not set)")
    else:
        log.info(
            "insights: OpenAI Chat Completions",
            model=settings.openai_model,
            base_url=settings.openai_base_url or "https://api.openai.com/v1",
        )
    for name in settings.development_defaults_in_use():
        log.warning(f"{name} is not set: using an insecure development default")


def _announce_persistence(services: Services) -> None:
    store, settings = services.store, services.settings
    if not store.emulated:
        return
    log.info(
        "ticks kept for a while, then swept",
        retention_seconds=settings.effective_tick_retention_seconds,
        sweep_every_seconds=settings.tick_sweep_seconds,
    )
    if store.snapshot_file is None:
        log.warning(
            "DATA IS IN MEMORY ONLY (TRADEGRAPH_DATA_DIR is empty): the in-process MongoDB "
            "emulation loses everything when this process stops; set TRADEGRAPH_DATA_DIR to "
            "keep snapshots, or TRADEGRAPH_MONGODB_URL=mongodb://… for a real database"
        )
        return
    recovery = store.recovery
    if recovery is not None:
        _announce_recovery(recovery)
    log.info(promise(settings.journal_sync_ms, store.snapshot_file.parent))
    log.info(
        "snapshots keep the journal short",
        path=str(store.snapshot_file),
        every_seconds=settings.snapshot_seconds,
    )


def _announce_recovery(recovery: Recovery) -> None:
    for leftover in recovery.leftovers:
        log.info("removed the temporary file of an interrupted snapshot write", path=str(leftover))
    if recovery.snapshot is None:
        log.info("no snapshot yet: starting from the journal alone")
    else:
        taken_at = recovery.snapshot.taken_at
        log.info(
            "store loaded from snapshot",
            path=str(recovery.snapshot.path),
            taken_at=taken_at.isoformat() if taken_at else None,
            documents=recovery.snapshot.documents,
        )
    if recovery.replayed_files:
        log.info(
            "journal replayed",
            records=recovery.replayed_records,
            files=[str(path) for path in recovery.replayed_files],
        )
    for tail in recovery.torn:
        log.warning(
            f"journal {tail.path}: dropped a torn last record at offset {tail.offset} "
            f"({tail.size} bytes), the append a crash interrupted; its call never returned, "
            "so nothing acknowledged is lost"
        )


STARTUP_STOPPERS = (SnapshotUnreadable, JournalCorrupt, StoreUnreachable)


class StartupStoppedFilter(logging.Filter):
    """Drops uvicorn's traceback of a startup stopped on purpose: its one-line message,
    saying what to do, has been logged already."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], STARTUP_STOPPERS):
            return False
        message = str(record.msg)
        if message.startswith("Traceback (most recent call last)"):  # Starlette's startup.failed
            names = (f"{kind.__module__}.{kind.__name__}:" for kind in STARTUP_STOPPERS)
            return not any(name in message for name in names)
        return True


def _quiet_startup_tracebacks() -> None:
    uvicorn_log = logging.getLogger("uvicorn.error")
    if not any(isinstance(f, StartupStoppedFilter) for f in uvicorn_log.filters):
        uvicorn_log.addFilter(StartupStoppedFilter())


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    _quiet_startup_tracebacks()
    metrics = Metrics()
    graphql = GraphQLView(settings)
    metrics.watch_caller_shares(graphql.caller_shares)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            services = await start_services(settings, metrics.events_stored.inc)
        except SnapshotUnreadable as error:
            log.error(f"startup stopped: {error}; restore it from a backup or move it aside")
            raise
        except JournalCorrupt as error:
            log.error(
                f"startup stopped: {error}; restore the data directory from a backup, or move "
                "this file aside to start without the writes it and later files hold"
            )
            raise
        except StoreUnreachable as error:
            log.error(f"startup stopped: {error}")
            raise
        metrics.watch_broker(services.broker)
        metrics.watch_passwords(services.accounts.passwords)
        app.state.services = services
        _announce(services)
        await start_market_feed(services)
        revocations = services.widget_keys.watch_revocations(
            graphql.widget_sockets.close_key, graphql.widget_sockets.keys
        )
        services.background.append(asyncio.create_task(revocations, name="widget-revocations"))
        app.state.started.set()
        try:
            yield
        finally:
            await stop_services(services)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/webhooks/events", receive_events, methods=["POST"]),
        Route("/auth/refresh", refresh_session, methods=["POST"]),
        Route("/auth/logout", end_session, methods=["POST"]),
        Route("/exports/portfolios/{portfolio_id}/{kind:str}.csv", export_portfolio),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.endpoint),
        Route("/", dashboard if settings.dashboard else no_dashboard),
        Route("/widgets.js", widgets_script),
        Route("/widgets", widget_builder),
        Mount("/static", static_files(), name="static"),
    ]
    cors = Middleware(WidgetKeyCors, policy=OriginPolicy.from_settings(settings))
    limit = Middleware(BodyLimit, path="/graphql", max_bytes=settings.graphql_max_body_bytes)
    share = Middleware(  # the same shares as GraphQL over WebSocket (web/graphql_ws.py)
        CallerShareLimit,
        path="/graphql",
        shares=graphql.caller_shares,
        secret=settings.effective_jwt_secret,
    )
    redact_export_tokens_in_access_log()
    headers = Middleware(SecurityHeaders)  # outermost: error responses get the headers too
    handlers = {DomainError: domain_error_handler, Exception: unexpected_error_handler}
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[*client_address_middleware(settings), headers, cors, share, limit],
        exception_handlers=handlers,
    )
    app.state.started = asyncio.Event()  # set once startup has completed
    return app
