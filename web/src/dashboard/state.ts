// What the terminal has selected — the instrument and the portfolio — and who is looking.
// Widgets listen for changes. Every portfolio switch gets a new generation: an answer that
// arrives for an older one is dropped, so a fast switch never shows another portfolio's data.
import type { User } from "./session";

export interface Instrument {
  symbol: string;
  name: string;
  assetClass: string;
  currency: string;
  tickSize: string;
  lotSize: string;
}

export interface Portfolio {
  id: string;
  name: string;
  baseCurrency: string;
  owner: { id: string; email: string } | null;
}

type Listener<T> = (value: T) => void;

export class Selection {
  instrument: Instrument | null = null;
  portfolio: Portfolio | null = null;
  generation = 0;
  private readonly instrumentListeners: Listener<Instrument>[] = [];
  private readonly portfolioListeners: Listener<Portfolio | null>[] = [];

  constructor(readonly user: User) {}

  get staff(): boolean {
    return this.user.role === "ADMIN" || this.user.role === "ANALYST";
  }

  /** Trading and cash moves only in your own portfolio: staff see others' read-only. */
  get readOnly(): boolean {
    return this.portfolio !== null && this.portfolio.owner?.id !== this.user.id;
  }

  onInstrument(listener: Listener<Instrument>): void {
    this.instrumentListeners.push(listener);
  }

  onPortfolio(listener: Listener<Portfolio | null>): void {
    this.portfolioListeners.push(listener);
  }

  selectInstrument(instrument: Instrument): void {
    this.instrument = instrument;
    localStorage.setItem(LAST_SYMBOL, instrument.symbol);
    for (const listener of this.instrumentListeners) listener(instrument);
  }

  selectPortfolio(portfolio: Portfolio | null): void {
    if (portfolio?.id === this.portfolio?.id && portfolio !== null) return;
    this.portfolio = portfolio;
    this.generation += 1;
    if (portfolio && !this.readOnly) localStorage.setItem(LAST_PORTFOLIO, portfolio.id);
    for (const listener of this.portfolioListeners) listener(portfolio);
  }

  /** True while `generation` is still the current portfolio's: late answers check it. */
  current(generation: number): boolean {
    return generation === this.generation;
  }
}

export const LAST_SYMBOL = "tradegraph.symbol";
export const LAST_PORTFOLIO = "tradegraph.portfolio";
export const LAST_WATCHLIST = "tradegraph.watchlist";
