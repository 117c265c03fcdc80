"""Research runs (backtests, optimisations): one background-run service, parameterised by the
kind of run. The service stores a run QUEUED for its owner, computes it in the background once
the owner has a free slot (analytics/run_queue.py), publishes its state at each change, lets
the owner (or an ADMIN) cancel it, and closes runs a stopped process left behind."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, Generic, Protocol, TypeVar

import structlog

from tradegraph.analytics.run_processes import HEARTBEAT_SECONDS, RunProcesses
from tradegraph.analytics.run_queue import RunQueue, Ticket
from tradegraph.auth.principal import Principal
from tradegraph.documents import BacktestRun, BacktestStatus, OptimizationRun, Role
from tradegraph.documents.analytics import ACTIVE_STATUSES
from tradegraph.documents.lookup import by_id
from tradegraph.errors import AlreadyExists, DomainError, NotFound
from tradegraph.markets.instruments import Instruments
from tradegraph.pagination import Page, Sort, count, fetch_page
from tradegraph.pubsub.broker import Broker

log = structlog.get_logger(__name__)

MAX_PAGE_SIZE = 100
NEWEST_FIRST = Sort("CREATED_AT_DESC", "created_at", -1)
PROGRESS_STEP = 0.05  # publish progress at most every 5%
CHECK_SECONDS = 0.5  # how often a running run looks whether it was cancelled elsewhere
INTERRUPTED = "interrupted by a server restart; run it again"

Run = TypeVar("Run", BacktestRun, OptimizationRun)
Request = TypeVar("Request")
Request_contra = TypeVar("Request_contra", contravariant=True)


class RunStopped(Exception):
    """The run is no longer QUEUED or RUNNING in the store (cancelled, or closed elsewhere)."""


class RunKind(Protocol[Run, Request_contra]):
    """What differs between kinds of run: their document, names, channel and the work."""

    @property
    def document(self) -> type[Run]: ...

    @property
    def noun(self) -> str:
        """Names the kind in messages and error details: backtest, optimization."""
        ...

    @property
    def channel(self) -> Callable[[str], str]:
        """The broker channel of a run's state, by its id."""
        ...

    def fields(self, request: Request_contra) -> dict[str, Any]:
        """The run's stored fields from a request: its market (symbol, interval, from_, to,
        initial_cash, fee_bps) and the kind's own; InvalidInput for a bad request."""
        ...

    async def execute(self, run: Run, request: Request_contra, work: RunWork) -> dict[str, Any]:
        """Computes the run; returns the fields to store with COMPLETED."""
        ...


class RunWork:
    """What a run's computation may use: progress, the fair worker pool, cancellation."""

    def __init__(self, service: ResearchRuns[Any, Any], run: BacktestRun | OptimizationRun) -> None:
        self.service = service
        self.run = run
        self.reported = 0.0
        self._checked = time.monotonic()

    async def progress(self, value: float, **changes: Any) -> None:
        """Stores and publishes progress (at most every 5%) with any other changes."""
        value = round(min(value, 0.99), 2)
        if changes or value - self.reported >= PROGRESS_STEP:
            self.reported = max(self.reported, value)
            await self.service._update(self.run, progress=self.reported, **changes)

    async def in_pool(
        self,
        work: Callable[[Any], Any],
        jobs: list[Any],
        done: Callable[[Any], Awaitable[None]],
    ) -> list[Any]:
        """`work(job)` for every job in the worker pool, taking turns with other users' work;
        `done(job)` after each; results in order of the jobs."""
        queue = self.service.queue

        async def one(job: Any) -> Any:
            result = await queue.run_chunk(self.run.owner_id, work, job)
            await self._still_wanted()
            await done(job)
            return result

        try:  # the first failure (e.g. RunStopped) cancels the other chunks of the run
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(one(job)) for job in jobs]
        except BaseExceptionGroup as failed:
            raise failed.exceptions[0] from None
        return [task.result() for task in tasks]

    async def _still_wanted(self) -> None:
        """Raises RunStopped when the run was cancelled by another process (checked at most
        every CHECK_SECONDS; a cancel in this process stops the task at once)."""
        if time.monotonic() - self._checked < CHECK_SECONDS:
            return
        self._checked = time.monotonic()
        found = await self.service.kind.document.get_pymongo_collection().find_one(
            {"_id": self.run.id, "status": {"$in": ACTIVE_STATUSES}}, {"_id": 1}
        )
        if found is None:
            raise RunStopped


