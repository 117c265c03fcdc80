// The instrument catalogue and the latest quote of every symbol some widget shows: a snapshot
// from the `quotes` query at once, then the `quotes` subscription (one, for the union of the
// symbols wanted; re-subscribed when that set changes).
import type { Api } from "./api";
import type { Instrument } from "./state";

export interface Quote {
  symbol: string;
  bid: string;
  ask: string;
  mid: string;
  last: string;
  bidSize: string | null;
  askSize: string | null;
  changePercent: string | null;
  volume: string;
  timestamp: string;
}

const FIELDS = "symbol bid ask mid last bidSize askSize changePercent volume timestamp";
const SNAPSHOT = `query($symbols: [String!]!) { quotes(symbols: $symbols) { ${FIELDS} } }`;
const LIVE = `subscription($symbols: [String!]!) { quotes(symbols: $symbols) { ${FIELDS} } }`;
const INSTRUMENTS = "{ instruments { symbol name assetClass currency tickSize lotSize } }";
export const MAX_SYMBOLS = 100; // the API's bound per quotes request

type Listener = (quote: Quote) => void;

export class Market {
  readonly instruments = new Map<string, Instrument>();
  readonly quotes = new Map<string, Quote>();
  private readonly wanted = new Map<string, Set<string>>(); // owner → symbols
  private readonly listeners: Listener[] = [];
  private subscribed = "";
  private stop: (() => void) | null = null;
  onError: (error: unknown) => void = () => {};

  constructor(private readonly api: Api) {}

  async load(): Promise<Instrument[]> {
    const { instruments } = await this.api.query<{ instruments: Instrument[] }>(INSTRUMENTS);
    this.instruments.clear();
    for (const instrument of instruments) this.instruments.set(instrument.symbol, instrument);
    return instruments;
  }

  instrument(symbol: string): Instrument | undefined {
    return this.instruments.get(symbol);
  }

  onQuote(listener: Listener): void {
    this.listeners.push(listener);
  }

  /** `owner` (a widget) wants quotes of `symbols`; replaces what it wanted before. */
  want(owner: string, symbols: Iterable<string>): void {
    this.wanted.set(owner, new Set(symbols));
    const union = [...new Set([...this.wanted.values()].flatMap((set) => [...set]))]
      .filter((symbol) => this.instruments.has(symbol))
      .sort()
      .slice(0, MAX_SYMBOLS);
    const key = union.join(",");
    if (key === this.subscribed) return;
    this.subscribed = key;
    this.stop?.();
    this.stop = null;
    if (!union.length) return; // the API refuses an empty list
    const fresh = union.filter((symbol) => !this.quotes.has(symbol));
    if (fresh.length) {
      void this.api
        .query<{ quotes: Quote[] }>(SNAPSHOT, { symbols: fresh })
        .then(({ quotes }) => quotes.forEach((quote) => this.receive(quote)))
        .catch((error: unknown) => this.onError(error));
    }
    this.stop = this.api.subscribe<{ quotes: Quote }>(
      LIVE,
      { symbols: union },
      ({ quotes }) => this.receive(quotes),
      (error) => this.onError(error),
    );
  }

  private receive(quote: Quote): void {
    const known = this.quotes.get(quote.symbol);
    if (known && known.timestamp > quote.timestamp) return; // the snapshot arrived late
    this.quotes.set(quote.symbol, quote);
    for (const listener of this.listeners) listener(quote);
  }

  close(): void {
    this.stop?.();
  }
}
