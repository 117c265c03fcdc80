// Research: run a backtest or an optimisation of the selected instrument from the page, with
// live progress (`backtestProgress` / `optimizationProgress`) and cancel where the server has
// it; then the statistics, the equity curve and a heatmap with selectable axes and metric.
import { createChart, LineSeries, type IChartApi, type ISeriesApi, type UTCTimestamp } from "lightweight-charts";
import type { Api } from "./api";
import { button, field, h, hideError, panel, select, showError, table, td } from "./dom";
import { dateTime, fractionPercent, num, plainNumber, share } from "./format";
import type { Instrument } from "./state";

interface Stats {
  finalEquity: string;
  totalReturn: number;
  cagr: number | null;
  maxDrawdown: number;
  sharpe: number | null;
  sortino: number | null;
  winRate: number | null;
  profitFactor: number | null;
  tradeCount: number;
  buyAndHoldReturn: number;
  totalFees: string;
  equityCurve: { time: string; equity: string }[];
}
interface Run {
  id: string;
  status: string;
  progress: number;
  error: string | null;
  result?: Stats | null;
  best?: Stats | null;
  combinations?: number;
  bestParameters?: Record<string, number> | null;
}
interface Heatmap {
  xValues: number[];
  yValues: number[];
  values: (number | null)[][];
}

const STATS = `finalEquity totalReturn cagr maxDrawdown sharpe sortino winRate profitFactor tradeCount
  buyAndHoldReturn totalFees equityCurve { time equity }`;
const RUN = `mutation($input: BacktestInput!) { runBacktest(input: $input) { id status progress error } }`;
const RUN_PROGRESS = `subscription($id: ID!) { backtestProgress(id: $id) { id status progress error result { ${STATS} } } }`;
const OPTIMIZE = `mutation($input: OptimizeInput!) { optimizeBacktest(input: $input) { id status progress error combinations } }`;
const OPTIMIZE_PROGRESS = `subscription($id: ID!) { optimizationProgress(id: $id) {
  id status progress error combinations bestParameters best { ${STATS} } } }`;
const HEATMAP = `query($id: ID!, $x: String!, $y: String!, $metric: OptimizationMetric) {
  optimization(id: $id) { heatmap(x: $x, y: $y, metric: $metric) { xValues yValues values } } }`;
const MUTATIONS = `{ __type(name: "Mutation") { fields { name } } }`;
const KINDS = ["SMA_CROSSOVER", "RSI_REVERSION", "MACD_SIGNAL", "BOLLINGER_REVERSION"];
const METRICS = ["SHARPE", "SORTINO", "CALMAR", "TOTAL_RETURN", "SQN", "PROFIT_FACTOR"];
// Parameters each strategy takes, with the grid the optimiser starts from.
const GRIDS: Record<string, [string, number, number, number][]> = {
  SMA_CROSSOVER: [["fast", 5, 25, 5], ["slow", 30, 90, 15]],
  MACD_SIGNAL: [["fast", 8, 16, 4], ["slow", 20, 32, 4], ["period", 6, 12, 3]],
  RSI_REVERSION: [["period", 7, 21, 7], ["lower", 20, 35, 5], ["upper", 65, 80, 5]],
  BOLLINGER_REVERSION: [["period", 10, 40, 5], ["stopLossPct", 1, 5, 1]],
};
const RANGES: [string, string][] = [["1", "1 day"], ["7", "7 days"], ["30", "30 days"]];

export class Research {
  readonly element: HTMLElement;
  private instrument: Instrument | null = null;
  private readonly title = h("p", { class: "muted" }, "Select an instrument on the Trade view.");
  private readonly mode = select("mode", [["backtest", "Backtest"], ["optimize", "Optimise"]], "Run");
  private readonly kind = select("kind", KINDS, "Strategy");
  private readonly interval = select("interval", [["ONE_MINUTE", "1m"], ["FIVE_MINUTES", "5m"], ["ONE_HOUR", "1h"]], "Interval");
  private readonly days = select("days", RANGES, "Range");
  private readonly cash = h("input", { name: "initialCash", value: "100000", inputmode: "decimal" });
  private readonly maximize = select("maximize", METRICS, "Maximise");
  private readonly params = h("div", { class: "params" });
  private readonly run = h("button", { type: "submit" }, "Run");
  private readonly cancel = button("Cancel", () => void this.cancelRun(), { class: "secondary", hidden: "" });
  private readonly progress = h("progress", { max: "1", value: "0", "aria-label": "Progress" });
  private readonly state = h("p", { class: "run-state", role: "status" });
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly stats = h("dl", { class: "value stats" });
  private readonly curveBox = h("div", { class: "equity-chart" });
  private readonly heatControls = h("div", { class: "toolbar", hidden: "" });
  private readonly heatX = select("heatmap-x", [], "X axis");
  private readonly heatY = select("heatmap-y", [], "Y axis");
  private readonly heatMetric = select("heatmap-metric", METRICS, "Metric");
  private readonly heatmap = h("div", { class: "heatmap" });
  private readonly maximizeField: HTMLElement;
  private curve: ISeriesApi<"Line"> | null = null;
  private chart: IChartApi | null = null;
  private stop: (() => void) | null = null;
  private current: { id: string; kind: "backtest" | "optimize" } | null = null;
  private cancellable = new Set<string>();

