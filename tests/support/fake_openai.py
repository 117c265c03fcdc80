"""A local OpenAI-compatible HTTP server (Chat Completions) for the insight tests: real HTTP
on 127.0.0.1, answering like the API, failing with a 500 or too slowly when told to."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tradegraph.server import listening_socket

ANSWER = "Purchases held steady at an average ticket of 40.00, led by u1."


class FakeOpenAI:
    def __init__(self) -> None:
        self.mode = "ok"  # ok | error | slow
        self.requests: list[dict[str, Any]] = []
        self.held: asyncio.Event | None = None  # when set, requests wait for the event
        self.in_flight = 0  # requests received and not yet answered
        self.most_in_flight = 0
        self._arrived = asyncio.Condition()
        self.url = ""
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
        if self.held is not None:
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            async with self._arrived:
                self._arrived.notify_all()
            try:
                await self.held.wait()
            finally:
                self.in_flight -= 1
        if self.mode == "error":
            return JSONResponse(
                {"error": {"message": "boom", "type": "server_error"}}, status_code=500
            )
        if self.mode == "slow":
            await asyncio.sleep(10)
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {"role": "assistant", "content": ANSWER},
                    }
                ],
                "usage": {"prompt_tokens": 1200, "completion_tokens": 300, "total_tokens": 1500},
            }
        )

    def hold(self) -> asyncio.Event:
        """From now on requests wait until the returned event is set."""
        self.held = asyncio.Event()
        self.in_flight = self.most_in_flight = 0
        return self.held

    async def until_held(self, count: int) -> None:
        """Waits until `count` requests are held."""
        async with self._arrived:
            await self._arrived.wait_for(lambda: self.in_flight >= count)

    def prompts(self) -> list[str]:
        return [json.dumps(r["body"]["messages"]) for r in self.requests]

    async def start(self) -> None:
        app = Starlette(routes=[Route("/v1/chat/completions", self.completions, methods=["POST"])])
        sock = listening_socket("127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
        self._server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="off"))
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:  # noqa: ASYNC110 - uvicorn offers no startup event
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        assert self._server is not None
        assert self._task is not None
        self._server.should_exit = True
        await self._task
