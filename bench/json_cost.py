"""What refusing or passing a request body costs before it is parsed (web/json_cost.py),
against parsing the same body with `json.loads`, measured in the same run. The issue's bound:
the check costs no more than parsing. Each body is 1 MiB shaped as an attacker (or an honest
import) would shape it; the scan is fed in 64 KiB pieces as a body arrives, and the longest
piece is the longest the event loop is held by the scan.

python -m bench jsoncost [--rounds N]
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

from tqdm import tqdm

from tradegraph.web.json_cost import SCAN_STEP, CostScan, JSONTooCostly

MIB = 1 << 20


def _array_of(item: bytes) -> bytes:
    count = (MIB - 60) // (len(item) + 1)
    return b'{"query": "{ __typename }", "variables": {"x": [' + b",".join([item] * count) + b"]}}"


def _candles() -> bytes:
    row = {"start": "2026-01-02T10:00:00+00:00", "open": "10.01", "high": "10.2"}
    rows = [row] * (MIB // len(json.dumps(row)) - 1)
    return json.dumps({"query": "mutation { x }", "variables": {"candles": rows}}).encode()


SHAPES: dict[str, Callable[[], bytes]] = {
    "1 MiB of {} (the issue's attack)": lambda: _array_of(b"{}"),
    'strings ""': lambda: _array_of(b'""'),
    'strings "a"': lambda: _array_of(b'"a"'),
    "escaped quotes": lambda: _array_of(b'"\\""'),
    "numbers": lambda: _array_of(b"1"),
    "40-deep arrays, repeated": lambda: _array_of(b"[" * 40 + b"1" + b"]" * 40),
    "candle import (passes)": _candles,
}


def _scan(body: bytes) -> tuple[float, float, str]:
    """Total and longest-piece seconds, and the verdict."""
    scan, longest, verdict = CostScan(), 0.0, "passes"
    started = time.perf_counter()
    try:
        for at in range(0, len(body), SCAN_STEP):
            piece = time.perf_counter()
            scan.feed(body[at : at + SCAN_STEP])
            longest = max(longest, time.perf_counter() - piece)
        scan.finish()
    except JSONTooCostly as refused:
        verdict = "refused: " + str(refused.msg).removeprefix("JSON ")
    return time.perf_counter() - started, longest, verdict


def _parse(body: bytes) -> float:
    started = time.perf_counter()
    with contextlib.suppress(json.JSONDecodeError, RecursionError):
        json.loads(body)
    return time.perf_counter() - started


def main(rounds: int) -> None:
    print("| body (1 MiB) | scan ms | longest piece ms | json.loads ms | scan / parse | verdict |")
    print("|---|---:|---:|---:|---:|---|")
    for name, build in tqdm(SHAPES.items(), desc="shapes", leave=False):
        body = build()
        scans = [_scan(body) for _ in range(rounds)]
        parse = min(_parse(body) for _ in range(rounds))
        total = min(s[0] for s in scans)
        longest = min(s[1] for s in scans)  # best of rounds, like the totals
        row = f"| {name} | {total * 1e3:.2f} | {longest * 1e3:.2f} | {parse * 1e3:.1f} |"
        print(f"{row} {total / parse:.2f} | {scans[0][2]} |")
