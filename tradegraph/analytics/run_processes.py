"""Which server processes are alive, so that each knows the runs it owns and the runs a dead
one left behind.

Every process records itself (`ResearchProcess`: a random id, its host and pid) and refreshes
`seen_at` every HEARTBEAT_SECONDS. A process is dead when its record has not moved for
STALE_AFTER, or at once when it ran on this host and its pid is gone, or is our own pid but
not a server of this interpreter (a restart, e.g. pid 1 in a container). Runs of live
processes are left alone."""

from __future__ import annotations

import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from tradegraph.documents import ResearchProcess

HEARTBEAT_SECONDS = 5.0
STALE_AFTER = timedelta(seconds=3 * HEARTBEAT_SECONDS)
_IN_THIS_PROCESS: set[str] = set()  # servers started in this interpreter (tests start several)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


class RunProcesses:
    def __init__(self) -> None:
        self.id = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self.started_at = datetime.now(UTC)
        _IN_THIS_PROCESS.add(self.id)

    async def beat(self) -> None:
        """Records this process as alive now (re-creating its record if it was removed)."""
        now = datetime.now(UTC)
        await ResearchProcess.get_pymongo_collection().update_one(
            {"_id": self.id},
            {
                "$set": {"seen_at": now},
                "$setOnInsert": {
                    "host": self.host,
                    "pid": self.pid,
                    "started_at": self.started_at,
                },
            },
            upsert=True,
        )

    async def live(self) -> set[str]:
        """The ids of the processes that are alive, this one included."""
        now = datetime.now(UTC)
        alive = {self.id}
        async for record in ResearchProcess.get_pymongo_collection().find({}):
            if record["_id"] != self.id and not self._dead(record, now):
                alive.add(record["_id"])
        return alive

    def _dead(self, record: dict[str, object], now: datetime) -> bool:
        seen = record["seen_at"]
        assert isinstance(seen, datetime)
        if (seen if seen.tzinfo else seen.replace(tzinfo=UTC)) < now - STALE_AFTER:
            return True
        pid = record.get("pid")
        if record.get("host") != self.host or not isinstance(pid, int):
            return False
        if pid == self.pid:  # our pid: a server of this interpreter, or one before it
            return record["_id"] not in _IN_THIS_PROCESS
        return not _pid_alive(pid)

    async def forget_dead(self, alive: set[str]) -> None:
        await ResearchProcess.get_pymongo_collection().delete_many({"_id": {"$nin": list(alive)}})

    async def leave(self) -> None:
        """This process stops: its record goes (its runs are closed by then)."""
        _IN_THIS_PROCESS.discard(self.id)
        await ResearchProcess.get_pymongo_collection().delete_one({"_id": self.id})
