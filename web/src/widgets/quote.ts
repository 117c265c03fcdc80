// <tg-quote symbol="AAPL">: last price, change, change %, and the session's high and low.
import type { Connection } from "./connection";
import { QUOTES, type Quote } from "./documents";
import { WidgetElement, el, percent, signed } from "./element";

export class QuoteCard extends WidgetElement {
  static observedAttributes = [...WidgetElement.common, "symbol"];
  private last = el("div", "num last", "—");
  private change = el("span", "num muted", "");
  private percentage = el("span", "num muted", "");
  private high = el("span", "num", "—");
  private low = el("span", "num", "—");

  private get symbol(): string {
    return (this.getAttribute("symbol") ?? "").trim().toUpperCase();
  }

  protected render(): void {
    const bar = el("div", "bar");
    bar.append(el("span", "symbol", this.symbol || "—"), this.status);
    const moves = el("div", "moves");
    moves.append(this.change, document.createTextNode(" "), this.percentage);
    const range = el("div", "range muted");
    const high = el("span", "", "H ");
    high.append(this.high);
    const low = el("span", "", "L ");
    low.append(this.low);
    range.append(high, low);
    const card = el("div", "quote");
    card.append(this.last, moves, range);
    this.body.replaceChildren(bar, card);
    if (!this.symbol) this.showProblem('no symbol: add symbol="AAPL"');
  }

  protected start(conn: Connection): void {
    if (!this.symbol) return;
    this.run(QUOTES, { symbols: [this.symbol] }, {
      next: (data) => this.show(data.quotes as Quote),
      error: (message) => this.showProblem(message),
    });
  }

  private show(quote: Quote): void {
    const [text, tone] = percent(quote.changePercent);
    this.last.textContent = quote.last;
    this.change.textContent = signed(quote.change);
    this.change.className = `num ${tone}`;
    this.percentage.textContent = text;
    this.percentage.className = `num ${tone}`;
    this.high.textContent = quote.high ?? "—";
    this.low.textContent = quote.low ?? "—";
  }
}
