"""Builds the Starlette app: routes, and a lifespan that opens the store and the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute

from tradegraph.analytics.backtests import Backtests
from tradegraph.auth.accounts import Accounts
from tradegraph.config import Settings
from tradegraph.documents import Event, Role
from tradegraph.events.service import EventsService
from tradegraph.insights.service import Insights
from tradegraph.markets.feeds import market_feed
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData
from tradegraph.services import Services
from tradegraph.store import open_store
from tradegraph.subscriptions.broker import Broker
from tradegraph.subscriptions.events import EventFeed
from tradegraph.trading.engine import MatchingEngine
from tradegraph.trading.execution import Execution
from tradegraph.trading.orders import OrdersService
from tradegraph.trading.settlement import recover
from tradegraph.web.body_limits import BodyLimit
from tradegraph.web.exports import export_portfolio
from tradegraph.web.graphql import GraphQLView
from tradegraph.web.health import healthz, readyz
from tradegraph.web.metrics import Metrics
from tradegraph.web.webhooks import receive_events

log = structlog.get_logger("tradegraph")


async def start_services(settings: Settings, metrics: Metrics | None = None) -> Services:
    settings.check_production()
    store = await open_store(settings)
    broker = Broker(settings.broadcast_url, settings.subscriber_queue_size)
    await broker.connect()
    feed = EventFeed(broker)

    async def publish(events: list[Event]) -> None:
        if metrics is not None:
            metrics.events_stored.inc(len(events))
        await feed.publish(events)

    instruments = Instruments()
    market = MarketData(instruments, broker)
    execution = Execution(broker, settings.fee_bps)
    engine = MatchingEngine(market, instruments, execution, settings.fee_bps, settings.slippage_bps)
    services = Services(
        settings=settings,
        store=store,
        broker=broker,
        accounts=Accounts(settings),
        events=EventsService(publish, settings.summary_cache_seconds),
        event_feed=feed,
        instruments=instruments,
        market=market,
        engine=engine,
        orders=OrdersService(
            instruments, market, engine, execution, settings.fee_bps, settings.slippage_bps
        ),
        backtests=Backtests(instruments, broker),
        insights=Insights(settings, broker),
    )
    await _ensure_admin(services)
    await recover()
    await services.backtests.fail_interrupted()
    services.background.append(
        asyncio.create_task(engine.run_housekeeping(settings.order_expiry_check_seconds))
    )
    return services


async def start_market_feed(services: Services) -> None:
    """Starts the configured feed; every quote it produces goes through MarketData.ingest."""
    feed = market_feed(services.settings, services.market, services.instruments)
    if feed is not None:
        services.background.append(asyncio.create_task(feed.run()))
        log.info("market feed started", feed=feed.description)
    else:
        log.info("no market feed: quotes come only from publishQuote")


async def stop_services(services: Services) -> None:
    await services.backtests.stop()
    for task in services.background:
        task.cancel()
    await asyncio.gather(*services.background, return_exceptions=True)
    await services.broker.disconnect()
    await services.store.close()


async def _ensure_admin(services: Services) -> None:
    settings = services.settings
    if not (settings.admin_email and settings.admin_password):
        log.info("no admin configured (TRADEGRAPH_ADMIN_EMAIL and TRADEGRAPH_ADMIN_PASSWORD)")
        return
    created = await services.accounts.ensure_user(
        settings.admin_email, settings.admin_password.get_secret_value(), Role.ADMIN
    )
    log.info("admin account " + ("created" if created else "present"), email=settings.admin_email)


def _announce(services: Services) -> None:
    settings = services.settings
    log.info("store ready", store=services.store.description)
    log.info("broker ready", broker=services.broker.description)
    if services.store.emulated:
        log.warning(
            "DATA IS IN MEMORY ONLY: the in-process MongoDB emulation loses everything when this "
            "process stops; set TRADEGRAPH_MONGODB_URL=mongodb://… to keep data"
        )
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


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings()
    metrics = Metrics()
    graphql = GraphQLView(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        services = await start_services(settings, metrics)
        metrics.watch_broker(services.broker)
        app.state.services = services
        _announce(services)
        await start_market_feed(services)
        app.state.started.set()
        try:
            yield
        finally:
            await stop_services(services)

    routes = [
        Route("/graphql", graphql, methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/webhooks/events", receive_events, methods=["POST"]),
        Route("/exports/portfolios/{portfolio_id}/{kind:str}.csv", export_portfolio),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Route("/metrics", metrics.endpoint),
    ]
    limit = Middleware(BodyLimit, path="/graphql", max_bytes=settings.graphql_max_body_bytes)
    app = Starlette(routes=routes, lifespan=lifespan, middleware=[limit])
    app.state.started = asyncio.Event()  # set once startup has completed
    return app
