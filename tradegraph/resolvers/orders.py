"""Resolvers for orders: placing, cancelling, listing and the live updates."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from decimal import Decimal
from functools import partial

from strawberry import ID

from tradegraph.schema.core.context import Info
from tradegraph.schema.orders import (
    Order,
    OrderConnection,
    OrderEvent,
    OrderFilter,
    PlaceOrderInput,
    ReplaceOrderInput,
)
from tradegraph.sequences import parse_cursor
from tradegraph.subscriptions.orders import order_events as live_order_events
from tradegraph.subscriptions.orders import order_updates as live_order_updates
from tradegraph.trading.order_listing import OrderQuery

DEFAULT_PAGE_SIZE = 20


async def place_order(info: Info, input: PlaceOrderInput) -> Order:
    """Places an order in your portfolio. Checks, in order: the portfolio is yours
    (NOT_FOUND/FORBIDDEN), the symbol exists (NOT_FOUND), the order is well formed
    (BAD_USER_INPUT: quantity > 0 and a multiple of the lot size, prices on the tick size,
    limitPrice for LIMIT/STOP_LIMIT, stopPrice for STOP/STOP_LIMIT, instrument currency =
    portfolio currency), then risk: a BUY reserves notional plus fees from available cash
    (INSUFFICIENT_FUNDS), a SELL reserves quantity from the position (INSUFFICIENT_POSITION).
    A refused order leaves nothing behind. A clientOrderId used before in the portfolio returns
    that order and trades nothing; with other parameters it is a CONFLICT naming the fields
    that differ. A MARKET order without any quote is stored REJECTED.
    TRAILING_STOP needs exactly one of trailPrice / trailPercent (BAD_USER_INPUT otherwise).
    orderClass BRACKET (takeProfit and stopLoss) and OTO (one of them) store the exits HELD in
    `legs`; the entry's fill activates them (BRACKET: as an OCO pair) for the quantity filled.
    OCO: this order is the take-profit LIMIT and its leg the stop-loss; the first to fill, even
    partly, cancels the other. Exit prices must lie on the right side (a BUY entry's
    take-profit above its stop-loss and its limit price): BAD_USER_INPUT."""
    order = await info.context.services.order_classes.place(
        info.context.require_principal(), input.to_request(), input.to_exits()
    )
    return Order.from_document(order)


async def cancel_order(info: Info, id: ID) -> Order:
    """Cancels an open order and releases what it reserved. A finished order: CONFLICT."""
    order = await info.context.services.orders.cancel(info.context.require_principal(), str(id))
    return Order.from_document(order)


async def order(info: Info, id: ID) -> Order:
    """One order of a portfolio you may read; otherwise NOT_FOUND."""
    found = await info.context.services.orders.get(info.context.require_principal(), str(id))
    return Order.from_document(found)


async def orders(
    info: Info,
    portfolio_id: ID,
    filter: OrderFilter | None = None,
    first: int = DEFAULT_PAGE_SIZE,
    after: str | None = None,
) -> OrderConnection:
    """A portfolio's orders, newest first; `first` at most 500, `after: endCursor` for more."""
    portfolio = await info.context.readable_portfolio(str(portfolio_id))
    service = info.context.services.orders
    query = filter.to_query() if filter else OrderQuery()
    page = await service.page(portfolio, query, first, after)
    return OrderConnection.from_page(
        page, Order.from_document, partial(service.count, portfolio, query)
    )


async def order_updates(info: Info, portfolio_id: ID) -> AsyncGenerator[Order, None]:
    """Every status change and fill of the portfolio's orders, from any server process.
    Same visibility as `portfolio`."""
    portfolio = await info.context.readable_portfolio(str(portfolio_id))
    async for updated in live_order_updates(info.context.services.broker, str(portfolio.id)):
        yield Order.from_document(updated)


async def replace_order(info: Info, id: ID, input: ReplaceOrderInput) -> Order:
    """Replaces an open order (NEW or PARTIALLY_FILLED; otherwise CONFLICT) with a new one:
    omitted fields keep their value, `quantity` is the new total and may not be below what has
    filled (BAD_USER_INPUT). The old order becomes REPLACED (`replacedBy`), the new one
    (`replaces`) takes over its reservation atomically, reserving the difference if it needs
    more (INSUFFICIENT_FUNDS / INSUFFICIENT_POSITION; then nothing changes) and returning any
    surplus. Once this answers, the old order fills no more. The owner only (staff: FORBIDDEN)."""
    replaced = await info.context.services.replacements.replace(
        info.context.require_principal(), str(id), input.to_request()
    )
    return Order.from_document(replaced)


async def close_position(
    info: Info,
    portfolio_id: ID,
    symbol: str,
    quantity: Decimal | None = None,
    percentage: Decimal | None = None,
) -> Order:
    """Sells the position at market: `quantity`, `percentage` of it (rounded down to the lot
    size) or, with neither, all of it. Both, more than held, or not a lot: BAD_USER_INPUT; no
    position: NOT_FOUND; shares promised to open SELL orders: INSUFFICIENT_POSITION."""
    order = await info.context.services.closeouts.close_position(
        info.context.require_principal(), str(portfolio_id), symbol, quantity, percentage
    )
    return Order.from_document(order)


async def close_all_positions(
    info: Info, portfolio_id: ID, cancel_orders: bool = True
) -> list[Order]:
    """Cancels every open order first (unless cancelOrders is false), then sells every
    position's available quantity at market. Returns the SELL orders."""
    orders = await info.context.services.closeouts.close_all(
        info.context.require_principal(), str(portfolio_id), cancel_orders
    )
    return [Order.from_document(o) for o in orders]


async def cancel_all_orders(info: Info, portfolio_id: ID) -> list[Order]:
    """Cancels every NEW, PARTIALLY_FILLED and HELD order of the portfolio and releases what
    they reserved. Returns the cancelled orders."""
    orders = await info.context.services.closeouts.cancel_all(
        info.context.require_principal(), str(portfolio_id)
    )
    return [Order.from_document(o) for o in orders]


async def order_events(
    info: Info, portfolio_id: ID, after: str | None = None
) -> AsyncGenerator[OrderEvent, None]:
    """One message per order change (NEW, PARTIAL_FILL, FILL, CANCELED, EXPIRED, REJECTED,
    REPLACED), each with a `cursor`. Given `after` (a cursor received before), first every
    event stored after it, in order, then live ones: a client that reconnects misses nothing
    and sees nothing twice, whichever server process it reaches and even if the broker lost
    messages meanwhile. Without `after`: live only. Same visibility as `portfolio`. A cursor
    more than TRADEGRAPH_FEED_MAX_REPLAY events behind is refused (BAD_USER_INPUT)."""
    portfolio = await info.context.readable_portfolio(str(portfolio_id))
    start = parse_cursor(after)
    settings = info.context.services.settings
    assert portfolio.id is not None  # stored
    feed = live_order_events(
        info.context.services.broker,
        info.context.services.feed_watch,
        portfolio.id,
        start,
        settings.feed_gap_grace_seconds,
        settings.feed_max_replay,
    )
    async for record in feed:
        yield OrderEvent.from_record(record)
