"""CSV exports of a portfolio's positions and orders, with Bearer auth like the GraphQL API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from starlette.requests import Request
from starlette.responses import Response

from tradegraph.auth.tokens import read_access_token
from tradegraph.decimals import plain
from tradegraph.documents import Order, OrderStatus
from tradegraph.errors import NotFound
from tradegraph.schema.context import bearer_token
from tradegraph.services import Services
from tradegraph.trading.portfolios import readable_portfolio
from tradegraph.trading.valuation import value_portfolio
from tradegraph.web.responses import error_response

POSITION_COLUMNS = [
    "symbol",
    "asset_class",
    "quantity",
    "average_cost",
    "market_price",
    "market_value",
    "unrealized_pnl",
    "realized_pnl",
]
ORDER_COLUMNS = [
    "id",
    "client_order_id",
    "created_at",
    "updated_at",
    "symbol",
    "side",
    "type",
    "time_in_force",
    "status",
    "quantity",
    "filled_quantity",
    "average_fill_price",
    "limit_price",
    "stop_price",
    "reject_reason",
]


def _text(value: object) -> str:
    if value is None:
        return ""
    if hasattr(value, "as_tuple"):
        return plain(value)  # type: ignore[arg-type]
    if hasattr(value, "isoformat"):
        return value.isoformat()  # type: ignore[union-attr]
    return str(value)


def _csv(columns: Sequence[str], rows: Iterable[Sequence[object]], filename: str) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([_text(cell) for cell in row] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def export_portfolio(request: Request) -> Response:
    """GET /exports/portfolios/{id}/positions.csv and /orders.csv."""
    services: Services = request.app.state.services
    token = bearer_token(request.headers.get("authorization"))
    principal = read_access_token(token, services.settings.effective_jwt_secret) if token else None
    if principal is None:
        response = error_response(
            401, "UNAUTHENTICATED", "send Authorization: Bearer <accessToken> (valid, not expired)"
        )
        response.headers["www-authenticate"] = "Bearer"
        return response
    portfolio_id, kind = request.path_params["portfolio_id"], request.path_params["kind"]
    if kind not in ("positions", "orders"):
        return error_response(404, "NOT_FOUND", "exports are positions.csv and orders.csv")
    try:
        portfolio = await readable_portfolio(principal, portfolio_id)
    except NotFound as error:
        return error_response(404, "NOT_FOUND", error.message)
    if kind == "positions":
        value = await value_portfolio(portfolio, services.market)
        rows = [
            [
                p.symbol,
                p.asset_class,
                p.quantity,
                p.average_cost,
                p.market_price,
                p.market_value,
                p.unrealized_pnl,
                p.realized_pnl,
            ]
            for p in value.positions
        ]
        return _csv(POSITION_COLUMNS, rows, f"portfolio-{portfolio_id}-positions.csv")
    orders = Order.find(
        {"portfolio_id": portfolio.id, "status": {"$ne": OrderStatus.PENDING_NEW.value}}
    )
    rows = []
    async for o in orders.sort([("created_at", -1), ("_id", -1)]):
        average = o.filled_notional / o.filled_quantity if o.filled_quantity else None
        rows.append(
            [
                o.id,
                o.client_order_id,
                o.created_at,
                o.updated_at,
                o.symbol,
                o.side.value,
                o.type.value,
                o.time_in_force.value,
                o.status.value,
                o.quantity,
                o.filled_quantity,
                average,
                o.limit_price,
                o.stop_price,
                o.reject_reason,
            ]
        )
    return _csv(ORDER_COLUMNS, rows, f"portfolio-{portfolio_id}-orders.csv")
