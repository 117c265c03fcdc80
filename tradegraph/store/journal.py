"""The write-ahead journal of the emulated store: its files, how records are appended and
synced, and how they are read back.

Files live beside the snapshot: `<data dir>/<database>.journal.<generation>` (six digits).
Each starts with MAGIC, then records: a header (payload length, CRC-32 of the payload, CRC-32
of the length) and the payload (BSON, emulation_journal.py). A snapshot starts a new
generation and, once written, removes the older ones; startup replays every generation from
the one the snapshot names.

Appends happen in the store thread, inside the call that made the change, so a write is in
the file (the OS page cache: it survives `kill -9`) before its caller hears back. fsync runs
on its own: at least every `sync_ms` (group commit: one fsync covers every append before it),
or, with `sync_ms` 0, before every acknowledgement (`durable`), shared by concurrent callers.
"""

from __future__ import annotations

import asyncio
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MAGIC = b"tradegraph-journal-1\n"
HEADER = struct.Struct("<III")  # payload length, crc32(payload), crc32(length bytes)
_LENGTH = struct.Struct("<I")


class JournalCorrupt(RuntimeError):
    """A journal record other than the last cannot be read; startup must stop."""


def promise(sync_ms: int, data_dir: Path) -> str:
    """The durability promise, as the startup line states it."""
    if sync_ms == 0:
        return (
            f"durability: every write is journaled in {data_dir} and fsynced before it is "
            "acknowledged: after kill -9, a crash or a power failure, every acknowledged write "
            "is there after restart (TRADEGRAPH_JOURNAL_SYNC_MS=0)"
        )
    return (
        f"durability: every write is journaled in {data_dir} before it is acknowledged and "
        f"fsynced within {sync_ms} ms: after kill -9 or a crash of this process, every "
        "acknowledged write is there after restart; after a power failure or an OS crash, "
        f"every write acknowledged more than {sync_ms} ms before it "
        "(TRADEGRAPH_JOURNAL_SYNC_MS)"
    )


def journal_path(data_dir: Path, database_name: str, generation: int) -> Path:
    return data_dir / f"{database_name}.journal.{generation:06d}"


def journal_files(data_dir: Path, database_name: str) -> list[tuple[int, Path]]:
    """(generation, path) of the database's journal files, oldest first."""
    pattern = re.compile(re.escape(database_name) + r"\.journal\.(\d{6,})$")
    if not data_dir.is_dir():
        return []
    found = []
    for path in data_dir.iterdir():
        match = pattern.match(path.name)
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def encode_record(payload: bytes) -> bytes:
    length = _LENGTH.pack(len(payload))
    return HEADER.pack(len(payload), zlib.crc32(payload), zlib.crc32(length)) + payload


@dataclass(frozen=True)
class TornTail:
    """An incomplete last record: the append a crash interrupted (never acknowledged)."""

    path: Path
    offset: int
    size: int


def read_records(path: Path, last_file: bool) -> tuple[Iterator[tuple[int, bytes]], list[TornTail]]:
    """The (offset, payload) of every whole record in `path`, and, once they are consumed,
    the torn tail found (only in the last file; JournalCorrupt anywhere else)."""
    data = path.read_bytes()
    torn: list[TornTail] = []

    def records() -> Iterator[tuple[int, bytes]]:
        if len(data) < len(MAGIC):
            if MAGIC.startswith(data) and last_file:  # created, killed before the magic
                if data:
                    torn.append(TornTail(path, 0, len(data)))
                return
            raise JournalCorrupt(f"{path} is not a tradegraph journal (no header)")
        if not data.startswith(MAGIC):
            raise JournalCorrupt(f"{path} is not a tradegraph journal (bad header)")
        offset = len(MAGIC)
        while offset < len(data):
            problem = _problem_at(data, offset)
            if problem is None:
                length = HEADER.unpack_from(data, offset)[0]
                start = offset + HEADER.size
                yield offset, data[start : start + length]
                offset = start + length
                continue
            torn_tail = problem == "incomplete" or not data[offset:].strip(b"\0")
            if last_file and (torn_tail or _is_last(data, offset)):
                torn.append(TornTail(path, offset, len(data) - offset))
                return
            raise JournalCorrupt(f"{path} has a corrupt record at offset {offset} ({problem})")

    return records(), torn


