"""Benchmarks, one command: `make bench` (python -m bench). Results: bench/README.md.

python -m bench events   events(first: 20) over GraphQL vs a plain Starlette endpoint
python -m bench quotes   quote fan-out to WebSocket subscribers vs a bare websockets server
python -m bench sockets  server memory per WebSocket (with and without compression)
python -m bench          both
"""

from __future__ import annotations

import argparse
import asyncio

from bench import analytics, events_listing, quotes_fanout, socket_memory


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "suite",
        nargs="?",
        choices=["events", "quotes", "sockets", "analytics", "all"],
        default="all",
    )
    parser.add_argument("--requests", type=int, default=1000, help="events: requests per side")
    parser.add_argument("--events", type=int, default=5000, help="events: events stored")
    parser.add_argument("--concurrency", type=int, default=8, help="events: HTTP concurrency")
    parser.add_argument("--subscribers", default="100,1000,5000", help="quotes: counts")
    parser.add_argument("--rate", type=float, default=2.0, help="quotes: ticks per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="quotes: per run")
    parser.add_argument("--sockets", type=int, default=2000, help="sockets: how many")
    parser.add_argument("--repeats", type=int, default=3, help="analytics: best of")
    args = parser.parse_args()
    if args.suite in ("events", "all"):
        asyncio.run(events_listing.main(args.requests, args.events, args.concurrency))
    if args.suite in ("quotes", "all"):
        counts = [int(n) for n in args.subscribers.split(",")]
        asyncio.run(quotes_fanout.main(counts, args.rate, args.seconds))
    if args.suite in ("sockets", "all"):
        asyncio.run(socket_memory.main(args.sockets))
    if args.suite in ("analytics", "all"):
        analytics.main(args.repeats)


if __name__ == "__main__":
    main()
