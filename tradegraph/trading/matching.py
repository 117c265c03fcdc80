"""Matching rules, as pure functions of an order and a quote (no I/O)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, Decimal

from tradegraph.decimals import round_to_step
from tradegraph.documents import Order, OrderType, Side
from tradegraph.markets.quotes import Quote

MOVE_ALLOWANCE = 2  # levels a MARKET BUY reserves beyond its walk, for the next quotes


@dataclass
class QuoteDepth:
    """What is left of the sizes of the current quote of a symbol, shared by the orders that
    match against it in arrival order. None: the feed gave no size (no limit).

    A quote may offer `levels` more price levels beyond the touch (a simulated book), each as
    deep as the touch and one spread further away: an order that empties a level walks on to
    the next one, so a market order larger than the touch fills at once at worse prices."""

    timestamp: datetime
    bid_left: Decimal | None
    ask_left: Decimal | None
    levels: int = 0
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    step: Decimal = Decimal(0)
    bid_level: int = 0
    ask_level: int = 0

    @classmethod
    def of(cls, quote: Quote) -> QuoteDepth:
        """The depth a fresh quote offers; levels lie one spread (at least a tick) apart."""
        tick = Decimal(1).scaleb(-quote.places) if quote.places is not None else Decimal(0)
        return cls(
            to_stored_precision(quote.timestamp),
            quote.bid_size,
            quote.ask_size,
            levels=quote.levels,
            bid_size=quote.bid_size,
            ask_size=quote.ask_size,
            step=max(quote.ask - quote.bid, tick),
        )

    def left(self, side: Side) -> Decimal | None:
        return self.ask_left if side is Side.BUY else self.bid_left

    def level(self, side: Side) -> int:
        """How many levels beyond the touch this side has been walked."""
        return self.ask_level if side is Side.BUY else self.bid_level

    def take(self, side: Side, quantity: Decimal) -> None:
        if side is Side.BUY and self.ask_left is not None:
            self.ask_left -= quantity
        elif side is Side.SELL and self.bid_left is not None:
            self.bid_left -= quantity

    def can_walk(self, side: Side) -> bool:
        """Whether a deeper level remains on this side once the current one is empty."""
        return self.left(side) is not None and self.level(side) < self.levels

    def available(self, side: Side) -> Decimal:
        """What is left on this side, deeper levels included (a side without sizes: 0)."""
        left, size = self.left(side), self.ask_size if side is Side.BUY else self.bid_size
        if left is None or size is None:
            return Decimal(0)
        return left + size * (self.levels - self.level(side))

    def walk(self, side: Side) -> bool:
        """Moves to the next level when the current one is empty; False when none is left."""
        left = self.left(side)
        if left is None or left > 0 or not self.can_walk(side):
            return False
        if side is Side.BUY:
            self.ask_level, self.ask_left = self.ask_level + 1, self.ask_size
        else:
            self.bid_level, self.bid_left = self.bid_level + 1, self.bid_size
        return True

    def touch(self, side: Side, bid: Decimal, ask: Decimal) -> tuple[Decimal, Decimal]:
        """(bid, ask) at the level this side has reached: a BUY's ask moves up, a SELL's bid
        down (never below one step)."""
        offset = self.step * self.level(side)
        if side is Side.BUY:
            return bid, ask + offset
        return max(bid - offset, self.step), ask

    def walked_ask(self, ask: Decimal, quantity: Decimal) -> Decimal:
        """What a MARKET BUY of `quantity` reserves at on a book: the ask of the deepest level
        it would reach, plus MOVE_ALLOWANCE levels for quotes that may arrive before it matches
        (capped at the book's end), so neither the walk nor a tick up cuts it short. The
        surplus is released when it fills. A quote without a book: the ask, as before."""
        size = self.ask_size
        if size is None or size <= 0 or not self.levels:
            return ask
        deeper = ((quantity - size) / size).to_integral_value(ROUND_CEILING)  # beyond the touch
        return ask + self.step * min(max(int(deeper), 0) + MOVE_ALLOWANCE, self.levels)


def to_stored_precision(timestamp: datetime) -> datetime:
    """The timestamp as BSON keeps it (milliseconds): a quote read back from the store is the
    same quote as the one the feed delivered."""
    return timestamp.replace(microsecond=timestamp.microsecond // 1000 * 1000)


def same_quote(depth: QuoteDepth | None, quote: Quote) -> bool:
    return depth is not None and depth.timestamp == to_stored_precision(quote.timestamp)


def stop_reached(order: Order, bid: Decimal, ask: Decimal) -> bool:
    """A BUY stop triggers when the ask rises to the stop price; a SELL stop when the bid falls."""
    assert order.stop_price is not None
    return ask >= order.stop_price if order.side is Side.BUY else bid <= order.stop_price


def trail_amount(order: Order, mark: Decimal) -> Decimal:
    """The trail in price units: trailPrice, or trailPercent of the mark."""
    if order.trail_price is not None:
        return order.trail_price
    assert order.trail_percent is not None
    return mark * order.trail_percent / 100


def trailing_state(order: Order, bid: Decimal, ask: Decimal) -> tuple[Decimal, bool]:
    """A trailing stop's new mark and whether this quote triggers it. A SELL follows the
    highest bid and triggers when the bid falls to mark - trail; a BUY follows the lowest ask
    and triggers when the ask rises to mark + trail."""
    mark = order.high_water_mark
    if order.side is Side.SELL:
        mark = bid if mark is None else max(mark, bid)
        return mark, bid <= mark - trail_amount(order, mark)
    mark = ask if mark is None else min(mark, ask)
    return mark, ask >= mark + trail_amount(order, mark)


def initial_mark(order: Order, bid: Decimal | None, ask: Decimal | None) -> Decimal | None:
    """Where a trailing stop's mark starts: the bid (SELL) or ask (BUY) when it is placed."""
    return bid if order.side is Side.SELL else ask


def acts_as_limit(order: Order) -> bool:
    return order.type in (OrderType.LIMIT, OrderType.STOP_LIMIT)


def execution_price(
    order: Order, bid: Decimal, ask: Decimal, slippage_bps: Decimal, tick_size: Decimal
) -> Decimal | None:
    """The price a fill gets now, or None when a limit is not crossed.

    BUYs take the ask and SELLs the bid, moved against the trader by the slippage and rounded
    to the tick; a limit order never fills beyond its limit price."""
    is_buy = order.side is Side.BUY
    touch = ask if is_buy else bid
    if acts_as_limit(order):
        assert order.limit_price is not None
        crossed = touch <= order.limit_price if is_buy else touch >= order.limit_price
        if not crossed:
            return None
    factor = 1 + slippage_bps / 10_000 if is_buy else 1 - slippage_bps / 10_000
    price = round_to_step(touch * factor, tick_size, up=is_buy)
    if acts_as_limit(order):
        assert order.limit_price is not None
        price = min(price, order.limit_price) if is_buy else max(price, order.limit_price)
    return price


def affordable_quantity(
    reserved: Decimal, price: Decimal, fee_bps: Decimal, lot_size: Decimal
) -> Decimal:
    """The most lots a BUY's remaining reservation pays for at `price`, fees included."""
    per_unit = price * (1 + fee_bps / 10_000)
    if per_unit <= 0:
        return Decimal(0)
    return round_to_step(reserved / per_unit, lot_size, up=False)


def reservation_price(
    order: Order, ask: Decimal | None, slippage_bps: Decimal, tick_size: Decimal
) -> Decimal | None:
    """The price a BUY reserves cash at: its limit, its stop, or (MARKET) the current ask
    with slippage. None for a MARKET order when there is no quote."""
    if acts_as_limit(order):
        return order.limit_price
    basis = order.stop_price if order.type is OrderType.STOP else ask
    if basis is None:
        return None
    if order.type is OrderType.TRAILING_STOP:  # it triggers at most one trail above the ask
        basis += trail_amount(order, basis)
    return round_to_step(basis * (1 + slippage_bps / 10_000), tick_size, up=True)
