"""Close-outs: selling a position (whole, a quantity or a percentage), closing every position,
cancelling every open order. Each sale is an ordinary MARKET SELL through OrdersService.place,
so it reserves, matches and settles like any other order."""

from __future__ import annotations

from decimal import Decimal

from tradegraph.auth.principal import Principal
from tradegraph.decimals import plain, round_to_step
from tradegraph.documents import Order, OrderStatus, OrderType, Position, Side
from tradegraph.errors import AlreadyExists, InvalidInput, NotFound
from tradegraph.markets.instruments import normalise_symbol
from tradegraph.trading.order_rules import OrderRequest
from tradegraph.trading.orders import OrdersService
from tradegraph.trading.portfolios import writable_portfolio

CANCELLABLE = [OrderStatus.NEW.value, OrderStatus.PARTIALLY_FILLED.value, OrderStatus.HELD.value]


def close_quantity(
    held: Decimal, lot_size: Decimal, quantity: Decimal | None, percentage: Decimal | None
) -> Decimal:
    """How much closePosition sells: `quantity`, `percentage` of what is held (rounded down to
    the lot size), or everything; BAD_USER_INPUT when both are given or the result is empty."""
    if quantity is not None and percentage is not None:
        raise InvalidInput("give quantity or percentage, not both", field="percentage")
    if percentage is not None:
        if not 0 < percentage <= 100:
            raise InvalidInput("percentage must be above 0 and at most 100", field="percentage")
        quantity = round_to_step(held * percentage / 100, lot_size, up=False)
        if quantity <= 0:
            raise InvalidInput(
                f"{plain(percentage)}% of {plain(held)} is less than one lot", field="percentage"
            )
    if quantity is None:
        return held
    if quantity <= 0:
        raise InvalidInput("quantity must be greater than 0", field="quantity")
    if quantity > held:
        raise InvalidInput(
            f"quantity {plain(quantity)} is more than the {plain(held)} held", field="quantity"
        )
    return quantity


class CloseOuts:
    def __init__(self, orders: OrdersService) -> None:
        self.orders = orders

    async def close_position(
        self,
        principal: Principal,
        portfolio_id: str,
        symbol: str,
        quantity: Decimal | None = None,
        percentage: Decimal | None = None,
    ) -> Order:
        """A MARKET SELL of the position (or part of it)."""
        portfolio = await writable_portfolio(principal, portfolio_id)
        symbol = normalise_symbol(symbol)
        position = await Position.find_one(
            Position.portfolio_id == portfolio.id, Position.symbol == symbol
        )
        if position is None or position.quantity <= 0:
            raise NotFound(f"no open position in {symbol}", symbol=symbol)
        instrument = await self.orders.instruments.require(symbol)
        amount = close_quantity(position.quantity, instrument.lot_size, quantity, percentage)
        return await self._sell(principal, str(portfolio.id), symbol, amount)

    async def close_all(
        self, principal: Principal, portfolio_id: str, cancel_orders: bool = True
    ) -> list[Order]:
        """Cancels open orders first (unless told not to), then sells every position's
        available quantity at market; returns the SELL orders."""
        portfolio = await writable_portfolio(principal, portfolio_id)
        if cancel_orders:
            await self.cancel_all(principal, portfolio_id)
        positions = Position.find(Position.portfolio_id == portfolio.id)
        sold = []
        async for position in positions.sort("symbol"):
            if position.quantity > 0 and position.available > 0:
                sold.append(
                    await self._sell(principal, portfolio_id, position.symbol, position.available)
                )
        return sold

    async def cancel_all(self, principal: Principal, portfolio_id: str) -> list[Order]:
        """Cancels every open or held order of the portfolio; returns them cancelled."""
        portfolio = await writable_portfolio(principal, portfolio_id)
        query = Order.find({"portfolio_id": portfolio.id, "status": {"$in": CANCELLABLE}})
        found = await query.sort("created_at", "_id").to_list()
        for order in found:
            try:
                await self.orders.cancel(principal, str(order.id))
            except AlreadyExists:
                continue  # filled or cancelled meanwhile (a leg with its entry, say)
        ids = [order.id for order in found]
        ended = await Order.find(
            {"_id": {"$in": ids}, "status": OrderStatus.CANCELED.value}
        ).to_list()
        by_id = {order.id: order for order in ended}
        return [by_id[i] for i in ids if i in by_id]  # legs cancelled with their entry too

    async def _sell(
        self, principal: Principal, portfolio_id: str, symbol: str, quantity: Decimal
    ) -> Order:
        request = OrderRequest(
            portfolio_id=portfolio_id,
            symbol=symbol,
            side=Side.SELL,
            type=OrderType.MARKET,
            quantity=quantity,
        )
        return await self.orders.place(principal, request)
