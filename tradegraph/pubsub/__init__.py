"""Pub/sub transport: the broker (broadcaster, memory or Redis), its Redis backend and the
channel names. Knows nothing of the domain: messages are strings, decoders are registered by
tradegraph/subscriptions/decoders.py."""
