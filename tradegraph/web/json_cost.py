"""JSON of request bodies and WebSocket messages, with its cost bounded before it is paid.

Parsing a document costs per value, not per byte: a megabyte of `{}` is 350,000 dicts, half a
second of the event loop. So before parsing, `CostScan` passes over the text in C (escapes
dropped and the text split at its quotes to leave what is outside strings, then counts and a
running depth over the brackets alone) and refuses a
document with more than MAX_JSON_VALUES values or nested deeper than MAX_JSON_DEPTH. It reads
the text in pieces as they arrive (an HTTP body) or SCAN_STEP at a time with the loop's turn
in between (a WebSocket message), and stops at the first piece past a limit: a refusal costs
the text up to the excess, never the rest, and never holds the loop for more than one piece.
What passes is parsed on the loop when small; a big one is parsed in a single worker thread
with hooks written in Python, so the thread gives the GIL back every few milliseconds.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

import numpy as np

from tradegraph.schema.core.scalars import json_number

MAX_JSON_DEPTH = 100  # far beyond any real variables; stops recursion in graphql-core and json
MAX_JSON_VALUES = 100_000  # a full 1 MiB import of candles is about 60,000
OFF_LOOP_BYTES = 64 * 1024  # larger documents are parsed in the parse thread
SCAN_STEP = 64 * 1024  # the most text one scan step reads (about 0.3 ms of the loop)

_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_ONE_KIND = bytes.maketrans(b"{}", b"[]")  # depth does not care which kind of bracket
_OPEN_PLUS_CLOSE = (ord("[") + ord("]")) // 2  # minus a bracket's byte: [ -> +1, ] -> -1
# One thread: big parses queue behind each other instead of taking turns at the GIL with the loop.
_parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradegraph-json")
# The body web/body_limits.py scanned while it arrived, so the view does not scan it again.
_scanned_body: ContextVar[bytes | None] = ContextVar("scanned_body", default=None)


class JSONTooCostly(json.JSONDecodeError):
    """A document refused before parsing; its message says which limit it passed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)


