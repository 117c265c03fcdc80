"""The process pool backtests fan out to, so that grids use every core and the server's event
loop never runs them. Created on first use (a server that never optimises starts no
processes); `close()` waits for the workers to exit."""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


class WorkerPool:
    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn, not fork: the server process has threads (uvicorn, to_thread workers)
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(self.workers, mp_context=context)
        return self._executor

    async def run(self, work: Callable[[Job], Result], job: Job) -> Result:
        """`work(job)` in a worker process; the event loop only awaits it."""
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), work, job)
        except BrokenProcessPool:
            self._executor = None  # a worker died: the next run starts a fresh pool
            raise

    def process_ids(self) -> list[int]:
        """The live workers' process ids (for tests and diagnostics)."""
        processes = getattr(self._executor, "_processes", None) or {}
        return list(processes)

    async def close(self) -> None:
        """Drops queued jobs and waits, off the event loop, for the running ones and the
        workers to end. Workers are not killed: one killed mid-job leaves the job queue's
        feeder thread blocked on a full pipe, and the interpreter hangs at exit; jobs are kept
        short instead (optimization.chunks)."""
        executor, self._executor = self._executor, None
        if executor is not None:
            await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)
