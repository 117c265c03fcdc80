// The ticker: one row per instrument fed by the `quotes` subscription (the latest quote of
// each symbol first, then live ones). A row flashes on each change; the day change is the
// server's `changePercent` (since the previous session close), or, without history, the change
// since the first quote this page saw.
import type { Api } from "./api";
import { fixed, h, panel, showError } from "./dom";

export interface Instrument {
  symbol: string;
  name: string;
  currency: string;
  tickSize: string;
}
interface Quote {
  symbol: string;
  bid: string;
  ask: string;
  mid: string;
  changePercent: string | null;
  timestamp: string;
}

const QUOTES = `subscription($symbols: [String!]!) {
  quotes(symbols: $symbols) { symbol bid ask mid changePercent timestamp } }`;

export function decimalsOf(tickSize: string): number {
  const [, fraction = ""] = tickSize.split(".");
  return fraction.replace(/0+$/, "").length;
}

export class Watchlist {
  readonly element: HTMLElement;
  private readonly rows = new Map<string, HTMLTableRowElement>();
  private readonly first = new Map<string, number>();
  private readonly error = h("p", { class: "error", hidden: "" });
  readonly lastMid = new Map<string, number>();

  constructor(
    private readonly api: Api,
    private readonly instruments: Instrument[],
    private readonly onSelect: (instrument: Instrument) => void,
  ) {
    const body = h("tbody");
    for (const instrument of instruments) {
      const row = h(
        "tr",
        { "data-symbol": instrument.symbol, "data-updates": "0", title: instrument.name },
        h("td", { class: "symbol" }, instrument.symbol),
        h("td", { class: "bid" }, "—"),
        h("td", { class: "ask" }, "—"),
        h("td", { class: "change" }, "—"),
      );
      row.addEventListener("click", () => this.select(instrument.symbol));
      this.rows.set(instrument.symbol, row);
      body.append(row);
    }
    const head = h(
      "thead",
      {},
      h("tr", {}, h("th", {}, "Symbol"), h("th", {}, "Bid"), h("th", {}, "Ask"), h("th", {}, "Chg %")),
    );
    this.element = panel("Watchlist", h("table", { class: "watchlist" }, head, body), this.error);
  }

  start(): () => void {
    const symbols = this.instruments.map((i) => i.symbol);
    return this.api.subscribe<{ quotes: Quote }>(
      QUOTES,
      { symbols },
      ({ quotes }) => this.show(quotes),
      (error) => showError(this.error, error),
    );
  }

  select(symbol: string): void {
    for (const [key, row] of this.rows) row.classList.toggle("selected", key === symbol);
    const instrument = this.instruments.find((i) => i.symbol === symbol);
    if (instrument) this.onSelect(instrument);
  }

  private show(quote: Quote): void {
    const row = this.rows.get(quote.symbol);
    const instrument = this.instruments.find((i) => i.symbol === quote.symbol);
    if (!row || !instrument) return;
    const places = decimalsOf(instrument.tickSize);
    const mid = Number(quote.mid);
    const previous = this.lastMid.get(quote.symbol);
    if (!this.first.has(quote.symbol)) this.first.set(quote.symbol, mid);
    this.lastMid.set(quote.symbol, mid);
    const base = this.first.get(quote.symbol)!;
    const sincePageOpen = base ? ((mid - base) / base) * 100 : 0;
    const percent = quote.changePercent === null ? sincePageOpen : Number(quote.changePercent);
    const change = Math.round(percent * 100) / 100 || 0; // no -0
    const [, bid, ask, changeCell] = row.cells;
    bid.textContent = fixed(quote.bid, places);
    ask.textContent = fixed(quote.ask, places);
    changeCell.textContent = `${change >= 0 ? "+" : ""}${change.toFixed(2)}%`;
    changeCell.className = `change ${change >= 0 ? "up" : "down"}`;
    row.dataset.updates = String(Number(row.dataset.updates) + 1);
    if (previous !== undefined && previous !== mid) {
      row.classList.remove("flash-up", "flash-down");
      void row.offsetWidth; // restart the animation
      row.classList.add(mid > previous ? "flash-up" : "flash-down");
    }
  }
}
