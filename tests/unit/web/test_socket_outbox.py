"""A socket's outbox: immediate writes when the socket takes them, conflation and arrival order
while a write waits, and a failed or closed socket that takes nothing more."""

from __future__ import annotations

import asyncio

import pytest

from tradegraph.web.socket_outbox import SocketOutbox


class Socket:
    """A send function whose writes wait while `writable` is clear, like a full buffer."""

    def __init__(self) -> None:
        self.written: list[str] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.waiting = asyncio.Event()  # set while a write waits
        self.failure: Exception | None = None
        self.failed = asyncio.Event()
        self.wrote = asyncio.Event()
        self.finished_cleanly = True

    async def send(self, frame: str) -> None:
        if self.failure is not None:
            self.failed.set()
            raise self.failure
        if not self.writable.is_set():
            self.waiting.set()
            try:
                await self.writable.wait()
            except BaseException:  # cancelled, or discarded (GeneratorExit)
                self.finished_cleanly = False
                raise
            finally:
                self.waiting.clear()
        self.written.append(frame)
        self.wrote.set()

    async def written_count(self, count: int) -> None:
        async with asyncio.timeout(5):
            while len(self.written) < count:
                self.wrote.clear()
                await self.wrote.wait()


async def test_a_writable_socket_gets_the_frame_before_put_returns() -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    tasks_before = len(asyncio.all_tasks())

    outbox.put("1", "PETR4", "a")
    outbox.put("1", "PETR4", "b")

    assert socket.written == ["a", "b"]  # no await in between: written synchronously
    assert len(asyncio.all_tasks()) == tasks_before  # and no writer task was started


async def test_while_a_write_waits_newer_frames_replace_older_ones_per_key() -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    socket.writable.clear()
    outbox.put("1", "PETR4", "petr-1")  # this one waits for the socket
    await socket.waiting.wait()
    outbox.put("1", "VALE3", "vale-1")
    outbox.put("1", "PETR4", "petr-2")
    outbox.put("1", "VALE3", "vale-2")  # replaces vale-1, and moves behind petr-2
    outbox.put("2", "PETR4", "other-operation")
    outbox.put_final("1", "complete-1")

    socket.writable.set()
    await socket.written_count(5)

    assert socket.written == ["petr-1", "petr-2", "vale-2", "other-operation", "complete-1"]
    outbox.put("1", "PETR4", "after")  # drained: immediate again
    assert socket.written[-1] == "after"


async def test_dropping_an_operation_forgets_only_its_waiting_frames() -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    socket.writable.clear()
    outbox.put("1", "PETR4", "first")
    await socket.waiting.wait()
    outbox.put("1", "VALE3", "dropped")
    outbox.put("2", "VALE3", "kept")

    outbox.drop("1")
    socket.writable.set()
    await socket.written_count(2)

    assert socket.written == ["first", "kept"]


async def test_a_failed_send_closes_the_outbox() -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    socket.failure = ConnectionResetError("gone")

    outbox.put("1", "PETR4", "lost")
    socket.failure = None
    outbox.put("1", "PETR4", "ignored")

    assert outbox.closed
    assert socket.written == []


async def test_a_send_failing_after_it_waited_closes_the_outbox() -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    socket.writable.clear()
    outbox.put("1", "PETR4", "waits")
    await socket.waiting.wait()
    outbox.put("1", "VALE3", "queued")
    socket.failure = ConnectionResetError("gone")

    socket.writable.set()  # the waiting send completes; the queued one fails
    await socket.failed.wait()  # the outbox's writer handles the error in the same step

    assert socket.written == ["waits"]
    outbox.put("1", "PETR4", "ignored")
    assert socket.written == ["waits"]


@pytest.mark.parametrize("writer_started", [True, False])
async def test_closing_cancels_a_waiting_send_and_runs_its_cleanup(writer_started: bool) -> None:
    socket = Socket()
    outbox = SocketOutbox(socket.send)
    socket.writable.clear()
    outbox.put("1", "PETR4", "never")
    await socket.waiting.wait()
    if writer_started:
        await asyncio.sleep(0)  # one loop step: the writer task now waits on the socket

    await outbox.close()

    assert socket.finished_cleanly is False  # the send saw the cancellation
    assert not socket.waiting.is_set()  # and its finally ran
    socket.writable.set()
    outbox.put("1", "PETR4", "ignored")
    assert socket.written == []
