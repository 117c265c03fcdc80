// <tg-market-overview symbols="PETR4,VALE3,BTCUSDT">: a table of last prices and changes with a
// sparkline of the last day (hourly closes, then every new quote).
import type { Connection } from "./connection";
import { HISTORY, INTERVALS, QUOTES, since, symbolList, type Bar, type Quote } from "./documents";
import { linePath, svg } from "./draw";
import { WidgetElement, el, percent } from "./element";

const POINTS = 48;
const WIDTH = 90;
const HEIGHT = 24;

interface Row {
  last: HTMLElement;
  change: HTMLElement;
  spark: SVGSVGElement;
  path: SVGPathElement;
  history: number[];
  live: number | null;
}

export class MarketOverview extends WidgetElement {
  static observedAttributes = [...WidgetElement.common, "symbols"];
  private rows = new Map<string, Row>();

  protected render(): void {
    this.rows.clear();
    const table = el("table");
    const head = el("tr");
    for (const title of ["Symbol", "Last", "Change", "Day"]) head.append(el("th", "", title));
    table.append(head);
    const symbols = symbolList(this.getAttribute("symbols"));
    for (const symbol of symbols) {
      const path = svg("path");
      const spark = svg("svg", { class: "spark", viewBox: `0 0 ${WIDTH} ${HEIGHT}`, "aria-hidden": "true" });
      spark.append(path);
      const row = { last: el("td", "num", "—"), change: el("td", "num muted", "—"), spark, path };
      const line = el("tr");
      line.dataset.symbol = symbol;
      const sparkCell = el("td");
      sparkCell.append(spark);
      line.append(el("td", "symbol", symbol), row.last, row.change, sparkCell);
      table.append(line);
      this.rows.set(symbol, { ...row, history: [], live: null });
    }
    const bar = el("div", "bar");
    bar.append(el("span", "muted", "Market overview"), this.status);
    this.body.replaceChildren(bar, table);
    if (!symbols.length) this.showProblem('no symbols: add symbols="PETR4,VALE3"');
  }

  protected start(conn: Connection): void {
    const symbols = [...this.rows.keys()];
    if (!symbols.length) return;
    const { name, seconds } = INTERVALS["1h"];
    for (const symbol of symbols) {
      const variables = { symbol, interval: name, from: since(seconds, POINTS) };
      this.run(HISTORY, variables, {
        next: (data) => this.history(symbol, data.candles as Bar[]),
        error: (message) => this.showProblem(message),
      }, true);
    }
    this.run(QUOTES, { symbols }, {
      next: (data) => this.show(data.quotes as Quote),
      error: (message) => this.showProblem(message),
    });
  }

  private history(symbol: string, bars: Bar[]): void {
    const row = this.rows.get(symbol);
    if (!row) return;
    row.history = bars.map((bar) => Number(bar.close));
    this.draw(row);
  }

  private show(quote: Quote): void {
    const row = this.rows.get(quote.symbol);
    if (!row) return;
    const [text, tone] = percent(quote.changePercent);
    row.last.textContent = quote.last;
    row.change.textContent = text;
    row.change.className = `num ${tone}`;
    row.live = Number(quote.last);
    this.draw(row);
  }

  private draw(row: Row): void {
    const points = row.live === null ? row.history : [...row.history, row.live];
    row.path.setAttribute("d", linePath(points.slice(-POINTS), WIDTH, HEIGHT));
    const first = points[0];
    const last = points[points.length - 1];
    row.spark.setAttribute("class", `spark ${last > first ? "up" : last < first ? "down" : ""}`);
  }
}
