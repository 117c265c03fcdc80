"""One socket's outgoing frames: the newest per (operation, key), written in arrival order.

A frame goes out at once when nothing waits before it and the socket takes it without
waiting, which is the usual case: the send coroutine is driven by hand and, if it completes
synchronously, no task is woken and no future created (at 10,000 sockets per tick that is
most of what a fan-out costs beyond the write itself). A send that must wait (the socket's
buffer is full) is finished by the outbox's writer task, and frames that arrive meanwhile
wait in `_pending`, where a newer frame for the same key replaces the older one: a slow
reader holds back only itself and skips stale quotes instead of building a backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Coroutine, Generator
from typing import Any

FINAL = object()  # the slot of an operation's last frame: never replaced by a newer key

SendFrame = Callable[[str], Coroutine[Any, Any, None]]


class SocketOutbox:
    """Frames waiting to be written to one socket."""

    __slots__ = ("_pending", "_send", "_started", "_task", "closed")

    def __init__(self, send: SendFrame) -> None:
        self._send = send
        self._pending: dict[tuple[str, object], str] = {}
        self._task: asyncio.Task[None] | None = None  # only while a send waits or frames queue
        self._started: Coroutine[Any, Any, None] | None = None  # a send started by hand, waiting
        self.closed = False

    def put(self, operation_id: str, key: object, frame: str) -> None:
        if self.closed:
            return
        if self._task is None:  # nothing in flight, so nothing queued either
            self._send_now(frame)
            return
        slot = (operation_id, key)
        self._pending.pop(slot, None)  # re-inserted last: frames leave in arrival order
        self._pending[slot] = frame

    def put_final(self, operation_id: str, frame: str) -> None:
        self.put(operation_id, FINAL, frame)

    def drop(self, operation_id: str) -> None:
        """Forgets what waits for an operation the client has completed."""
        for slot in [slot for slot in self._pending if slot[0] == operation_id]:
            del self._pending[slot]

    def _send_now(self, frame: str) -> None:
        send = self._send(frame)
        try:
            waiting_on = send.send(None)
        except StopIteration:
            return  # written synchronously
        except Exception:  # the socket is gone: its handler's shutdown cleans up
            self._fail()
            return
        self._started = send
        self._task = asyncio.create_task(self._finish_then_drain(send, waiting_on))

    async def _finish_then_drain(self, send: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        try:
            await _Resumed(send, waiting_on)
            self._started = None
            while self._pending:
                slot = next(iter(self._pending))
                await self._send(self._pending.pop(slot))
        except asyncio.CancelledError:
            raise
        except Exception:
            self._fail()
        finally:
            self._task = None

    def _fail(self) -> None:
        self.closed = True
        self._pending.clear()

    async def close(self) -> None:
        self.closed = True
        self._pending.clear()
        task = self._task
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._started is not None:  # cancelled before its task ran: discard it here
            self._started.close()
            self._started = None


class _Resumed:
    """Awaiting it runs to its end a coroutine that was started by hand and yielded
    `waiting_on`: the awaiting task sees what the coroutine yields and sends back what it
    gets, as if the coroutine had been awaited from the start (`yield from` delegation)."""

    __slots__ = ("_coroutine", "_waiting_on")

    def __init__(self, coroutine: Coroutine[Any, Any, None], waiting_on: Any) -> None:
        self._coroutine = coroutine
        self._waiting_on = waiting_on

    def __await__(self) -> Generator[Any, Any, None]:
        coroutine, waiting_on = self._coroutine, self._waiting_on
        while True:
            try:
                sent = yield waiting_on
            except BaseException as error:  # cancellation included: the coroutine sees it
                try:
                    waiting_on = coroutine.throw(error)
                except StopIteration:
                    return
            else:
                try:
                    waiting_on = coroutine.send(sent)
                except StopIteration:
                    return
