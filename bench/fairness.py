"""Fair share (issue 20): each attack runs as a bounded workload beside a victim, another user
doing ordinary things one at a time: `{ me { id } }`, a `quote`, an `orders` page, a quote
delivered to its quotes subscription, and GET /healthz. The victim's p50/p99 under each attack
are set against the same victim on the same server, idle, measured in the same run just
before that attack (an idle phase before each attack: a machine's drift over the run is not
counted as the next attack's cost), `--pairs` idle/attack pairs per attack, their samples
pooled (a p99 over ~300 samples is their 3rd slowest: one scheduler hiccup). Target:
every attack keeps the victim's p99 <= 3x idle and <= 250 ms. The victim and the attacker each
run in their own process, the attacker on idle CPU only (an attacker's client is another
machine: bench/fairness_attacker.py).

The server is a `tradegraph serve` subprocess (default embedded store), seeded with `--events`
events of the attacker's own (its long store call is a TRADER's summary over them) and, for the
heatmap attack, a finished optimisation of `--heatmap-rows` combinations.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from bench.fairness_attacker import describe
from bench.fairness_attacks import ATTACKS
from bench.fairness_world import World, setup

TARGET_RATIO = 3.0
TARGET_MS = 250.0
REPORT_LIMIT = 2**24  # a victim's latencies as one JSON line: ~80 KB per 30 s phase
ME = "{ me { id } }"
QUOTE = 'query { quote(symbol: "PETR4") { bid ask } }'
ORDERS = "query($id: ID!) { orders(portfolioId: $id, first: 20) { edges { node { id } } } }"
QUOTES = 'subscription { quotes(symbols: ["PETR4"]) { bid } }'


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _phase(
    world: World, seconds: float, attack: str | None
) -> tuple[dict[str, list[float]], str]:
    attacker = None
    if attack is not None:  # its own process, at lower priority (bench/fairness_attacker.py)
        attacker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fairness_attacker",
            describe(attack, world),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=REPORT_LIMIT,
        )
        assert attacker.stdin is not None
        assert attacker.stdout is not None
        assert (await attacker.stdout.readline()).strip() == b"started"
        await asyncio.sleep(min(2.0, seconds / 3))  # the attack under way before measuring
    victim = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.fairness_victim",
        world.server.url,
        world.victim,
        world.admin,
        world.victim_portfolio,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=REPORT_LIMIT,
    )
    assert victim.stdin is not None
    assert victim.stdout is not None
    assert (await victim.stdout.readline()).strip() == b"ready"
    await asyncio.sleep(seconds)
    victim.stdin.close()  # the victim finishes its request in flight, then reports
    times: dict[str, list[float]] = json.loads(await victim.stdout.readline())
    await victim.wait()
    note = "no attack"
    if attacker is not None:
        assert attacker.stdin is not None
        assert attacker.stdout is not None
        attacker.stdin.close()  # the attack stops and reports its workload
        note = json.loads(await attacker.stdout.readline())
        await attacker.wait()
    return times, note


Times = dict[str, list[float]]


def _report(results: list[tuple[str, Times, Times, list[str]]]) -> None:
    """Each attack against the idle phase measured just before it (the same victim, the same
    server, the machine as it was then: drift between phases is not counted as the attack's)."""
    print("\n| attack | victim | n | idle p99 ms | p50 ms | p99 ms | p99 / idle | within target |")
    print("|---|---|---:|---:|---:|---:|---:|---|")
    verdicts = []
    for name, idle, times, notes in results:
        if not notes:
            continue  # no pair finished
        worst_ok = True
        for kind, values in times.items():
            p50, p99, before = _pct(values, 0.5), _pct(values, 0.99), _pct(idle[kind], 0.99)
            ratio = p99 / before
            ok = ratio <= TARGET_RATIO and p99 <= TARGET_MS
            worst_ok &= ok
            row = f"| {name} | {kind} | {len(values)} | {before:.0f} | {p50:.0f} | {p99:.0f} |"
            print(f"{row} {ratio:.1f} | {'yes' if ok else 'NO'} |")
        verdicts.append((name, worst_ok, " / ".join(notes)))  # one note per pair
    print("\n| attack | every victim within 3x idle p99 and 250 ms | attack workload |")
    print("|---|---|---|")
    for name, ok, note in verdicts:
        print(f"| {name} | {'yes' if ok else 'NO'} | {note} |")
    idles = [_pct(values, 0.99) for _, idle, _, _ in results for values in idle.values()]
    if idles:
        span = f"{min(idles):.0f}-{max(idles):.0f} ms"
        print(f"\nidle victim p99 per attack's pooled idle phases and kind: {span}")


async def main(
    seconds: float, pairs: int, events: int, heatmap_rows: int, only: list[str] | None
) -> None:
    started = time.perf_counter()
    world = await setup(events, heatmap_rows)
    took = time.perf_counter() - started
    print(f"setup: {events} events, heatmap of {heatmap_rows} rows, {took:.0f} s", flush=True)
    results: list[tuple[str, Times, Times, list[str]]] = []
    try:
        for name in ATTACKS:
            if only and name not in only:
                continue
            idle: Times = {}
            attacked: Times = {}
            notes: list[str] = []
            # listed at once: a phase that fails leaves the attack's finished pairs reported
            results.append((name, idle, attacked, notes))
            for _ in range(pairs):  # the baseline just before each attack phase, pooled
                before, _ = await _phase(world, seconds, None)
                times, note = await _phase(world, seconds, name)
                for pooled, phase in ((idle, before), (attacked, times)):
                    for kind, values in phase.items():
                        pooled.setdefault(kind, []).extend(values)
                notes.append(note)
                print(f"{name}: {note}", flush=True)
    finally:
        _report(results)  # what was measured, even when a phase failed
        await world.server.stop()
