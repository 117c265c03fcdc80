// <tg-ticker-tape symbols="PETR4,VALE3,BTCUSDT">: a scrolling strip of last prices and changes.
import type { Connection } from "./connection";
import { QUOTES, symbolList, type Quote } from "./documents";
import { WidgetElement, el, percent } from "./element";

export class TickerTape extends WidgetElement {
  static observedAttributes = [...WidgetElement.common, "symbols"];
  private items = new Map<string, { last: HTMLElement; change: HTMLElement }[]>();

  protected render(): void {
    const track = el("div", "tape-track");
    this.items.clear();
    const symbols = symbolList(this.getAttribute("symbols"));
    // Twice: the strip scrolls by half its width and starts over seamlessly.
    for (let copy = 0; copy < 2; copy++) {
      for (const symbol of symbols) {
        const last = el("span", "num last", "—");
        const change = el("span", "num muted", "");
        const item = el("span", "item");
        item.dataset.symbol = symbol;
        if (copy) item.setAttribute("aria-hidden", "true");
        item.append(el("span", "symbol", symbol), last, change);
        track.append(item);
        this.items.set(symbol, [...(this.items.get(symbol) ?? []), { last, change }]);
      }
    }
    const tape = el("div", "tape");
    tape.append(track);
    const bar = el("div", "bar");
    bar.append(this.status);
    this.body.replaceChildren(tape, bar);
    if (!symbols.length) this.showProblem('no symbols: add symbols="PETR4,VALE3"');
  }

  protected start(conn: Connection): void {
    const symbols = symbolList(this.getAttribute("symbols"));
    if (!symbols.length) return;
    this.run(QUOTES, { symbols }, {
      next: (data) => this.show(data.quotes as Quote),
      error: (message) => this.showProblem(message),
    });
  }

  private show(quote: Quote): void {
    const [text, tone] = percent(quote.changePercent);
    for (const { last, change } of this.items.get(quote.symbol) ?? []) {
      last.textContent = quote.last;
      change.textContent = text;
      change.className = `num ${tone}`;
    }
  }
}
