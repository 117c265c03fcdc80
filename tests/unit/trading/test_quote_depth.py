"""The book a quote offers a market order: the touch, then deeper levels one spread apart."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal as D

from tradegraph.documents import Side
from tradegraph.markets.quotes import Quote
from tradegraph.trading.matching import QuoteDepth, same_quote

NOW = datetime(2026, 12, 1, 12, 0, 0, 123456, tzinfo=UTC)


def depth(levels: int = 3, size: str | None = "100") -> QuoteDepth:
    sized = D(size) if size is not None else None
    quote = Quote("X", D("10.00"), D("10.02"), NOW, sized, sized, levels=levels, places=2)
    return QuoteDepth.of(quote)


def test_a_buy_walks_up_one_spread_per_emptied_level_until_the_book_ends() -> None:
    book = depth()
    seen = []
    while True:
        seen.append((book.touch(Side.BUY, D("10.00"), D("10.02"))[1], book.left(Side.BUY)))
        book.take(Side.BUY, D(100))
        if not book.walk(Side.BUY):
            break
    assert seen == [(D("10.02"), 100), (D("10.04"), 100), (D("10.06"), 100), (D("10.08"), 100)]
    assert book.available(Side.BUY) == 0


def test_a_level_with_size_left_is_not_walked_and_sells_walk_down() -> None:
    book = depth()
    book.take(Side.SELL, D(40))
    assert book.walk(Side.SELL) is False  # 60 left at the touch
    book.take(Side.SELL, D(60))
    assert book.walk(Side.SELL) is True
    assert book.touch(Side.SELL, D("10.00"), D("10.02"))[0] == D("9.98")
    assert book.available(Side.SELL) == 300  # 400 in the book, 100 taken


def test_a_quote_without_sizes_or_levels_offers_no_walk() -> None:
    assert depth(levels=0).can_walk(Side.BUY) is False
    assert depth(size=None).walk(Side.BUY) is False


def test_a_market_buy_reserves_its_walk_and_two_levels_for_the_next_quotes() -> None:
    book = depth(levels=10)
    assert book.walked_ask(D("10.02"), D(100)) == D("10.06")  # fits at the touch, + 2 levels
    assert book.walked_ask(D("10.02"), D(250)) == D("10.10")  # walks 2 levels, + 2
    assert book.walked_ask(D("10.02"), D(10_000)) == D("10.22")  # capped at the book's end
    assert depth(levels=0).walked_ask(D("10.02"), D(250)) == D("10.02")  # no book: the ask


def test_the_quote_read_back_from_the_store_is_the_same_quote() -> None:
    stored = Quote("X", D("10.00"), D("10.02"), NOW.replace(microsecond=123000))
    assert same_quote(depth(), stored)
    assert not same_quote(depth(), Quote("X", D(10), D(10), NOW.replace(second=1)))
