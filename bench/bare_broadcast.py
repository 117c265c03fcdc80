"""The fan-out baseline: a bare `websockets` server that relays each message from /publish to
every other connection with `websockets.broadcast`. No GraphQL, no store, no broker."""

from __future__ import annotations

import asyncio

import websockets
from websockets.asyncio.server import ServerConnection, serve

subscribers: set[ServerConnection] = set()


async def handle(socket: ServerConnection) -> None:
    if socket.request is not None and socket.request.path == "/publish":
        async for message in socket:
            websockets.broadcast(subscribers, message)
        return
    subscribers.add(socket)
    try:
        await socket.wait_closed()
    finally:
        subscribers.discard(socket)


async def main() -> None:
    async with serve(handle, "127.0.0.1", 0, ping_interval=None, max_queue=None) as server:
        print(f"listening {server.sockets[0].getsockname()[1]}", flush=True)
        await asyncio.Future()


if __name__ == "__main__":
    asyncio.run(main())
