"""GET /metrics in the Prometheus text format, one registry per app; no ids in labels."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from tradegraph.auth.passwords import Passwords
from tradegraph.pubsub.broker import Broker
from tradegraph.pubsub.channels import CHANNEL_KINDS, channel_kind
from tradegraph.web import metrics_access
from tradegraph.web.caller_share import CallerShares


class BrokerCollector(Collector):
    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        # Labelled by kind of channel, never by channel: names carry portfolio and run ids,
        # and one label value per symbol or portfolio would grow without bound.
        counts = dict.fromkeys(CHANNEL_KINDS, 0)
        for channel, count in self.broker.subscriber_counts().items():
            kind = channel_kind(channel)
            counts[kind] = counts.get(kind, 0) + count
        gauge = GaugeMetricFamily(
            "tradegraph_subscribers",
            "Live subscriptions in this process, by kind of channel (one per channel joined)",
            labels=["kind"],
        )
        for kind, count in counts.items():
            gauge.add_metric([kind], count)
        yield gauge
        sources = dict.fromkeys(CHANNEL_KINDS, 0)
        for channel, count in self.broker.source_counts().items():
            kind = channel_kind(channel)
            sources[kind] = sources.get(kind, 0) + count
        executions = GaugeMetricFamily(
            "tradegraph_subscription_sources",
            "Subscriptions iterated (and executed) per message, by kind of channel: subscribers "
            "of the same public document share one",
            labels=["kind"],
        )
        for kind, count in sources.items():
            executions.add_metric([kind], count)
        yield executions
        yield GaugeMetricFamily(
            "tradegraph_slow_subscribers_ended",
            "Subscribers ended because they fell behind",
            value=self.broker.slow_subscribers_ended,
        )
        yield from self._faults()

    def _faults(self) -> Iterator[CounterMetricFamily]:
        """What broker outages cost (README "When Redis fails")."""
        broker, outbox = self.broker, self.broker.outbox
        failures = broker.publish_failures.total + (outbox.publish_failures.total if outbox else 0)
        values = {
            "broker_publish_failures": (failures, "Publishes the broker refused"),
            "broker_messages_dropped": (
                broker.dropped_messages,
                "Last-value messages (quotes, progress) dropped while the broker was down",
            ),
            "subscriptions_interrupted": (
                broker.interrupted_subscriptions,
                "Subscriptions ended with STREAM_INTERRUPTED when the broker connection was lost",
            ),
            "outbox_queued": (outbox.queued if outbox else 0, "Messages queued in the outbox"),
            "outbox_delivered": (
                outbox.delivered if outbox else 0,
                "Outbox messages this process delivered",
            ),
            "outbox_lost": (
                outbox.lost if outbox else 0,
                "Messages lost because neither the broker nor the outbox took them",
            ),
        }
        for name, (value, help_text) in values.items():
            yield CounterMetricFamily(f"tradegraph_{name}", help_text, value=value)


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


class CallerSharesCollector(Collector):
    def __init__(self, shares: CallerShares) -> None:
        self.shares = shares

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        shares = self.shares
        yield GaugeMetricFamily(
            "tradegraph_caller_requests_running",
            "GraphQL requests running now (at most TRADEGRAPH_MAX_RUNNING_REQUESTS_PER_CALLER "
            "per caller)",
            value=shares.running(),
        )
        yield GaugeMetricFamily(
            "tradegraph_caller_requests_waiting",
            "GraphQL requests waiting for their caller's turn",
            value=shares.waiting(),
        )
        yield CounterMetricFamily(
            "tradegraph_caller_requests_refused",
            "GraphQL requests refused RATE_LIMITED past TRADEGRAPH_MAX_WAITING_REQUESTS_PER_CALLER",
            value=shares.refused,
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

    def watch_caller_shares(self, shares: CallerShares) -> None:
        self.registry.register(CallerSharesCollector(shares))

    async def endpoint(self, request: Request) -> Response:
        """GET /metrics, for loopback clients or holders of TRADEGRAPH_METRICS_TOKEN."""
        metrics_access.check_access(request, request.app.state.services.settings.metrics_token)
        return Response(generate_latest(self.registry), media_type="text/plain; version=0.0.4")
