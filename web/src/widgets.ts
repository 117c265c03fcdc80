// /widgets.js: the embeddable market-data widgets as standard Web Components (no framework on
// the host page). See docs/widgets.md.
import { MarketOverview } from "./widgets/market-overview";
import { MiniChart } from "./widgets/mini-chart";
import { QuoteCard } from "./widgets/quote";
import { TickerTape } from "./widgets/ticker-tape";

const ELEMENTS: [string, CustomElementConstructor][] = [
  ["tg-ticker-tape", TickerTape],
  ["tg-quote", QuoteCard],
  ["tg-mini-chart", MiniChart],
  ["tg-market-overview", MarketOverview],
];

for (const [name, element] of ELEMENTS) {
  // The script may be included twice on a page: the first definition stays.
  if (!customElements.get(name)) customElements.define(name, element);
}
