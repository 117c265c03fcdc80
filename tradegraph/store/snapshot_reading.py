"""Reading a snapshot file (snapshots.py writes them): checked whole before anything is used.

The file is a manifest document, then each collection's documents in manifest order. One pass
over the documents' length prefixes checks the file against its manifest (counts, nothing cut
off) without decoding them; the collections startup needs are then decoded and checked (every
document has an _id, none twice). Collections left for later (`deferred`: market data, see
loading.py) come back as byte ranges in chunks, decoded by `decode_chunk` as they are loaded.
Every problem is a SnapshotUnreadable whose message is one line naming the file.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import bson
from bson.codec_options import CodecOptions
from mongomock import helpers

FORMAT = "tradegraph-snapshot-1"
CHUNK = 5_000  # documents decoded per step when loading a deferred collection
_RAW: CodecOptions[dict[str, Any]] = CodecOptions(tz_aware=False)  # naive UTC, as stored
_SIZE = struct.Struct("<i")


class SnapshotUnreadable(RuntimeError):
    """The snapshot file exists but cannot be loaded; startup must stop."""


@dataclass
class DeferredPart:
    """A collection's documents in the file, not decoded yet: byte ranges of CHUNK each
    (found by `locate` when startup did not walk them; `start` -1: where the previous ends)."""

    name: str
    count: int
    raw: Any  # the mapped file
    start: int = -1
    chunks: list[tuple[int, int]] = field(default_factory=list)


Snapshot = tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]


def _stored_form() -> Callable[[Any], Any]:
    # The form an insert stores (emulation.py patches it in): repeated keys and values shared.
    patched: Callable[[Any], Any] = helpers.patch_datetime_awareness_in_document
    return patched


def read_snapshot(path: Path, deferred: frozenset[str] = frozenset()) -> Snapshot | None:
    """The manifest and each collection's documents (the `deferred` ones: see
    read_snapshot_parts), None when there is no file."""
    found = read_snapshot_parts(path, deferred)
    if found is None:
        return None
    manifest, collections, _ = found
    return manifest, collections


def read_snapshot_parts(
    path: Path, deferred: frozenset[str] = frozenset()
) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]], list[DeferredPart]] | None:
    """The manifest, the collections not in `deferred` decoded, and the deferred ones as
    byte ranges; None when there is no file."""
    if not path.exists():
        return None

    def unreadable(problem: str) -> SnapshotUnreadable:
        return SnapshotUnreadable(f"cannot read the store snapshot {path}: {problem}")

    try:
        raw = _mapped(path)
        manifest_size = _document_size(raw, 0)
        manifest = bson.decode(raw[:manifest_size], _RAW)
    except (OSError, bson.errors.BSONError, ValueError) as error:
        raise unreadable(str(error)) from error
    if manifest.get("format") != FORMAT:
        raise SnapshotUnreadable(f"{path} is not a tradegraph snapshot ({FORMAT})")
    problem = manifest_problem(manifest)
    if problem is not None:
        raise unreadable(problem)
    entries = manifest["collections"]
    names = list(entries)
    # Deferred collections at the end (where snapshots put market data) are walked by the
    # loader, in the background: startup reads only what comes before them.
    walked = len(names)
    while walked and names[walked - 1] in deferred:
        walked -= 1
    counts = [entries[name]["count"] for name in names[:walked]]
    try:
        boundaries, end = _boundaries(raw, manifest_size, counts, to_end=walked == len(names))
    except ValueError as error:
        raise unreadable(str(error)) from error
    collections: dict[str, list[dict[str, Any]]] = {}
    parts: list[DeferredPart] = []
    for name in names[walked:]:
        parts.append(
            DeferredPart(name, entries[name]["count"], raw, start=end if not parts else -1)
        )
    for name, (start, marks) in zip(names[:walked], boundaries, strict=True):
        entry = entries[name]
        if name in deferred:
            part = DeferredPart(name, entry["count"], raw, start=start)
            part.chunks = list(zip([start, *marks], marks, strict=False))
            parts.insert(0, part)
            continue
        end = marks[-1] if marks else start
        try:
            documents = decode_documents(raw[start:end])
        except (bson.errors.BSONError, ValueError) as error:
            raise unreadable(f"collection {name!r}: {error}") from error
        problem = documents_problem(name, documents)
        if problem is not None:
            raise unreadable(problem)
        collections[name] = documents
    return manifest, collections, parts


def _document_size(raw: bytes, offset: int) -> int:
    if offset + 5 > len(raw):
        raise ValueError("it ends inside a document (truncated)")
    size: int = _SIZE.unpack_from(raw, offset)[0]
    if size < 5 or offset + size > len(raw) or raw[offset + size - 1] != 0:
        raise ValueError(f"the document at byte {offset} is cut off or corrupt")
    return size


def _mapped(path: Path) -> Any:
    """The file's bytes, mapped (pages read as they are used, dropped when unused)."""
    with path.open("rb") as file:
        return mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ)


