"""The live feeds the Subscription resolvers read: one module per domain, built on the broker
(tradegraph/pubsub)."""
