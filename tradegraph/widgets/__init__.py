"""Embeddable widgets: publishable, origin-bound, read-only widget keys for market data."""