def _boundaries(
    raw: Any, offset: int, counts: list[int], to_end: bool = True
) -> tuple[list[tuple[int, list[int]]], int]:
    """Per collection: its first byte, and the end of every CHUNK-th document and the last;
    and where the last ends. With `to_end`, checks nothing follows (counts match the file)."""
    found: list[tuple[int, list[int]]] = []
    listed = sum(counts)
    seen = 0
    for count in counts:
        start, marks = offset, []
        for number in range(1, count + 1):
            if offset >= len(raw):
                raise ValueError(
                    f"it holds {seen} documents where its manifest lists {listed} "
                    "(truncated or corrupt)"
                )
            offset += _document_size(raw, offset)
            seen += 1
            if number % CHUNK == 0 or number == count:
                marks.append(offset)
        found.append((start, marks))
    if not to_end:
        return found, offset
    extra = 0
    while offset < len(raw):
        offset += _document_size(raw, offset)
        extra += 1
    if extra:
        raise ValueError(
            f"it holds {listed + extra} documents where its manifest lists {listed} "
            "(truncated or corrupt)"
        )
    return found, offset


def locate(parts: list[DeferredPart]) -> None:
    """Finds the chunks of deferred parts that have none yet (the ones at the end of the file,
    one after the other), checking the file ends where the last does (worker thread)."""
    offset = -1
    for part in parts:
        if part.chunks:
            continue
        start = part.start if part.start >= 0 else offset
        ((_, marks),), offset = _boundaries(part.raw, start, [part.count], to_end=False)
        part.chunks = list(zip([start, *marks], marks, strict=False))
    if offset >= 0 and offset != len(parts[-1].raw):
        raise ValueError(
            "the file goes on after the documents its manifest lists (truncated or corrupt)"
        )


def decode_documents(raw: bytes) -> list[dict[str, Any]]:
    """Documents in the form an insert stores them, as they are decoded: a restored month of
    bars would otherwise hold its own copy of every field name, price and minute."""
    stored_form = _stored_form()
    return [stored_form(document) for document in bson.decode_iter(raw, _RAW)]


def decode_chunk(part: DeferredPart, chunk: tuple[int, int]) -> list[dict[str, Any]]:
    """One chunk of a deferred collection, checked like any collection's documents."""
    documents = decode_documents(part.raw[chunk[0] : chunk[1]])
    problem = documents_problem(part.name, documents)
    if problem is not None:
        raise ValueError(problem)
    return documents


def manifest_problem(manifest: dict[str, Any]) -> str | None:
    """What makes a snapshot's manifest unusable, or None."""
    if not isinstance(manifest.get("taken_at"), datetime | None):
        return "its manifest's taken_at is not a date"
    journal = manifest.get("journal", 0)
    if type(journal) is not int or journal < 0:
        return "its manifest's journal generation is not a whole number"
    collections = manifest.get("collections")
    if not isinstance(collections, dict):
        return "its manifest has no collections document"
    for name, entry in collections.items():
        if not isinstance(entry, dict) or not {"count", "indexes"} <= entry.keys():
            return f"collection {name!r} in its manifest lacks count or indexes"
        if type(entry["count"]) is not int or entry["count"] < 0:
            return f"collection {name!r} has a count that is not a whole number"
        if not isinstance(entry["indexes"], dict):
            return f"collection {name!r} has indexes that are not a document"
        for index_name, index in entry["indexes"].items():
            if not _valid_index(index):
                return f"index {index_name!r} of collection {name!r} is not a valid index spec"
    return None


def _valid_index(index: Any) -> bool:
    if not isinstance(index, dict) or not isinstance(index.get("key"), list) or not index["key"]:
        return False
    return all(
        isinstance(part, list)
        and len(part) == 2
        and isinstance(part[0], str)
        and (part[1] in (1, -1) or isinstance(part[1], str))
        for part in index["key"]
    )


def documents_problem(name: str, documents: list[Any]) -> str | None:
    """What makes a collection's documents unusable (a missing or repeated _id), or None."""
    keys: set[Any] = set()
    for number, document in enumerate(documents):
        if "_id" not in document:
            return f"document {number} of collection {name!r} has no _id"
        key = document["_id"]
        key = helpers.hashdict(key) if isinstance(key, dict) else key
        try:
            if key in keys:
                return f"collection {name!r} holds _id {document['_id']!r} twice"
            keys.add(key)
        except TypeError:
            return f"document {number} of collection {name!r} has an _id that cannot be a key"
    return None
