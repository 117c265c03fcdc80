"""Day P&L end to end: previous close from the ticks before the session started, today's
trades counted at their prices, and portfolioValue messages carrying dayPnl."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.support.clients import GraphQLClient, connected
from tests.support.trading import create_instrument, dec, funded_portfolio, place, publish_quote
from tradegraph.server import RunningServer

DAY = """query($id: ID!) {
  portfolio(id: $id) { equity dayPnl dayPnlPercent
    positions { symbol quantity marketPrice previousClose changeToday } }
}"""
VALUE = """subscription($id: ID!) { portfolioValue(portfolioId: $id) { equity dayPnl } }"""


def last_session_close(now: datetime) -> datetime:
    """17:00 in São Paulo (PETR4's session close), at or before now."""
    zone = ZoneInfo("America/Sao_Paulo")
    local = now.astimezone(zone)
    close = local.replace(hour=17, minute=0, second=0, microsecond=0)
    if close > local:
        close -= timedelta(days=1)
    return close.astimezone(UTC)


async def test_day_pnl_counts_from_the_previous_close_and_today_trades_at_their_price(
    gql: GraphQLClient, admin_token: str, trader: dict, server: RunningServer
) -> None:
    token = trader["accessToken"]
    await create_instrument(gql, admin_token)
    pid = await funded_portfolio(gql, token, "1000")
    start = last_session_close(datetime.now(UTC))
    before = (start - timedelta(minutes=30)).isoformat()
    after = (start + timedelta(seconds=1)).isoformat()
    await publish_quote(gql, admin_token, bid="9.90", ask="10.10", timestamp=before)  # mid 10
    await publish_quote(gql, admin_token, bid="12.00", ask="12.00", timestamp=after)  # not it
    await publish_quote(gql, admin_token, bid="10.50", ask="10.50")
    await place(gql, token, pid, "BUY", "10")  # today, at 10.50

    await publish_quote(gql, admin_token, bid="10.90", ask="11.10")  # mid 11
    state = (await gql.data(DAY, {"id": pid}, token))["portfolio"]
    (position,) = state["positions"]
    assert dec(position["previousClose"]) == 10
    assert dec(position["changeToday"]) == dec("0.1")
    assert dec(state["dayPnl"]) == 10 * 11 - 105  # bought today: measured from its price
    # In percent, like Quote.changePercent (issue 25: one unit for every percent).
    percent = (100 * dec(5) / (dec(state["equity"]) - 5)).quantize(dec("0.01"))
    assert dec(state["dayPnlPercent"]) == percent

    await place(gql, token, pid, "SELL", "4")  # at the bid, 10.90
    state = (await gql.data(DAY, {"id": pid}, token))["portfolio"]
    assert dec(state["dayPnl"]) == 6 * 11 - 105 + 4 * dec("10.90")

    client = await connected(server.url, token)
    await client.subscribe("value", VALUE, {"id": pid})
    message = (await client.receive())["payload"]["data"]["portfolioValue"]
    assert dec(message["dayPnl"]) == dec(state["dayPnl"])
    await client.close()
