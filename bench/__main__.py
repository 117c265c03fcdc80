"""Benchmarks, one command: `make bench` (python -m bench). Results: bench/README.md.

python -m bench events   events(first: 20) over GraphQL vs a plain Starlette endpoint
python -m bench quotes   quote fan-out to WebSocket subscribers vs a bare websockets server
python -m bench analytics  one backtest and indicators on a year of bars vs pandas
python -m bench optimize   a 1,000-combination grid: today vs before issue 23 vs the engine
python -m bench store    webhook ingest 0 -> 50,000 stored, events(first: 20) at 50,000
python -m bench soak     the simulated feed at 20x for 10 minutes (--minutes), sampled
python -m bench sockets  server memory per WebSocket (with and without compression)
python -m bench seed     serve --seed: 30 days of one-minute bars (--days), then candles reads
                         and shutdown; --before CHECKOUT runs that code first as the baseline
python -m bench fairness each attack of issue 20 beside a victim, against the idle victim
                         (--seconds per phase, --pairs, --fair-events, --heatmap-rows,
                         --attacks)
python -m bench day      N traders' live dashboards and orders on one process (--traders, --minutes)
python -m bench matching one quote's matching with the order book vs the store query (--orders)
python -m bench durability  writes/s with the journal vs without; restart with a seeded month
python -m bench lanes    short store calls beside long aggregations, split vs one call
python -m bench lookups  per-portfolio reads on the embedded store, index tables vs scans
                         (--sizes, --rounds)
python -m bench lastbar  a position's previous close: last_bar_before vs the growing window
                         and candle windows it replaced (--days of seeded history, --rounds),
                         then sorted, limited finds over --candles bars, walked vs read
python -m bench jsoncost a request body's cost check vs parsing it, per shape (--rounds)
python -m bench          events, quotes, analytics and optimize
"""

from __future__ import annotations

import argparse
import asyncio

from bench import (
    analytics,
    day,
    day_matching,
    durability,
    events_listing,
    fairness,
    json_cost,
    last_bar,
    optimize,
    quotes_fanout,
    seed_history,
    socket_memory,
    store,
    store_lanes,
    store_lookups,
)


def _at_least_one(text: str) -> int:
    count = int(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {count}")
    return count


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "suite",
        nargs="?",
        choices=[
            "events",
            "quotes",
            "sockets",
            "analytics",
            "optimize",
            "store",
            "soak",
            "seed",
            "fairness",
            "day",
            "matching",
            "durability",
            "lanes",
            "lookups",
            "lastbar",
            "jsoncost",
            "all",
        ],
        default="all",
    )
    parser.add_argument("--requests", type=int, default=1000, help="events: requests per side")
    parser.add_argument("--events", type=int, default=5000, help="events: events stored")
    parser.add_argument("--concurrency", type=int, default=8, help="events: HTTP concurrency")
    parser.add_argument("--subscribers", default="100,1000,5000", help="quotes: counts")
    parser.add_argument("--rate", type=float, default=2.0, help="quotes: ticks per second")
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="quotes: per run; fairness: per phase"
    )
    parser.add_argument("--repeats", type=int, default=3, help="analytics, optimize: best of")
    parser.add_argument("--workers", type=int, default=None, help="optimize: default cores")
    parser.add_argument("--stored", type=int, default=50_000, help="store: events to ingest")
    parser.add_argument("--listings", type=int, default=200, help="store: listing requests")
    parser.add_argument("--minutes", type=float, default=10.0, help="soak, day: duration")
    parser.add_argument("--tick-seconds", type=float, default=0.05, help="soak: feed period")
    parser.add_argument("--every", type=float, default=15.0, help="soak: seconds per sample")
    parser.add_argument("--days", type=int, default=30, help="seed, lastbar: days of price history")
    parser.add_argument(
        "--before", default=None, help="seed: a checkout (with .venv) measured first as baseline"
    )
    parser.add_argument("--sockets", type=int, default=2000, help="sockets: how many")
    parser.add_argument("--fair-events", type=int, default=10_000, help="fairness: events")
    parser.add_argument(
        "--heatmap-rows", type=int, default=10_000, help="fairness: optimisation size (0: skip)"
    )
    parser.add_argument("--attacks", default=None, help="fairness: comma-separated names")
    parser.add_argument(
        "--pairs",
        type=_at_least_one,
        default=3,
        help="fairness: idle/attack phase pairs per attack, pooled",
    )
    parser.add_argument("--traders", type=int, default=1000, help="day: simulated traders")
    parser.add_argument("--clients", type=int, default=2, help="day: client processes")
    parser.add_argument("--idle-seconds", type=float, default=60.0, help="day: N=1 baseline")
    parser.add_argument("--relay-seconds", type=float, default=30.0, help="day: relay baseline")
    parser.add_argument("--watchlists", type=int, default=20, help="day: distinct watchlists")
    parser.add_argument("--history-days", type=int, default=2, help="day: seeded price history")
    parser.add_argument("--orders", default="1000,8000", help="matching: orders stored")
    parser.add_argument("--quotes", type=int, default=190, help="matching: quotes per side")
    parser.add_argument("--profile", default=None, help="day: py-spy collapsed stacks to this file")
    parser.add_argument("--writers", type=int, default=16, help="durability: clients writing")
    parser.add_argument(
        "--seed-dir", default=None, help="durability: a data dir holding a seeded month"
    )
    parser.add_argument("--sizes", default="1000,8000,50000", help="lookups: orders stored")
    parser.add_argument("--rounds", type=int, default=100, help="lookups, lastbar: timed rounds")
    parser.add_argument(
        "--candles", type=int, default=200_000, help="lastbar: candles for sorted finds (0: skip)"
    )
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
    if args.suite in ("optimize", "all"):
        optimize.main(args.workers, args.repeats)
    if args.suite == "store":
        asyncio.run(store.ingest_and_list(args.stored, args.listings))
    if args.suite == "seed":
        asyncio.run(seed_history.seed_and_read(args.days, args.before))
    if args.suite == "fairness":
        only = args.attacks.split(",") if args.attacks else None
        asyncio.run(
            fairness.main(args.seconds, args.pairs, args.fair_events, args.heatmap_rows, only)
        )
    if args.suite == "matching":
        stored = [int(n) for n in args.orders.split(",")]
        asyncio.run(day_matching.run(stored, args.quotes))
        return
    if args.suite == "day":
        asyncio.run(
            day.main(
                args.traders,
                args.minutes,
                args.clients,
                args.idle_seconds,
                args.relay_seconds,
                args.watchlists,
                args.history_days,
                args.profile,
            )
        )
    if args.suite == "durability":
        asyncio.run(durability.main(args.writers, args.seconds, args.seed_dir))
    if args.suite == "lanes":
        asyncio.run(store_lanes.main(args.stored))
    if args.suite == "lookups":
        store_lookups.run([int(n) for n in args.sizes.split(",")], args.rounds)
    if args.suite == "jsoncost":
        json_cost.main(min(args.rounds, 20))
    if args.suite == "lastbar":
        asyncio.run(last_bar.main(args.days, args.rounds, args.candles))
    if args.suite == "soak":
        asyncio.run(store.soak(args.minutes, args.tick_seconds, args.every))


if __name__ == "__main__":
    main()
