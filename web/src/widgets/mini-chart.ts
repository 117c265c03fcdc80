// <tg-mini-chart symbol="BTCUSDT" interval="5m">: closes of the last bars plus the forming one.
import type { Connection, ConnectionState } from "./connection";
import { CANDLES, HISTORY, INTERVALS, since, type Bar } from "./documents";
import { linePath, svg } from "./draw";
import { WidgetElement, el } from "./element";

const BARS = 120;
const WIDTH = 300;
const HEIGHT = 120;

export class MiniChart extends WidgetElement {
  static observedAttributes = [...WidgetElement.common, "symbol", "interval"];
  private bars = new Map<string, number>(); // start -> close, in time order
  private line = svg("path", { class: "line" });
  private area = svg("path", { class: "area" });
  private last = el("span", "num last", "—");
  private wasLive = false;

  private get symbol(): string {
    return (this.getAttribute("symbol") ?? "").trim().toUpperCase();
  }

  private get interval(): { name: string; seconds: number } {
    return INTERVALS[this.getAttribute("interval") ?? "5m"] ?? INTERVALS["5m"];
  }

  protected render(): void {
    this.bars.clear();
    this.wasLive = false;
    const chart = svg("svg", {
      class: "chart",
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      preserveAspectRatio: "none",
      role: "img",
      "aria-label": `${this.symbol} price chart`,
    });
    chart.append(this.area, this.line);
    const bar = el("div", "bar");
    bar.append(el("span", "symbol", this.symbol || "—"), this.last, this.status);
    this.body.replaceChildren(bar, chart);
    this.draw();
    if (!this.symbol) this.showProblem('no symbol: add symbol="BTCUSDT"');
    else if (!INTERVALS[this.getAttribute("interval") ?? "5m"]) {
      this.showProblem("interval must be 1m, 5m, 1h or 1d: showing 5m");
    }
  }

  protected start(conn: Connection): void {
    if (!this.symbol) return;
    this.loadHistory();
    const variables = { symbol: this.symbol, interval: this.interval.name };
    this.run(CANDLES, variables, {
      next: (data) => this.add([data.candles as Bar]),
      error: (message) => this.showProblem(message),
    });
  }

  protected onState(state: ConnectionState): void {
    // Back after a break: bars that closed meanwhile come from the history again.
    if (state === "live" && this.wasLive && this.symbol) this.loadHistory();
    if (state === "live") this.wasLive = true;
  }

  private loadHistory(): void {
    const { name, seconds } = this.interval;
    const variables = { symbol: this.symbol, interval: name, from: since(seconds, BARS) };
    this.run(HISTORY, variables, {
      next: (data) => this.add(data.candles as Bar[]),
      error: (message) => this.showProblem(message),
    }, true);
  }

  private add(bars: Bar[]): void {
    for (const bar of bars) this.bars.set(bar.start, Number(bar.close));
    const ordered = [...this.bars.entries()].sort(([a], [b]) => Date.parse(a) - Date.parse(b));
    this.bars = new Map(ordered.slice(-BARS));
    const newest = bars[bars.length - 1];
    if (newest && Date.parse(newest.start) >= Date.parse(ordered[ordered.length - 1][0])) {
      this.last.textContent = newest.close;
    }
    this.draw();
  }

  private draw(): void {
    const closes = [...this.bars.values()];
    const path = linePath(closes, WIDTH, HEIGHT);
    this.line.setAttribute("d", path);
    this.area.setAttribute("d", path ? `${path} L${WIDTH - 2},${HEIGHT} L2,${HEIGHT} Z` : "");
    this.setAttribute("bars", String(closes.length));
  }
}
