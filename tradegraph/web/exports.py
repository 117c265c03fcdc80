"""CSV exports of a portfolio's positions and orders, with Bearer auth like the GraphQL API."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal

from starlette.requests import Request
from starlette.responses import Response

from tradegraph.auth.tokens import read_access_token
from tradegraph.decimals import plain
from tradegraph.documents import Order
from tradegraph.errors import NotFound
from tradegraph.schema.context import bearer_token
from tradegraph.services import Services
from tradegraph.trading.order_listing import ORDER_SORT, OrderQuery
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
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # StrEnum members print their value


def _csv(columns: Sequence[str], rows: Iterable[object], filename: str) -> Response:
    """One row per object, one column per attribute named in `columns`."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([_text(getattr(row, column)) for column in columns] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


async def export_portfolio(request: Request) -> Response:
    """GET /exports/portfolios/{id}/positions.csv and /orders.csv."""
    services: Services = request.app.state.services
    token = bearer_token(request.headers.get("authorization"))
    claims = read_access_token(token, services.settings.effective_jwt_secret) if token else None
    # The stored role, not the token's: a deleted account or a withdrawn role stops here too.
    principal = await services.accounts.current_principal(claims.user_id) if claims else None
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
        return _csv(POSITION_COLUMNS, value.positions, f"portfolio-{portfolio_id}-positions.csv")
    orders = await Order.find(OrderQuery().to_mongo(portfolio.id)).sort(ORDER_SORT).to_list()
    return _csv(ORDER_COLUMNS, orders, f"portfolio-{portfolio_id}-orders.csv")
