"""Independent reference implementations: plain Python loops written from the definitions,
sharing nothing with tradegraph/analytics."""

from __future__ import annotations

import math
from itertools import pairwise


def sma(closes: list[float], n: int) -> list[float | None]:
    return [None if i < n - 1 else sum(closes[i - n + 1 : i + 1]) / n for i in range(len(closes))]


def ema(closes: list[float], n: int) -> list[float | None]:
    alpha = 2 / (n + 1)
    out: list[float | None] = []
    previous = 0.0
    for i, close in enumerate(closes):
        if i < n - 1:
            out.append(None)
            continue
        previous = sum(closes[:n]) / n if i == n - 1 else alpha * close + (1 - alpha) * previous
        out.append(previous)
    return out


def rsi(closes: list[float], n: int) -> list[float | None]:
    out: list[float | None] = [None] * len(closes)
    gains = [max(b - a, 0.0) for a, b in pairwise(closes)]
    losses = [max(a - b, 0.0) for a, b in pairwise(closes)]
    if len(gains) < n:
        return out
    avg_gain, avg_loss = sum(gains[:n]) / n, sum(losses[:n]) / n
    for i in range(n, len(closes)):
        if i > n:
            avg_gain = (avg_gain * (n - 1) + gains[i - 1]) / n
            avg_loss = (avg_loss * (n - 1) + losses[i - 1]) / n
        out[i] = 100.0 if avg_loss == 0 else 100 - 100 / (1 + avg_gain / avg_loss)
    return out


def macd(
    closes: list[float], fast: int, slow: int, signal: int
) -> list[tuple[float, float, float] | None]:
    line = [
        None if f is None or s is None else f - s
        for f, s in zip(ema(closes, fast), ema(closes, slow), strict=True)
    ]
    defined = [v for v in line if v is not None]
    signals = ema(defined, signal)
    out: list[tuple[float, float, float] | None] = [None] * (len(line) - len(defined))
    for value, sig in zip(defined, signals, strict=True):
        out.append(None if sig is None else (value, sig, value - sig))
    return out


def bollinger(closes: list[float], n: int, k: float) -> list[tuple[float, float, float] | None]:
    out: list[tuple[float, float, float] | None] = []
    for i in range(len(closes)):
        if i < n - 1:
            out.append(None)
            continue
        window = closes[i - n + 1 : i + 1]
        mean = sum(window) / n
        std = math.sqrt(sum((x - mean) ** 2 for x in window) / n)
        out.append((mean + k * std, mean, mean - k * std))
    return out
