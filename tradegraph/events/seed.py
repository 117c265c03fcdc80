"""Synthetic user-activity events for demos and benchmarks: reproducible for a given seed."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from tradegraph.events.validation import EventSubmission

# (type, relative frequency, typical value): values follow a log-normal around the typical one.
ACTIVITY = [
    ("login", 30, 0.0),
    ("page_view", 40, 0.0),
    ("order", 12, 250.0),
    ("purchase", 8, 40.0),
    ("deposit", 6, 500.0),
    ("withdrawal", 4, 300.0),
]
EVENTS_PER_USER_PER_DAY = 20


def synthetic_events(
    days: int,
    users: int,
    seed: int = 7,
    now: datetime | None = None,
) -> Iterator[EventSubmission]:
    """About EVENTS_PER_USER_PER_DAY events per user per day over the last `days` days,
    busier in the daytime (UTC), oldest first."""
    rng = random.Random(seed)
    end = now or datetime.now(UTC)
    start = end - timedelta(days=days)
    kinds = [kind for kind, _, _ in ACTIVITY]
    weights = [weight for _, weight, _ in ACTIVITY]
    typical = {kind: value for kind, _, value in ACTIVITY}
    total = days * users * EVENTS_PER_USER_PER_DAY
    for n in range(total):
        moment = start + (end - start) * ((n + rng.random()) / total)
        hour = moment.hour + moment.minute / 60
        if rng.random() > 0.35 + 0.65 * math.sin(math.pi * hour / 24):  # quieter at night
            continue
        kind = rng.choices(kinds, weights)[0]
        value = round(typical[kind] * rng.lognormvariate(0, 0.6), 2) if typical[kind] else 0.0
        user = f"user-{rng.randrange(users):03d}"
        yield EventSubmission(
            user_id=user,
            type=kind,
            value=value,
            timestamp=moment,
            metadata={"source": "seed", "channel": rng.choice(["web", "ios", "android"])},
            idempotency_key=f"seed:{seed}:{n}",
        )
