"""Channel names on the broker. Every process publishing or listening uses these."""

EVENTS_CREATED = "tradegraph.events.created"
QUOTES_PREFIX = "tradegraph.quotes."
ORDERS_PREFIX = "tradegraph.orders."
PORTFOLIOS_PREFIX = "tradegraph.portfolios."
BACKTESTS_PREFIX = "tradegraph.backtests."
OPTIMIZATIONS_PREFIX = "tradegraph.optimizations."
ORDER_EVENTS_PREFIX = "tradegraph.orderevents."


def quote_channel(symbol: str) -> str:
    return QUOTES_PREFIX + symbol


def order_channel(portfolio_id: str) -> str:
    """Every status change and fill of the portfolio's orders."""
    return ORDERS_PREFIX + portfolio_id


def order_events_channel(portfolio_id: str) -> str:
    """The portfolio's order events, each with its cursor (orderEvents)."""
    return ORDER_EVENTS_PREFIX + portfolio_id


def portfolio_channel(portfolio_id: str) -> str:
    """A hint that cash or positions changed; listeners read the new state from the store."""
    return PORTFOLIOS_PREFIX + portfolio_id


def backtest_channel(run_id: str) -> str:
    """Status and progress of one backtest run."""
    return BACKTESTS_PREFIX + run_id


def optimization_channel(optimization_id: str) -> str:
    """Status and progress of one parameter optimisation."""
    return OPTIMIZATIONS_PREFIX + optimization_id


INSIGHTS_CREATED = "tradegraph.insights.created"
WIDGET_KEYS_REVOKED = "tradegraph.widgetkeys.revoked"  # ids of revoked keys, to every process
# The families of channels above, by the word after "tradegraph.": a bounded set of names that
# reveals no symbol, portfolio or run id (metrics are labelled with these).
CHANNEL_KINDS = (
    "events",
    "quotes",
    "orders",
    "orderevents",
    "portfolios",
    "backtests",
    "optimizations",
    "insights",
    "widgetkeys",
)
OTHER_KIND = "other"


def channel_kind(channel: str) -> str:
    """The family of `channel` ("quotes" for tradegraph.quotes.PETR4), or "other"."""
    namespace, _, rest = channel.partition(".")
    kind = rest.partition(".")[0]
    return kind if namespace == "tradegraph" and kind in CHANNEL_KINDS else OTHER_KIND