def _problem_at(data: bytes, offset: int) -> str | None:
    """Why the record at `offset` cannot be read, or None."""
    if len(data) - offset < HEADER.size:
        return "incomplete"
    length, crc, length_crc = HEADER.unpack_from(data, offset)
    if zlib.crc32(_LENGTH.pack(length)) != length_crc:
        return "bad length checksum"
    start = offset + HEADER.size
    if start + length > len(data):
        return "incomplete"
    if zlib.crc32(data[start : start + length]) != crc:
        return "bad checksum"
    return None


def _is_last(data: bytes, offset: int) -> bool:
    """Whether the damaged record at `offset` ends the file (its length is readable)."""
    length: int = HEADER.unpack_from(data, offset)[0]
    return offset + HEADER.size + length == len(data)


def drop_torn_tail(tail: TornTail) -> None:
    """Cuts the torn record off its file, so later appends and startups never meet it."""
    with open(tail.path, "r+b") as file:
        file.truncate(tail.offset)
        file.flush()
        os.fsync(file.fileno())


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournalWriter:
    """Appends records to the current generation (store thread) and syncs them (any thread)."""

    def __init__(self, data_dir: Path, database_name: str, generation: int, sync_ms: int) -> None:
        self.data_dir = data_dir
        self.database_name = database_name
        self.sync_ms = sync_ms
        self.written = 0  # bytes appended since startup, over all generations
        self.synced = 0  # of those, the bytes known to be fsynced
        self._lock = threading.Lock()  # the file descriptor changes on rotation
        self._sync_task: asyncio.Future[None] | None = None
        self.generation = generation
        self._fd = self._open(generation)

    def _open(self, generation: int) -> int:
        path = journal_path(self.data_dir, self.database_name, generation)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if os.fstat(fd).st_size == 0:
            os.write(fd, MAGIC)
            os.fsync(fd)
            _sync_directory(self.data_dir)  # the new name survives a power loss too
        return fd

    @property
    def path(self) -> Path:
        return journal_path(self.data_dir, self.database_name, self.generation)

    def append(self, payloads: list[bytes]) -> int:
        """Appends the records in one write (store thread); returns the position to await."""
        data = b"".join(encode_record(payload) for payload in payloads)
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.written += len(data)
        return self.written

    def rotate(self) -> int:
        """Starts the next generation (store thread, before a snapshot's capture): returns it."""
        with self._lock:
            os.fsync(self._fd)
            os.close(self._fd)
            self.generation += 1
            self._fd = self._open(self.generation)
            self.synced = self.written
        return self.generation

    def remove_before(self, generation: int) -> None:
        """Deletes the generations a written snapshot holds (any thread)."""
        for number, path in journal_files(self.data_dir, self.database_name):
            if number < generation:
                path.unlink(missing_ok=True)

    def _fsync(self) -> None:
        target = self.written
        with self._lock:
            os.fsync(self._fd)
        self.synced = max(self.synced, target)

    async def durable(self, position: int) -> None:
        """Returns once the bytes up to `position` are fsynced (one fsync for all waiting)."""
        while self.synced < position:
            if self._sync_task is None or self._sync_task.done():
                self._sync_task = asyncio.ensure_future(asyncio.to_thread(self._fsync))
            await asyncio.shield(self._sync_task)

    async def sync_periodically(self) -> None:
        """fsyncs whatever was appended, every sync_ms (a background task)."""
        while True:
            await asyncio.sleep(self.sync_ms / 1000)
            if self.synced < self.written:
                await self.durable(self.written)

    def close(self) -> None:
        with self._lock:
            os.fsync(self._fd)
            os.close(self._fd)
            self.synced = self.written
