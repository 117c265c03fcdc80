"""Everything a resolver or a web route reaches the domain through, built once at startup.

This is also where the pieces are wired together: the matching engine hears of every quote the
market data path accepts, and the broker learns how to decode each channel.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog

from tradegraph.analytics.backtest_runs import BacktestKind, BacktestRequest
from tradegraph.analytics.indicator_series import IndicatorSeriesService
from tradegraph.analytics.optimization_runs import OptimizationKind, OptimizationRequest
from tradegraph.analytics.research_runs import ResearchRuns, keep_watch, sweep_orphans
from tradegraph.analytics.risk import RiskAnalysis
from tradegraph.analytics.run_processes import RunProcesses
from tradegraph.analytics.run_queue import RunQueue
from tradegraph.analytics.worker_pool import WorkerPool
from tradegraph.auth.accounts import Accounts
from tradegraph.config import Settings
from tradegraph.documents import BacktestRun, OptimizationRun, Role
from tradegraph.documents.outbox import MongoOutboxStore
from tradegraph.errors import InvalidInput
from tradegraph.events.service import EventsService
from tradegraph.insights.service import Insights
from tradegraph.markets.candles import Candles
from tradegraph.markets.instruments import Instruments
from tradegraph.markets.quotes import MarketData
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.outbox import Outbox
from tradegraph.store import Store, open_store
from tradegraph.subscriptions.decoders import register_decoders
from tradegraph.subscriptions.feed_watch import FeedWatch
from tradegraph.trading.closeouts import CloseOuts
from tradegraph.trading.engine import MatchingEngine
from tradegraph.trading.execution import Execution
from tradegraph.trading.order_book import OrderBook
from tradegraph.trading.order_classes import OrderClasses, recover_legs
from tradegraph.trading.orders import OrdersService
from tradegraph.trading.portfolios import Portfolios
from tradegraph.trading.replace import Replacements
from tradegraph.trading.settlement import recover
from tradegraph.trading.watchlists import Watchlists
from tradegraph.widgets.keys import WidgetKeys

log = structlog.get_logger("tradegraph")
STOP_SECONDS = 5.0  # how long shutdown waits for the background tasks it cancelled


@dataclass
class Services:
    settings: Settings
    store: Store
    broker: Broker
    accounts: Accounts
    events: EventsService
    instruments: Instruments
    market: MarketData
    candles: Candles
    engine: MatchingEngine
    portfolios: Portfolios
    orders: OrdersService
    replacements: Replacements
    order_classes: OrderClasses
    closeouts: CloseOuts
    watchlists: Watchlists
    indicators: IndicatorSeriesService
    backtests: ResearchRuns[BacktestRun, BacktestRequest]
    optimizations: ResearchRuns[OptimizationRun, OptimizationRequest]
    risk: RiskAnalysis
    insights: Insights
    feed_watch: FeedWatch
    widget_keys: WidgetKeys
    background: list[asyncio.Task[None]] = field(default_factory=list)


async def start_services(
    settings: Settings, on_events_stored: Callable[[int], None] | None = None
) -> Services:
    """Opens the store and the broker, wires the domain, finishes interrupted work."""
    settings.check_production()
    store = await open_store(settings)
    broker = Broker(settings.broadcast_url, settings.subscriber_queue_size)
    register_decoders(broker)
    await broker.connect()
    instruments = Instruments()
    market = MarketData(instruments, broker)
    execution = Execution(broker, settings.fee_bps)
    # Open orders in memory only where this process owns the store: with a shared server,
    # another process's orders would be missing from the book.
    book = OrderBook() if settings.uses_emulated_store else None
    engine = MatchingEngine(
        market, instruments, execution, settings.fee_bps, settings.slippage_bps, book
    )
    market.on_quote(engine.on_quote)  # every accepted quote is matched against resting orders
    candles = Candles(instruments)
    portfolios = Portfolios(market, max_cash=settings.max_portfolio_cash)
    processes = RunProcesses()
    queue = RunQueue(
        WorkerPool(settings.backtest_workers),
        settings.runs_per_user,
        settings.queued_runs_per_user,
    )
    orders = OrdersService(
        instruments, market, engine, execution, settings.fee_bps, settings.slippage_bps
    )
    order_classes = OrderClasses(orders, execution)
    execution.on_finished(order_classes.on_finished)  # entries activate legs, OCO peers end
    engine.claim_oco = order_classes.claim
    engine.recoveries.append(partial(recover_legs, order_classes))
    engine.recoveries.append(execution.order_events.recover)  # changes a crash left unrecorded
    services = Services(
        settings=settings,
        store=store,
        broker=broker,
        accounts=Accounts(settings),
        events=EventsService(broker, settings.summary_cache_seconds, on_events_stored),
        instruments=instruments,
        market=market,
        candles=candles,
        engine=engine,
        portfolios=portfolios,
        orders=orders,
        replacements=Replacements(orders),
        order_classes=order_classes,
        closeouts=CloseOuts(orders),
        watchlists=Watchlists(instruments, market),
        indicators=IndicatorSeriesService(candles),
        backtests=ResearchRuns(BacktestKind(), instruments, broker, queue, processes),
        optimizations=ResearchRuns(OptimizationKind(), instruments, broker, queue, processes),
        risk=RiskAnalysis(portfolios, settings.risk_benchmark_symbol),
        insights=Insights(settings, broker),
        feed_watch=FeedWatch(settings.feed_poll_seconds),
        widget_keys=WidgetKeys(broker),
    )
    if not settings.uses_memory_broker:  # a message Redis cannot take waits in MongoDB
        outbox = Outbox(MongoOutboxStore(), broker.send, settings.outbox_poll_seconds)
        broker.attach_outbox(outbox)
        services.background.append(asyncio.create_task(outbox.run(), name="outbox-drainer"))
    await services.accounts.fill_in_skeletons()  # accounts from before look-alike checks
    await _ensure_admin(services)
    await recover()
    await recover_legs(order_classes)
    await execution.order_events.recover()
    research: list[ResearchRuns[Any, Any]] = [services.backtests, services.optimizations]
    await sweep_orphans(processes, research)  # runs a stopped process left: FAILED at once
    services.background.append(asyncio.create_task(keep_watch(processes, research)))
    services.background.append(
        asyncio.create_task(engine.run_housekeeping(settings.order_expiry_check_seconds))
    )
    services.background.append(asyncio.create_task(services.feed_watch.run(), name="feed-watch"))
    return services


async def stop_services(services: Services) -> None:
    await services.backtests.stop()
    await services.optimizations.stop()
    await services.optimizations.processes.leave()
    await services.optimizations.queue.pool.close()  # the worker processes
    for task in services.background:
        task.cancel()
    if services.background:  # bounded: a task that swallows its cancellation cannot hold exit
        _, stuck = await asyncio.wait(services.background, timeout=STOP_SECONDS)
        for task in stuck:
            log.error("background task did not stop; leaving it", task=task.get_name())
    await services.broker.disconnect()
    await services.accounts.close()
    await services.store.close()


async def _ensure_admin(services: Services) -> None:
    settings = services.settings
    if not (settings.admin_email and settings.admin_password):
        log.info("no admin configured (TRADEGRAPH_ADMIN_EMAIL and TRADEGRAPH_ADMIN_PASSWORD)")
        return
    try:
        created = await services.accounts.ensure_user(
            settings.admin_email, settings.admin_password.get_secret_value(), Role.ADMIN
        )
    except InvalidInput as error:
        raise RuntimeError(f"TRADEGRAPH_ADMIN_*: {error.message}") from error
    log.info("admin account " + ("created" if created else "present"), email=settings.admin_email)
