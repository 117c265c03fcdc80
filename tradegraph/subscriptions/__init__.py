"""Pub/sub: the broker (broadcaster), channel names and the live feeds built on them."""
