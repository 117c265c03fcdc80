"""GET /metrics in the Prometheus text format, one registry per app."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from tradegraph.pubsub.broker import Broker


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


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events_stored = Counter(
            "tradegraph_events_stored", "Events stored", registry=self.registry
        )

    def watch_broker(self, broker: Broker) -> None:
        self.registry.register(BrokerCollector(broker))

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")
