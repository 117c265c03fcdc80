"""JSON of request bodies and WebSocket messages, with its cost bounded before it is paid.

Parsing a document costs per value, not per byte: a megabyte of `{}` is 350,000 dicts, half a
second of the event loop. So before parsing, one pass in C over the text (strings blanked by a
regex, then counts and a running depth over the brackets alone) refuses a document with more
than MAX_JSON_VALUES values or nested deeper than MAX_JSON_DEPTH. What passes is parsed on the
loop when small; a big one is parsed in a single worker thread with hooks written in Python,
so the thread gives the GIL back every few milliseconds and the loop keeps answering.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tradegraph.schema.core.scalars import json_number

MAX_JSON_DEPTH = 100  # far beyond any real variables; stops recursion in graphql-core and json
MAX_JSON_VALUES = 100_000  # a full 1 MiB import of candles is about 60,000
OFF_LOOP_BYTES = 64 * 1024  # larger documents are parsed in the parse thread

_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
# The usual attack, found by a substring search (fast) instead of counting.
_OPENING_RUNS = (b"[" * (MAX_JSON_DEPTH + 1), b"{" * (MAX_JSON_DEPTH + 1))
_NOT_BRACKETS = bytes(c for c in range(256) if c not in b"[]{}")
_STEP = [0] * 256
_STEP[ord("[")] = _STEP[ord("{")] = 1
_STEP[ord("]")] = _STEP[ord("}")] = -1
# One thread: big parses queue behind each other instead of taking turns at the GIL with the loop.
_parser = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tradegraph-json")


class JSONTooCostly(json.JSONDecodeError):
    """A document refused before parsing; its message says which limit it passed."""

    def __init__(self, message: str) -> None:
        super().__init__(message, "", 0)


def check_cost(document: str | bytes) -> None:
    """Raises JSONTooCostly past MAX_JSON_VALUES values or MAX_JSON_DEPTH levels; costs a few
    C passes over the text, less than parsing it."""
    raw = document.encode("utf-8", "surrogatepass") if isinstance(document, str) else document
    blanked = _STRING.sub(b'""', raw)  # brackets and commas inside strings are not structure
    openers = blanked.count(b"[") + blanked.count(b"{")
    brackets = blanked.translate(None, _NOT_BRACKETS) if openers > MAX_JSON_DEPTH else b""
    if any(run in brackets for run in _OPENING_RUNS):
        raise JSONTooCostly(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
    if openers + blanked.count(b",") + 1 > MAX_JSON_VALUES:
        raise JSONTooCostly(f"JSON with more than {MAX_JSON_VALUES} values")
    # Fewer brackets than the limit cannot nest past it; else a running depth, in C.
    if brackets and max(itertools.accumulate(map(_STEP.__getitem__, brackets))) > MAX_JSON_DEPTH:
        raise JSONTooCostly(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")


def decode(document: str | bytes) -> Any:
    """The checked document's value; a number a float would round keeps its text, so a
    Decimal input is exact or refused, never silently rounded. JSONDecodeError when invalid."""
    check_cost(document)
    return _loads(document)


async def decode_off_loop(document: str | bytes) -> Any:
    """`decode`, in the parse thread when the document is big."""
    if len(document) <= OFF_LOOP_BYTES:
        return decode(document)
    loop = asyncio.get_running_loop()
    return await loop.run_in_executor(_parser, _decode_yielding, document)


def _loads(document: str | bytes, **hooks: Any) -> Any:
    try:
        return json.loads(document, parse_float=json_number, **hooks)
    except RecursionError:
        raise JSONTooCostly(f"JSON nested more than {MAX_JSON_DEPTH} levels deep") from None
    except json.JSONDecodeError:
        raise
    except ValueError as error:  # e.g. an integer beyond Python's 4300-digit limit
        raise json.JSONDecodeError(str(error), "", 0) from error


def _decode_yielding(document: str | bytes) -> Any:
    check_cost(document)
    # Python-level hooks run bytecode, where the interpreter hands the GIL to the loop.
    return _loads(document, object_pairs_hook=_object, parse_int=_integer)


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    return dict(pairs)


def _integer(text: str) -> int:
    return int(text)