  constructor(private readonly api: Api) {
    this.maximizeField = field("Maximise", this.maximize);
    const form = h("form", { class: "research-form" }, this.title, field("Run", this.mode), field("Strategy", this.kind),
      field("Interval", this.interval), field("Range", this.days), field("Initial cash", this.cash), this.maximizeField,
      this.params, h("div", { class: "actions" }, this.run, this.cancel));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.start();
    });
    this.mode.addEventListener("change", () => this.drawParams());
    this.kind.addEventListener("change", () => this.drawParams());
    for (const control of [this.heatX, this.heatY, this.heatMetric]) control.addEventListener("change", () => void this.loadHeatmap());
    this.heatControls.append(field("X", this.heatX), field("Y", this.heatY), field("Metric", this.heatMetric));
    const results = h("div", { class: "results" }, h("div", { class: "run-progress" }, this.progress, this.state), this.error,
      this.stats, this.curveBox, this.heatControls, this.heatmap);
    this.element = h("div", { class: "research" }, panel("Research", form), panel("Results", results));
    this.drawParams();
    void this.api
      .query<{ __type: { fields: { name: string }[] } | null }>(MUTATIONS)
      .then(({ __type }) => (this.cancellable = new Set((__type?.fields ?? []).map((f) => f.name))))
      .catch(() => {});
  }

  use(instrument: Instrument): void {
    this.instrument = instrument;
    this.title.textContent = `${instrument.symbol} · ${instrument.name} · ${instrument.currency}`;
  }

  private drawParams(): void {
    const optimize = this.mode.value === "optimize";
    this.maximizeField.hidden = !optimize;
    const grid = GRIDS[this.kind.value];
    this.params.replaceChildren(...grid.map(([name, start, stop, step]) => {
      const input = (key: string, value: number) => h("input", { name: `${name}-${key}`, value: String(value), inputmode: "decimal" });
      if (!optimize) return field(name, input("value", start));
      const ranged = (key: string, value: number) => {
        const control = input(key, value);
        control.setAttribute("aria-label", `${name} ${key}`);
        return control;
      };
      return h("fieldset", { class: "range" }, h("legend", {}, name), ranged("start", start), ranged("stop", stop), ranged("step", step));
    }));
    this.run.textContent = optimize ? "Optimise" : "Run backtest";
  }

  private value(name: string): number {
    return Number((this.params.querySelector(`input[name="${name}"]`) as HTMLInputElement).value);
  }

  private base(): Record<string, unknown> {
    const to = new Date();
    const from = new Date(to.getTime() - Number(this.days.value) * 86_400_000);
    return {
      symbol: this.instrument!.symbol,
      interval: this.interval.value,
      from: from.toISOString(),
      to: to.toISOString(),
      initialCash: this.cash.value.trim(),
    };
  }

  private async start(): Promise<void> {
    if (!this.instrument) return;
    hideError(this.error);
    this.stop?.();
    this.stats.replaceChildren();
    this.heatmap.replaceChildren();
    this.heatControls.hidden = true;
    const grid = GRIDS[this.kind.value];
    try {
      if (this.mode.value === "backtest") {
        const strategy: Record<string, unknown> = { kind: this.kind.value };
        for (const [name] of grid) strategy[name] = this.value(`${name}-value`);
        const { runBacktest } = await this.api.query<{ runBacktest: Run }>(RUN, { input: { ...this.base(), strategy } });
        this.follow(runBacktest, "backtest");
      } else {
        const parameters = grid.map(([name]) => ({
          name, start: this.value(`${name}-start`), stop: this.value(`${name}-stop`), step: this.value(`${name}-step`),
        }));
        const input = { ...this.base(), kind: this.kind.value, parameters, maximize: this.maximize.value };
        const { optimizeBacktest } = await this.api.query<{ optimizeBacktest: Run }>(OPTIMIZE, { input });
        this.follow(optimizeBacktest, "optimize");
      }
    } catch (error) {
      showError(this.error, error);
    }
  }

  private follow(run: Run, kind: "backtest" | "optimize"): void {
    this.current = { id: run.id, kind };
    this.element.dataset.runId = run.id;
    this.cancel.hidden = !this.cancellable.has(kind === "backtest" ? "cancelBacktest" : "cancelOptimization");
    this.show(run);
    this.stop = this.api.subscribe<Record<string, Run>>(kind === "backtest" ? RUN_PROGRESS : OPTIMIZE_PROGRESS, { id: run.id },
      (data) => this.show(Object.values(data)[0]), (error) => showError(this.error, error));
  }

  private show(run: Run): void {
    this.progress.value = run.progress;
    this.element.dataset.status = run.status;
    const combos = run.combinations ? ` · ${num(run.combinations, 0)} combinations` : "";
    this.state.textContent = `${run.status} · ${num(run.progress * 100, 0)}%${combos}`;
    if (run.error) showError(this.error, new Error(run.error));
    const done = !["QUEUED", "RUNNING"].includes(run.status);
    this.run.disabled = !done;
    if (done) this.cancel.hidden = true;
    const stats = run.result ?? run.best;
    if (run.status === "COMPLETED" && stats) {
      this.showStats(stats, run.bestParameters ?? null);
      if (this.current?.kind === "optimize") this.prepareHeatmap();
    }
  }

  private showStats(stats: Stats, best: Record<string, number> | null): void {
    const entry = (label: string, value: string): HTMLElement[] => [h("dt", {}, label), h("dd", {}, value)];
    const ratio = (value: number | null) => (value === null ? "—" : num(value, 2));
    this.stats.replaceChildren(
      ...(best ? entry("Best parameters", Object.entries(best).map(([k, v]) => `${k} ${v}`).join(" · ")) : []),
      ...entry("Final equity", num(stats.finalEquity)),
      ...entry("Total return", fractionPercent(stats.totalReturn)),
      ...entry("Buy and hold", fractionPercent(stats.buyAndHoldReturn)),
      ...entry("CAGR", fractionPercent(stats.cagr)),
      ...entry("Max drawdown", fractionPercent(-stats.maxDrawdown)),
      ...entry("Sharpe", ratio(stats.sharpe)),
      ...entry("Sortino", ratio(stats.sortino)),
      ...entry("Win rate", share(stats.winRate)),
      ...entry("Profit factor", ratio(stats.profitFactor)),
      ...entry("Trades", num(stats.tradeCount, 0)),
      ...entry("Fees", num(stats.totalFees)),
    );
    if (!this.chart) {
      this.chart = createChart(this.curveBox, {
        autoSize: true,
        layout: { background: { color: "#10151c" }, textColor: "#c9d1d9", attributionLogo: false },
        grid: { vertLines: { color: "#1c2430" }, horzLines: { color: "#1c2430" } },
        timeScale: { timeVisible: true },
        localization: { timeFormatter: (t: number) => `${dateTime(t * 1000)} UTC` },
      });
      this.curve = this.chart.addSeries(LineSeries, { color: "#388bfd", lineWidth: 2 });
    }
    const points = stats.equityCurve.map((p) => ({ time: Math.floor(Date.parse(p.time) / 1000) as UTCTimestamp, value: Number(p.equity) }));
    this.curve!.setData(points.filter((p, i) => i === 0 || p.time > points[i - 1].time));
    this.chart.timeScale().fitContent();
    this.curveBox.dataset.points = String(points.length);
  }

  private prepareHeatmap(): void {
    const names = GRIDS[this.kind.value].map(([name]) => name);
    if (names.length < 2) return;
    for (const [control, chosen] of [[this.heatX, names[0]], [this.heatY, names[1]]] as const) {
      control.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
      control.value = chosen;
    }
    this.heatMetric.value = this.maximize.value;
    this.heatControls.hidden = false;
    void this.loadHeatmap();
  }

  private async loadHeatmap(): Promise<void> {
    if (!this.current || this.heatX.value === this.heatY.value) {
      this.heatmap.replaceChildren(h("p", { class: "muted" }, "Choose two different parameters."));
      return;
    }
    try {
      const { optimization } = await this.api.query<{ optimization: { heatmap: Heatmap } }>(HEATMAP, {
        id: this.current.id, x: this.heatX.value, y: this.heatY.value, metric: this.heatMetric.value,
      });
      this.drawHeatmap(optimization.heatmap);
    } catch (error) {
      showError(this.error, error);
    }
  }

  private drawHeatmap(map: Heatmap): void {
    const finite = map.values.flat().filter((v): v is number => v !== null && Number.isFinite(v));
    const low = Math.min(...finite);
    const high = Math.max(...finite);
    const body = h("tbody");
    map.yValues.forEach((y, row) => {
      const cells = map.xValues.map((x, column) => {
        const value = map.values[row]?.[column] ?? null;
        const cell = td(value === null ? "—" : num(value, 2), "cell");
        cell.title = `${this.heatX.value} ${x} · ${this.heatY.value} ${y}`;
        if (value !== null && high > low) {
          const share = (value - low) / (high - low);
          cell.style.backgroundColor = `rgba(46, 160, 67, ${(0.1 + share * 0.7).toFixed(2)})`; // CSSOM
        }
        return cell;
      });
      body.append(h("tr", {}, h("th", { scope: "row" }, plainNumber(y)), ...cells));
    });
    const grid = table("heatmap-grid", [`${this.heatY.value} \\ ${this.heatX.value}`, ...map.xValues.map(plainNumber)], body);
    this.heatmap.replaceChildren(grid);
    this.heatmap.dataset.cells = String(map.xValues.length * map.yValues.length);
  }

  private async cancelRun(): Promise<void> {
    if (!this.current) return;
    const name = this.current.kind === "backtest" ? "cancelBacktest" : "cancelOptimization";
    try {
      await this.api.query(`mutation($id: ID!) { ${name}(id: $id) { id } }`, { id: this.current.id });
    } catch (error) {
      showError(this.error, error);
    }
  }

  close(): void {
    this.stop?.();
    this.chart?.remove();
  }
}
