"""Insights: facts aggregated from events and trading, turned into text by a model."""
