"""events/summary.py: the checks on a summary's range, topN and series size, and bucket
alignment. The aggregation pipelines run in the store (tests/e2e/test_summary.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tradegraph.errors import InvalidInput
from tradegraph.events.summary import (
    MAX_SERIES_POINTS,
    MAX_TOP_N,
    TimeBucket,
    bucket_start,
    check_range,
    check_series_size,
    check_top_n,
)

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def test_a_range_must_move_forward() -> None:
    check_range(T0, T0 + timedelta(microseconds=1))
    for to in (T0, T0 - timedelta(days=1)):
        with pytest.raises(InvalidInput) as refused:
            check_range(T0, to)
        assert refused.value.details == {"field": "from"}


@pytest.mark.parametrize("top_n", [1, MAX_TOP_N])
def test_top_n_from_1_to_100_is_accepted(top_n: int) -> None:
    check_top_n(top_n)


@pytest.mark.parametrize("top_n", [0, -1, MAX_TOP_N + 1])
def test_top_n_outside_1_to_100_is_refused(top_n: int) -> None:
    with pytest.raises(InvalidInput) as refused:
        check_top_n(top_n)
    assert refused.value.details == {"field": "topN"}


@pytest.mark.parametrize("bucket", list(TimeBucket))
def test_a_series_of_at_most_10000_buckets_is_accepted_and_one_more_refused(
    bucket: TimeBucket,
) -> None:
    # Buckets touched from T0 to T0 + (N - 1) buckets, inclusive of both ends: N.
    check_series_size(T0, T0 + (MAX_SERIES_POINTS - 1) * bucket.value, bucket)
    with pytest.raises(InvalidInput) as refused:
        check_series_size(T0, T0 + MAX_SERIES_POINTS * bucket.value, bucket)
    assert refused.value.details == {"field": "bucket"}
    assert refused.value.message.startswith(f"10001 {bucket.name} buckets requested")


def test_series_size_counts_partly_covered_buckets_at_both_ends() -> None:
    hour = TimeBucket.HOUR
    span = (MAX_SERIES_POINTS - 1) * hour.value + timedelta(minutes=2)
    check_series_size(T0, T0 + span, hour)  # 00:00 to 00:02 of the last hour: 10,000
    with pytest.raises(InvalidInput):
        check_series_size(T0 + timedelta(minutes=59), T0 + timedelta(minutes=59) + span, hour)


@pytest.mark.parametrize(
    ("moment", "bucket", "start"),
    [
        (datetime(2024, 3, 1, 12, 34, 56, 789000, tzinfo=UTC), TimeBucket.MINUTE, (12, 34)),
        (datetime(2024, 3, 1, 12, 34, 56, tzinfo=UTC), TimeBucket.HOUR, (12, 0)),
        (datetime(2024, 3, 1, 12, 34, 56, tzinfo=UTC), TimeBucket.DAY, (0, 0)),
        (datetime(2024, 3, 1, 12, 0, tzinfo=UTC), TimeBucket.HOUR, (12, 0)),
    ],
)
def test_buckets_start_on_utc_boundaries(
    moment: datetime, bucket: TimeBucket, start: tuple[int, int]
) -> None:
    assert bucket_start(moment, bucket) == datetime(2024, 3, 1, *start, tzinfo=UTC)


def test_a_bucket_start_does_not_depend_on_the_offset_it_is_written_in() -> None:
    local = datetime(2024, 3, 1, 21, 30, tzinfo=timezone(timedelta(hours=-3)))  # 00:30 UTC
    assert bucket_start(local, TimeBucket.DAY) == datetime(2024, 3, 2, tzinfo=UTC)
