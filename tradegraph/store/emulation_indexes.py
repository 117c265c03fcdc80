"""Patches that keep the emulation's cost per call flat as collections grow.

mongomock answers every query by scanning the collection and checks a unique index by running
a query per insert, so ingest is quadratic and a `find().sort().limit(20)` sorts everything.
`install` gives it what MongoDB's indexes give, one module per mechanism:

- emulation_lookups: a hash table per unique index (duplicate checks and equality queries on
  the index's fields) and direct `_id` lookups;
- emulation_ranges: a sorted key list for equality on a unique compound index's prefix plus a
  range on its next field;
- emulation_range_walks: a find sorted by that next field walks the key list from the
  requested end and stops at its limit, as MongoDB walks an index;
- emulation_prefixes: for every declared index, unique or not, a hash table of its equality
  prefix (a portfolio's orders, a user's events), and cached sort orders of large buckets;
- emulation_sorting: a cached sort order per collection version for finds no index serves (a
  sorted find with a limit walks only until the limit is met) and the version bookkeeping
  (`changed`);
- emulation_copies: immutable values handed out without copying;
- emulation_aggregation: aggregations that start with `$match` filter before copying
  documents, and `$group` keys evaluated once.

Sorts, `$group` keys and simple filters compare plain values directly where mongomock's
generic BSON comparator and expression parser give the same answer. Results stay mongomock's:
candidates found by hash or range are still checked by its filter (or an equivalent check for
plain values); an unsorted find answered from a range comes in index order, as from MongoDB,
not in insertion order.
"""

from __future__ import annotations

import mongomock.collection

from tradegraph.store import (
    emulation_aggregation,
    emulation_copies,
    emulation_lookups,
    emulation_sorting,
)


def install() -> None:
    """Patches mongomock (idempotent)."""
    collection = mongomock.collection.Collection
    if getattr(collection, "_tradegraph_indexes", False):
        return
    collection._tradegraph_indexes = True  # type: ignore[attr-defined]
    emulation_lookups.install()
    emulation_sorting.install()
    emulation_copies.install()
    emulation_aggregation.install()
