"""Channel names on the broker. Every process publishing or listening uses these."""

EVENTS_CREATED = "tradegraph.events.created"
