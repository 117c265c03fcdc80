"""The process pool backtests fan out to, so that grids use every core and the server's event
loop never runs them. Created on first use (a server that never optimises starts no
processes); `close()` waits for the workers to exit."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from multiprocessing.process import BaseProcess
from typing import TypeVar

Job = TypeVar("Job")
Result = TypeVar("Result")


def default_workers() -> int:
    return os.cpu_count() or 1


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
        """Drops queued jobs, stops the workers (a stopping server abandons its grids rather
        than waiting for the running chunks) and waits, off the event loop, until they exit."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        processes = list((getattr(executor, "_processes", None) or {}).values())
        executor.shutdown(wait=False, cancel_futures=True)
        for process in processes:
            process.terminate()
        await asyncio.to_thread(_join, processes)


def _join(processes: list[BaseProcess]) -> None:
    for process in processes:
        process.join()
