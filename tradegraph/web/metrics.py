"""GET /metrics in the Prometheus text format, one registry per app."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from tradegraph.auth.passwords import Passwords
from tradegraph.subscriptions.broker import Broker


class BrokerCollector(Collector):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily(
            "tradegraph_subscribers", "Live subscribers in this process", labels=["channel"]
        )
        for channel, count in self.broker.subscriber_counts().items():
            gauge.add_metric([channel], count)
        yield gauge
        yield GaugeMetricFamily(
            "tradegraph_slow_subscribers_ended",
            "Subscribers ended because they fell behind",
            value=self.broker.slow_subscribers_ended,
        )


class PasswordsCollector(Collector):
    def __init__(self, passwords: Passwords) -> None:
        self.passwords = passwords

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        passwords = self.passwords
        yield CounterMetricFamily(
            "tradegraph_password_verifications",
            "Passwords verified (argon2) in this process",
            value=passwords.verifications,
        )
        yield CounterMetricFamily(
            "tradegraph_password_hashes",
            "Passwords hashed (argon2) in this process",
            value=passwords.hashes,
        )
        yield GaugeMetricFamily(
            "tradegraph_password_work_running",
            "Hashes and verifications running now (at most TRADEGRAPH_PASSWORD_HASH_CONCURRENCY)",
            value=passwords.running,
        )
        yield GaugeMetricFamily(
            "tradegraph_password_work_waiting",
            "Hashes and verifications waiting for a free slot",
            value=passwords.waiting,
        )


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_stored = Counter(
            "tradegraph_events_stored", "Events stored", registry=self.registry
        )

    def watch_broker(self, broker: Broker) -> None:
        self.registry.register(BrokerCollector(broker))

    def watch_passwords(self, passwords: Passwords) -> None:
        self.registry.register(PasswordsCollector(passwords))

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")
