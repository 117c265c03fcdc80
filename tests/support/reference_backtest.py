"""A straightforward bar-by-bar backtest of the documented rules, written independently of
tradegraph/analytics: the reference for tests and the baseline of the backtest benchmark."""

from __future__ import annotations

import pandas as pd

from tests.support import reference_indicators as ind


def _flags(kind: str, closes: list[float], params: dict) -> tuple[list[bool], list[bool]]:
    n = len(closes)
    if kind in ("SMA_CROSSOVER", "MACD_SIGNAL"):
        if kind == "SMA_CROSSOVER":
            series = pd.Series(closes)
            a = series.rolling(params["fast"]).mean().tolist()
            b = series.rolling(params["slow"]).mean().tolist()
        else:
            rows = ind.macd(closes, params["fast"], params["slow"], params["period"])
            a = [None if r is None else r[0] for r in rows]
            b = [None if r is None else r[1] for r in rows]

        def ok(i: int) -> bool:
            return all(v is not None and v == v for v in (a[i - 1], b[i - 1], a[i], b[i]))

        up = [i > 0 and ok(i) and a[i - 1] <= b[i - 1] and a[i] > b[i] for i in range(n)]
        down = [i > 0 and ok(i) and a[i - 1] >= b[i - 1] and a[i] < b[i] for i in range(n)]
        return up, down
    if kind == "RSI_REVERSION":
        values = ind.rsi(closes, params["period"])
        return (
            [v is not None and v < params["lower"] for v in values],
            [v is not None and v > params["upper"] for v in values],
        )
    bands = ind.bollinger(closes, params["period"], 2.0)
    return (
        [b is not None and c < b[2] for b, c in zip(bands, closes, strict=True)],
        [b is not None and c >= b[1] for b, c in zip(bands, closes, strict=True)],
    )


def backtest(
    frame: pd.DataFrame, kind: str, params: dict, initial_cash: float, fee_bps: float
) -> tuple[list[dict], list[float]]:
    """(trades, equity at each close) for a frame with columns time, open, close."""
    fee = fee_bps / 10_000
    closes = frame["close"].tolist()
    entry, exit_ = _flags(kind, closes, params)
    stop, take = params.get("stopLossPct"), params.get("takeProfitPct")
    cash, quantity, pending, trades, equity = initial_cash, 0.0, None, [], []
    open_trade: dict = {}
    n = len(frame)
    for i, row in enumerate(frame.itertuples(index=False)):
        if pending == "buy":
            quantity = cash / (row.open * (1 + fee))
            open_trade = {"entry_time": row.time, "entry_price": row.open, "spent": cash}
            cash = 0.0
        elif pending == "sell":
            cash = quantity * row.open * (1 - fee)
            trades.append(
                {
                    **open_trade,
                    "exit_time": row.time,
                    "exit_price": row.open,
                    "pnl": cash - open_trade["spent"],
                }
            )
            quantity = 0.0
        pending = None
        if i < n - 1:
            if quantity == 0 and entry[i]:
                pending = "buy"
            elif quantity > 0:
                price = open_trade["entry_price"]
                stopped = stop is not None and row.close <= price * (1 - stop / 100)
                taken = take is not None and row.close >= price * (1 + take / 100)
                if exit_[i] or stopped or taken:
                    pending = "sell"
        equity.append(quantity * row.close if quantity > 0 else cash)
    if quantity > 0:
        last = frame.iloc[-1]
        cash = quantity * last["close"] * (1 - fee)
        trades.append(
            {
                **open_trade,
                "exit_time": last["time"],
                "exit_price": last["close"],
                "pnl": cash - open_trade["spent"],
                "closed_at_end": True,
            }
        )
        equity[-1] = cash
    return trades, equity
