"""Paper trading: portfolios, orders, matching against quotes, settlement, valuation."""
