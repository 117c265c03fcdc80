// The GraphQL documents the widgets send. Equal attributes give the same document and the same
// variables, so the server runs one shared execution for every page showing the same symbols.

export const QUOTES = `subscription TgQuotes($symbols: [String!]!) {
  quotes(symbols: $symbols) { symbol last change changePercent high low timestamp }
}`;

export const CANDLES = `subscription TgCandles($symbol: String!, $interval: CandleInterval!) {
  candles(symbol: $symbol, interval: $interval) { start close }
}`;

export const HISTORY = `query TgHistory($symbol: String!, $interval: CandleInterval!, $from: DateTime!) {
  candles(symbol: $symbol, interval: $interval, from: $from) { start close }
}`;

export interface Quote {
  symbol: string;
  last: string;
  change: string | null;
  changePercent: string | null;
  high: string | null;
  low: string | null;
  timestamp: string;
}

export interface Bar {
  start: string;
  close: string;
}

export const INTERVALS: Record<string, { name: string; seconds: number }> = {
  "1m": { name: "ONE_MINUTE", seconds: 60 },
  "5m": { name: "FIVE_MINUTES", seconds: 300 },
  "1h": { name: "ONE_HOUR", seconds: 3600 },
  "1d": { name: "ONE_DAY", seconds: 86400 },
};

/** "petr4, vale3,PETR4" -> ["PETR4", "VALE3"]: upper case, each once, in order. */
export function symbolList(text: string | null): string[] {
  const names = (text ?? "").split(",").map((s) => s.trim().toUpperCase()).filter(Boolean);
  return [...new Set(names)].slice(0, 100);
}

/** Bars since `count` intervals ago, for the history query. */
export function since(intervalSeconds: number, count: number): string {
  const now = Math.floor(Date.now() / 1000 / intervalSeconds) * intervalSeconds;
  return new Date((now - intervalSeconds * (count - 1)) * 1000).toISOString();
}