class ResearchRuns(Generic[Run, Request]):
    def __init__(
        self,
        kind: RunKind[Run, Request],
        instruments: Instruments,
        broker: Broker,
        queue: RunQueue,
        processes: RunProcesses,
    ) -> None:
        self.kind: RunKind[Run, Request] = kind
        self.instruments = instruments
        self.broker = broker
        self.queue = queue
        self.processes = processes
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._cancelled: set[str] = set()

    async def start(self, principal: Principal, request: Request) -> Run:
        """Stores the run QUEUED and computes it in the background; returns at once."""
        # BAD_USER_INPUT before anything is stored; a grid of 10,000 is built off the loop
        fields = await asyncio.to_thread(self.kind.fields, request)
        instrument = await self.instruments.require(fields["symbol"])
        ticket = self.queue.admit(principal.user_id)  # RATE_LIMITED, likewise
        try:
            now = datetime.now(UTC)
            run = self.kind.document(
                **{**fields, "symbol": instrument.symbol},
                owner_id=principal.user_id,
                status=BacktestStatus.QUEUED,
                created_at=now,
                updated_at=now,
                process_id=self.processes.id,
            )
            await run.insert()
        except BaseException:
            ticket.release()
            raise
        run_id = str(run.id)
        task = asyncio.create_task(self._run(run, request, ticket), name=f"run-{run_id}")
        self._tasks[run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(run_id, None))
        return run

    async def get(self, principal: Principal, run_id: str) -> Run:
        """The run if `principal` owns it or is an ADMIN; NOT_FOUND otherwise."""
        run: Run | None = await by_id(self.kind.document, run_id)
        if run is None or not (run.owner_id == principal.user_id or principal.role is Role.ADMIN):
            raise NotFound(
                f"{self.kind.noun} {run_id} not found", **{f"{self.kind.noun}_id": run_id}
            )
        return run

    async def page(self, principal: Principal, first: int, after: str | None) -> Page[Run]:
        """Your runs, newest first."""
        match = {"owner_id": principal.user_id}
        return await fetch_page(
            self.kind.document, match, NEWEST_FIRST, first, after, MAX_PAGE_SIZE
        )

    async def count(self, principal: Principal) -> int:
        return await count(self.kind.document, {"owner_id": principal.user_id})

    async def cancel(self, principal: Principal, run_id: str) -> Run:
        """CANCELED, its chunks dropped and its feed closed; CONFLICT once it has finished."""
        run = await self.get(principal, run_id)
        now = datetime.now(UTC)
        changed = await self.kind.document.get_pymongo_collection().update_one(
            {"_id": run.id, "status": {"$in": ACTIVE_STATUSES}},
            {
                "$set": {
                    "status": BacktestStatus.CANCELED.value,
                    "finished_at": now,
                    "updated_at": now,
                }
            },
        )
        if not changed.modified_count:
            current = await self.get(principal, run_id)
            raise AlreadyExists(
                f"{self.kind.noun} {run_id} is already {current.status.value}: only a QUEUED or "
                "RUNNING run can be cancelled",
                status=current.status.value,
            )
        task = self._tasks.get(run_id)
        if task is not None:
            self._cancelled.add(run_id)
            task.cancel()
        cancelled = await self.get(principal, run_id)
        await self._publish(cancelled)
        return cancelled

    async def _run(self, run: Run, request: Request, ticket: Ticket) -> None:
        run_id = str(run.id)
        try:
            async with ticket:
                await self._update(run, status=BacktestStatus.RUNNING, progress=0.0)
                changes = await self.kind.execute(run, request, RunWork(self, run))
                await self._update(
                    run,
                    status=BacktestStatus.COMPLETED,
                    progress=1.0,
                    finished_at=datetime.now(UTC),
                    **changes,
                )
            log.info(f"{self.kind.noun} completed", id=run_id)
        except RunStopped:
            log.info(f"{self.kind.noun} stopped", id=run_id)
        except asyncio.CancelledError:
            if run_id in self._cancelled:  # cancelled by its owner: stored and published
                self._cancelled.discard(run_id)
                return
            await self._close(run, BacktestStatus.FAILED, INTERRUPTED)  # the server stops
            raise
        except Exception as error:
            message = error.message if isinstance(error, DomainError) else "internal error"
            if not isinstance(error, DomainError):
                log.exception(f"{self.kind.noun} failed", id=run_id)
            await self._close(run, BacktestStatus.FAILED, message)
        finally:
            ticket.release()

    async def _close(self, run: Run, status: BacktestStatus, error: str) -> None:
        with contextlib.suppress(RunStopped):  # already closed (e.g. cancelled)
            await self._update(run, status=status, error=error, finished_at=datetime.now(UTC))

    async def _update(self, run: Run, **changes: Any) -> None:
        """Stores the changes while the run is still QUEUED or RUNNING (RunStopped otherwise)
        and publishes its state."""
        changes["updated_at"] = datetime.now(UTC)
        changed = await self.kind.document.get_pymongo_collection().update_one(
            {"_id": run.id, "status": {"$in": ACTIVE_STATUSES}}, {"$set": _encoded(run, changes)}
        )
        if not changed.matched_count:
            raise RunStopped
        for name, value in changes.items():
            setattr(run, name, value)
        await self._publish(run)

    async def _publish(self, run: Run) -> None:
        """The final state must arrive (through the outbox if need be); progress is
        superseded by the next message anyway, so it is a last-value publish."""
        state = json.dumps(
            {"id": str(run.id), "status": run.status.value, "progress": run.progress}
        )
        channel = self.kind.channel(str(run.id))
        if run.status.finished:
            await self.broker.publish(channel, state)
        else:
            await self.broker.publish_latest(channel, state)

    async def fail_orphans(self, alive: set[str]) -> int:
        """Runs left QUEUED or RUNNING by processes no longer alive: FAILED at once, with the
        reason, and their feeds told."""
        collection = self.kind.document.get_pymongo_collection()
        orphaned = {"status": {"$in": ACTIVE_STATUSES}, "process_id": {"$nin": list(alive)}}
        ids = [found["_id"] async for found in collection.find(orphaned, {"_id": 1})]
        now = datetime.now(UTC)
        closed = {"status": BacktestStatus.FAILED.value, "error": INTERRUPTED}
        for run_id in ids:
            update = {"$set": {**closed, "finished_at": now, "updated_at": now}}
            await collection.update_one({"_id": run_id, **orphaned}, update)
            run = await by_id(self.kind.document, str(run_id))
            if run is not None:
                await self._publish(run)
        return len(ids)

    async def stop(self) -> None:
        """The server stops: runs in flight are FAILED (interrupted) and their feeds told."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _encoded(run: BacktestRun | OptimizationRun, changes: dict[str, Any]) -> dict[str, Any]:
    """The changes as the document would store them (nested models, tuples, enums)."""
    fields = set(changes)
    dumped = run.model_copy(update=changes).model_dump(include=fields, mode="python")
    return {
        name: value.value if isinstance(value, BacktestStatus) else value
        for name, value in dumped.items()
    }


async def sweep_orphans(processes: RunProcesses, services: list[ResearchRuns[Any, Any]]) -> int:
    """Marks this process alive, then fails the runs of processes that are not."""
    await processes.beat()
    alive = await processes.live()
    failed = sum([await service.fail_orphans(alive) for service in services])
    await processes.forget_dead(alive)
    return failed


async def keep_watch(processes: RunProcesses, services: list[ResearchRuns[Any, Any]]) -> None:
    """Every HEARTBEAT_SECONDS: this process's heartbeat, and the runs of dead ones closed."""
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            await sweep_orphans(processes, services)
        except Exception:  # the store may be briefly away: the next beat tries again
            log.exception("research run heartbeat failed")


async def queue_position(run: BacktestRun | OptimizationRun) -> int | None:
    """While `run` is QUEUED: 1 + its owner's QUEUED runs (of every kind) started before it."""
    if run.status is not BacktestStatus.QUEUED:
        return None
    ahead = {
        "owner_id": run.owner_id,
        "status": BacktestStatus.QUEUED.value,
        "$or": [
            {"created_at": {"$lt": run.created_at}},
            {"created_at": run.created_at, "_id": {"$lt": run.id}},
        ],
    }
    counts = [
        await model.get_pymongo_collection().count_documents(ahead)
        for model in (BacktestRun, OptimizationRun)
    ]
    return 1 + sum(counts)
