"""Market data: instruments, quotes, candles and the feeds that produce quotes."""
