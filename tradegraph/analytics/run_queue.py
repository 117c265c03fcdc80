"""Fair sharing of research work between users, in one server process.

Two levels. A run needs one of its owner's `runs_per_user` slots to start; further runs wait,
first come first served, up to `queued_per_user` of them (more is RATE_LIMITED). A running
optimisation's grid goes to the worker pool chunk by chunk, and the pool takes chunks from the
users who have some in turn (round robin), never more than it has workers: a user's huge grid
holds another user's small run back by one chunk per worker at most."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from types import TracebackType
from typing import Any, TypeVar

from tradegraph.analytics.worker_pool import WorkerPool
from tradegraph.errors import TooManyRequests

Job = TypeVar("Job")
Result = TypeVar("Result")


class Ticket:
    """A run's place: `async with ticket` waits for a slot and gives it back at the end."""

    def __init__(self, queue: RunQueue, owner: str, ready: asyncio.Future[None]) -> None:
        self.queue = queue
        self.owner = owner
        self.ready = ready
        self._released = False

    async def __aenter__(self) -> Ticket:
        await asyncio.shield(self.ready)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def release(self) -> None:
        """Gives the slot back (or the place in line); idempotent."""
        if not self._released:
            self._released = True
            self.queue._release(self)


@dataclass
class _Chunk:
    work: Callable[[Any], Any]
    job: Any
    result: asyncio.Future[Any]


class RunQueue:
    def __init__(self, pool: WorkerPool, runs_per_user: int, queued_per_user: int) -> None:
        self.pool = pool
        self.runs_per_user = runs_per_user
        self.queued_per_user = queued_per_user
        self._running: dict[str, int] = {}
        self._waiting: dict[str, deque[Ticket]] = {}
        self._chunks: dict[str, deque[_Chunk]] = {}  # per user, in order
        self._turns: deque[str] = deque()  # users with chunks, whose turn comes next first
        self._in_flight = 0

    def admit(self, owner: str) -> Ticket:
        """A ticket for a new run of `owner`, started at once or queued; RATE_LIMITED when the
        owner already has `queued_per_user` runs waiting. Synchronous: no other admission can
        come between the check and the reservation."""
        ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        ticket = Ticket(self, owner, ready)
        waiting = self._waiting.setdefault(owner, deque())
        if self._running.get(owner, 0) < self.runs_per_user and not waiting:
            self._running[owner] = self._running.get(owner, 0) + 1
            ready.set_result(None)
            return ticket
        if len(waiting) >= self.queued_per_user:
            raise TooManyRequests(
                f"{len(waiting)} of your runs are already queued (at most "
                f"{self.queued_per_user}, TRADEGRAPH_QUEUED_RUNS_PER_USER) behind "
                f"{self.runs_per_user} running; wait for one to finish or cancel one",
                limit=self.queued_per_user,
            )
        waiting.append(ticket)
        return ticket

    def waiting(self, owner: str) -> int:
        """Runs of `owner` waiting for a slot."""
        return len(self._waiting.get(owner, ()))

    def _release(self, ticket: Ticket) -> None:
        waiting = self._waiting.get(ticket.owner, deque())
        if not ticket.ready.done():  # still in line: leave it
            waiting.remove(ticket)
            ticket.ready.cancel()
            return
        if waiting:  # the slot passes to the next in line
            waiting.popleft().ready.set_result(None)
            return
        self._running[ticket.owner] -= 1
        if not self._running[ticket.owner]:
            del self._running[ticket.owner]
            self._waiting.pop(ticket.owner, None)

    async def run_chunk(self, owner: str, work: Callable[[Job], Result], job: Job) -> Result:
        """`work(job)` in the worker pool when `owner`'s turn comes. Cancelling the caller
        drops the chunk if it has not started (a started one finishes, unheard)."""
        chunk = _Chunk(work, job, asyncio.get_running_loop().create_future())
        if owner not in self._chunks:
            self._chunks[owner] = deque()
            self._turns.append(owner)
        self._chunks[owner].append(chunk)
        self._dispatch()
        result: Result = await chunk.result
        return result

    def _dispatch(self) -> None:
        while self._in_flight < self.pool.workers and self._turns:
            owner = self._turns.popleft()
            chunks = self._chunks[owner]
            chunk = chunks.popleft()
            if chunks:
                self._turns.append(owner)  # back of the line: the others go first
            else:
                del self._chunks[owner]
            if chunk.result.cancelled():
                continue
            self._in_flight += 1
            running = asyncio.ensure_future(self.pool.run(chunk.work, chunk.job))
            running.add_done_callback(partial(self._finished, chunk))

    def _finished(self, chunk: _Chunk, done: asyncio.Future[Any]) -> None:
        self._in_flight -= 1
        error = None if done.cancelled() else done.exception()  # retrieved even if unheard
        if not chunk.result.done():
            if done.cancelled():
                chunk.result.cancel()
            elif error is not None:
                chunk.result.set_exception(error)
            else:
                chunk.result.set_result(done.result())
        self._dispatch()
