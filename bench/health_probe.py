"""GET <url>/healthz every 100 ms from its own process until stdin closes, then print the
answers' latencies (ms) as JSON. Its own process: a probe inside the benchmark would measure
the benchmark's event loop, busy with thousands of client sockets, not the server's."""

from __future__ import annotations

import json
import sys
import threading
import time

import httpx

INTERVAL = 0.1


def main(url: str) -> None:
    done = threading.Event()

    def wait_for_stdin() -> None:
        sys.stdin.read()
        done.set()

    threading.Thread(target=wait_for_stdin, daemon=True).start()
    latencies: list[float] = []
    with httpx.Client(base_url=url, timeout=30) as http:
        print("ready", flush=True)
        while not done.is_set():
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            latencies.append(1000 * (time.perf_counter() - started))
            done.wait(INTERVAL)
    print(json.dumps(latencies), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