class CostScan:
    """The value count and depth of a document fed in pieces; `feed` raises JSONTooCostly at
    the first piece that passes a limit. Each byte is read a few times in C and never again:
    whether the next piece starts inside a string (or escaped) is carried over."""

    def __init__(self) -> None:
        self._values = 1  # the document itself
        self._depth = 0
        self._in_string = False  # the unread text starts inside a string
        self._escaped = False  # and its first byte is escaped (a piece ended in a backslash)
        self._unread: list[bytes] = []
        self._unread_bytes = 0

    def feed(self, piece: bytes) -> None:
        self._unread.append(piece)
        self._unread_bytes += len(piece)
        if self._unread_bytes >= SCAN_STEP:
            self._scan()

    def finish(self) -> None:
        """Scans what is left; a string never closed is left to the parser to call invalid."""
        if self._unread:
            self._scan()

    def _scan(self) -> None:
        text = b"".join(self._unread)
        self._unread.clear()
        self._unread_bytes = 0
        if self._escaped:
            text, self._escaped = text[1:], False
        self._count(self._outside_strings(text))

    def _outside_strings(self, text: bytes) -> bytes:
        """The text outside strings (brackets and commas inside them are not structure). A
        backslash escapes the byte after it: pairs of them go first, then escaped quotes, so
        the quotes left delimit strings. Splitting at them costs per string, in C (a regex
        substitution per string took five times as long: a megabyte of `""` was 20 ms)."""
        if b"\\" in text:
            text = text.replace(b"\\\\", b"")
            if text.endswith(b"\\"):  # it escapes the first byte of the next piece
                text, self._escaped = text[:-1], True
            text = text.replace(b'\\"', b"")
        if b'"' not in text:
            return b"" if self._in_string else text
        parts = text.split(b'"')
        outside = parts[1::2] if self._in_string else parts[0::2]
        self._in_string ^= len(parts) % 2 == 0  # an odd number of quotes
        return b"".join(outside)

    def _count(self, blanked: bytes) -> None:
        opens = blanked.count(b"[") + blanked.count(b"{")
        self._values += opens + blanked.count(b",")
        # Fewer opening brackets than the room left cannot nest past the limit (first: too
        # deep is the verdict that explains).
        if self._depth + opens > MAX_JSON_DEPTH and self._peak(blanked, opens) > MAX_JSON_DEPTH:
            raise JSONTooCostly(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        if self._values > MAX_JSON_VALUES:
            raise JSONTooCostly(f"JSON with more than {MAX_JSON_VALUES} values")
        self._depth += opens - blanked.count(b"]") - blanked.count(b"}")

    def _peak(self, blanked: bytes, opens: int) -> int:
        """The deepest nesting in `blanked`, exact when it passes the limit. Each innermost
        container (`{}`, `[]` once the rest is deleted: most of any document) is one level
        at most, so counting them bounds the peak; the running depth, a cumulative sum over
        the brackets, is paid only when that bound is too high."""
        brackets = blanked.translate(_ONE_KIND, _NOT_BRACKETS)
        bound = self._depth + opens - brackets.count(b"[]") + 1
        if bound <= MAX_JSON_DEPTH:
            return bound
        return _running_peak(brackets, self._depth)


def _running_peak(brackets: bytes, depth: int) -> int:
    """The greatest depth reached over `brackets` (only `[` and `]`) from `depth`, in C."""
    if not brackets:
        return depth
    steps = _OPEN_PLUS_CLOSE - np.frombuffer(brackets, dtype=np.uint8).astype(np.int32)
    return max(depth, depth + int(np.cumsum(steps).max()))


def check_cost(document: str | bytes) -> None:
    """Raises JSONTooCostly past MAX_JSON_VALUES values or MAX_JSON_DEPTH levels; costs a few
    C passes over the text, less than parsing it."""
    scan = CostScan()
    scan.feed(_as_bytes(document))
    scan.finish()


async def check_cost_yielding(document: str | bytes) -> None:
    """`check_cost`, SCAN_STEP bytes at a time with the event loop's turn between steps."""
    raw = _as_bytes(document)
    scan = CostScan()
    for start in range(0, len(raw), SCAN_STEP):
        scan.feed(raw[start : start + SCAN_STEP])
        await asyncio.sleep(0)
    scan.finish()


def decode(document: str | bytes) -> Any:
    """The checked document's value; a number a float would round keeps its text, so a
    Decimal input is exact or refused, never silently rounded. JSONDecodeError when invalid."""
    check_cost(document)
    return _loads(document)


async def decode_off_loop(document: str | bytes) -> Any:
    """`decode`, with a big document checked a step at a time and parsed in the parse thread;
    a body web/body_limits.py scanned as it arrived is not scanned again."""
    if len(document) <= OFF_LOOP_BYTES:
        return decode(document)
    if _scanned_body.get() != document:  # equal bytes: a memcmp, far less than a scan
        await check_cost_yielding(document)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_parser, _loads_yielding, document)


def scanned_body(body: bytes) -> None:
    """Records that `body`, the current request's whole body, passed a CostScan."""
    _scanned_body.set(body)


def _as_bytes(document: str | bytes) -> bytes:
    return document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document


def _loads(document: str | bytes, **hooks: Any) -> Any:
    try:
        return json.loads(document, parse_float=json_number, **hooks)
    except RecursionError:
        raise JSONTooCostly(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # e.g. an integer beyond Python's 4300-digit limit
        raise json.JSONDecodeError(str(error), "", 0) from error


def _loads_yielding(document: str | bytes) -> Any:
    # Python-level hooks run bytecode, where the interpreter hands the GIL to the loop.
    return _loads(document, object_pairs_hook=_object, parse_int=_integer)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)


def _integer(text: str) -> int:
    return int(text)
