"""Analytics: technical indicators, backtests and portfolio risk (numpy/pandas, no GraphQL)."""
