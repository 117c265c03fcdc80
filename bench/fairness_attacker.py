"""The attacker of `python -m bench fairness`, in its own process, on idle CPU only.

An attacker is another machine: its client's CPU is not the server's. On the one 2-core
benchmark machine the attack's own client (building 15 MB messages, parsing thousands of
answers) would otherwise take CPU from the server and the victim alike, and the victim's p99
would measure the benchmark, not the server. The client runs as SCHED_IDLE: it gets whatever
CPU the server and the victim leave, and a waking server or victim takes the core from it at
once. (At nice 10 it still took ~85% of a core in the cap races, and each wake-up of the victim
or the server could wait out its slice.) Everything the server does for the attack still
competes with the victim at equal priority, and each attack reports what it got done, so a
weaker attack shows in its note.
It runs one attack until stdin closes, then writes the attack's note as JSON on stdout.

python -m bench.fairness_attacker '<json: attack name, server url and pid, the world's ids>'
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import fields
from types import SimpleNamespace
from typing import Any, cast

import httpx

from bench.fairness_attacks import ATTACKS
from bench.fairness_world import World
from tests.support.servers import Process


def describe(name: str, world: World) -> str:
    """The command-line argument that hands `world` to an attacker process."""
    kept = [f.name for f in fields(world) if f.name not in ("server", "notes")]
    ids = {name: getattr(world, name) for name in kept}
    server = {"url": world.server.url, "pid": world.server.process.pid}
    return json.dumps({"attack": name, "server": server, "world": ids})


def _world(config: dict[str, Any]) -> World:
    server = SimpleNamespace(
        url=config["server"]["url"], process=SimpleNamespace(pid=config["server"]["pid"])
    )
    return World(server=cast(Process, server), **config["world"])


async def main(config: dict[str, Any]) -> None:
    os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))  # idle CPU only
    world = _world(config)
    attack = ATTACKS[config["attack"]]
    stop = asyncio.Event()
    reader = asyncio.StreamReader()
    loop = asyncio.get_running_loop()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    async with httpx.AsyncClient(base_url=world.server.url, timeout=120, limits=limits) as http:
        attacking = asyncio.create_task(attack(world, http, stop))
        sys.stdout.write("started\n")
        sys.stdout.flush()
        await reader.read()  # until the benchmark closes stdin
        stop.set()
        note = await attacking
    sys.stdout.write(json.dumps(note) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
