"""Channel names on the broker. Every process publishing or listening uses these."""

EVENTS_CREATED = "tradegraph.events.created"
QUOTES_PREFIX = "tradegraph.quotes."
ORDERS_PREFIX = "tradegraph.orders."
PORTFOLIOS_PREFIX = "tradegraph.portfolios."


def quote_channel(symbol: str) -> str:
    return QUOTES_PREFIX + symbol


def order_channel(portfolio_id: str) -> str:
    """Every status change and fill of the portfolio's orders."""
    return ORDERS_PREFIX + portfolio_id


def portfolio_channel(portfolio_id: str) -> str:
    """A hint that cash or positions changed; listeners read the new state from the store."""
    return PORTFOLIOS_PREFIX + portfolio_id


def backtest_channel(run_id: str) -> str:
    """Status and progress of one backtest run."""
    return "tradegraph.backtests." + run_id


INSIGHTS_CREATED = "tradegraph.insights.created"
