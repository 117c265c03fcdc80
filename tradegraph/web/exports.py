"""CSV exports of a portfolio's positions and orders, with Bearer auth like the GraphQL API or a
signed link from the `exportUrl` query."""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tradegraph.auth.export_links import ExportLinks
from tradegraph.auth.tokens import read_bearer
from tradegraph.decimals import Scales, plain
from tradegraph.errors import NotAuthenticated, NotFound
from tradegraph.services import Services

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


# Shown at the same scale as the GraphQL fields: prices at the tick decimals (a mid one more),
# amounts of money at the currency's decimals.
PRICE_COLUMNS = {  # column -> decimals beyond the tick's
    "average_cost": 0,
    "market_price": 1,
    "average_fill_price": 0,
    "limit_price": 0,
    "stop_price": 0,
}
CASH_COLUMNS = frozenset({"market_value", "unrealized_pnl", "realized_pnl"})

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[-+]?[0-9]+(?:\.[0-9]+)?")


EXPORT_TOKEN = re.compile(r"([?&]token=)[^&\s\"]*")
ACCESS_LOGGER = "uvicorn.access"


class RedactedExportTokens(logging.Filter):
    """Keeps export tokens out of the access log: `?token=<jwt>` is logged `?token=[redacted]`
    (a link works for a minute, but logs are kept and read for much longer)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                EXPORT_TOKEN.sub(r"\1[redacted]", arg) if isinstance(arg, str) else arg
                for arg in record.args
            )
        if isinstance(record.msg, str):
            record.msg = EXPORT_TOKEN.sub(r"\1[redacted]", record.msg)
        return True


def redact_export_tokens_in_access_log() -> None:
    """Installs RedactedExportTokens on uvicorn's access logger, once per process."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactedExportTokens) for f in access.filters):
        access.addFilter(RedactedExportTokens())


def _text(value: object) -> str:
    """A cell's text, safe to open in a spreadsheet (CSV formula injection, OWASP).

    Text starting with =, +, -, @, tab or CR (a client_order_id such as '=HYPERLINK(…)') is
    prefixed with ' so it shows as text instead of running as a formula. Numbers are left
    alone: a plain decimal such as a realized P&L of -12.50 cannot be a formula, and a
    spreadsheet user expects it to stay a number."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, datetime):
        return value.isoformat()
    text = str(value)  # StrEnum members print their value
    if text.startswith(FORMULA_STARTS) and PLAIN_NUMBER.fullmatch(text) is None:
        return "'" + text
    return text


def _cell(row: object, column: str, scales: Scales) -> str:
    value = getattr(row, column)
    if isinstance(value, Decimal) and column in PRICE_COLUMNS:
        value = scales.price(value, extra=PRICE_COLUMNS[column])
    elif isinstance(value, Decimal) and column in CASH_COLUMNS:
        value = scales.cash(value)
    return _text(value)


async def _csv(
    services: Services, columns: Sequence[str], rows: Sequence[Any], filename: str
) -> Response:
    """One row per object (each with a `symbol`), one column per attribute in `columns`."""
    symbols = sorted({row.symbol for row in rows})
    instruments = dict(zip(symbols, await services.instruments.by_symbols(symbols), strict=True))
    scales = {
        symbol: Scales.of(None, None)
        if instrument is None
        else Scales.of(instrument.tick_size, instrument.currency)
        for symbol, instrument in instruments.items()
    }
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    writer.writerows([_cell(row, column, scales[row.symbol]) for column in columns] for row in rows)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{filename}"'},
    )


def _requesting_user(request: Request, services: Services) -> str | None:
    """Who asks: the Bearer token's user, else the user of a `?token=` from exportUrl that was
    issued for exactly this file."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        claims = read_bearer(authorization, services.settings.effective_jwt_secret)
        return claims.user_id if claims else None
    token = request.query_params.get("token")
    if token is None:
        return None
    links = ExportLinks.from_settings(services.settings)
    return links.user_for(token, request.path_params["portfolio_id"], request.path_params["kind"])


async def export_portfolio(request: Request) -> Response:
    """GET /exports/portfolios/{id}/positions.csv and /orders.csv, with Bearer auth like the
    GraphQL API or `?token=` from exportUrl; a portfolio you may not read is NOT_FOUND."""
    services: Services = request.app.state.services
    user_id = _requesting_user(request, services)
    # The stored role, not the token's: a deleted account or a withdrawn role stops here too.
    principal = await services.accounts.current_principal(user_id) if user_id else None
    if principal is None:
        raise NotAuthenticated(
            "send Authorization: Bearer <accessToken> (valid, not expired), or use a link from "
            "exportUrl within 60 s"
        )
    portfolio_id, kind = request.path_params["portfolio_id"], request.path_params["kind"]
    if kind not in ("positions", "orders"):
        raise NotFound("exports are positions.csv and orders.csv")
    portfolio = await services.portfolios.readable(principal, portfolio_id)
    filename = f"portfolio-{portfolio_id}-{kind}.csv"
    if kind == "positions":
        value = await services.portfolios.value(portfolio)
        return await _csv(services, POSITION_COLUMNS, value.positions, filename)
    return await _csv(services, ORDER_COLUMNS, await services.orders.all_of(portfolio), filename)
