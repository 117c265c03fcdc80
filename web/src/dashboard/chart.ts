// The selected instrument's chart: 1m, 5m, 15m, 1h and 1d candles over the stored history,
// volume, an OHLC readout at the cursor, the user's fills as markers and SMA / EMA /
// Bollinger overlays from `indicators`. History comes from `candles`, the forming bar from
// the `candles` subscription (a new `start` means the previous bar closed). 15m bars are
// built here from 5m ones (the API has no 15m interval); overlays follow the API's intervals.
import {
  CandlestickSeries,
  createChart,
  createSeriesMarkers,
  HistogramSeries,
  LineSeries,
  type CandlestickData,
  type IChartApi,
  type ISeriesApi,
  type ISeriesMarkersPluginApi,
  type SeriesMarker,
  type Time,
  type UTCTimestamp,
} from "lightweight-charts";
import type { Api } from "./api";
import { h, hideError, panel, showError } from "./dom";
import { dateTime, decimalsOf, num } from "./format";
import type { Instrument } from "./state";

interface Candle {
  start: string;
  open: string;
  high: string;
  low: string;
  close: string;
  volume: string;
}
export interface FillMark {
  side: string;
  price: string;
  quantity: string;
  timestamp: string;
}
interface Point {
  time: string;
  value: number | null;
  upper: number | null;
  middle: number | null;
  lower: number | null;
}
interface Interval {
  label: string;
  api: string; // the CandleInterval the bars come from
  seconds: number;
  days: number; // how much stored history to show
}

export const INTERVALS: Interval[] = [
  { label: "1m", api: "ONE_MINUTE", seconds: 60, days: 1 },
  { label: "5m", api: "FIVE_MINUTES", seconds: 300, days: 7 },
  { label: "15m", api: "FIVE_MINUTES", seconds: 900, days: 14 },
  { label: "1h", api: "ONE_HOUR", seconds: 3600, days: 30 },
  { label: "1d", api: "ONE_DAY", seconds: 86400, days: 365 },
];
const OVERLAYS = [
  { key: "sma", label: "SMA 20", spec: { kind: "SMA", period: 20 }, color: "#d29922" },
  { key: "ema", label: "EMA 50", spec: { kind: "EMA", period: 50 }, color: "#a371f7" },
  { key: "bb", label: "Bollinger 20·2", spec: { kind: "BOLLINGER", period: 20, stddev: 2 }, color: "#58a6ff" },
];
const FIELDS = "start open high low close volume";
const HISTORY = `query($symbol: String!, $interval: CandleInterval!, $from: DateTime!) {
  candles(symbol: $symbol, interval: $interval, from: $from) { ${FIELDS} } }`;
const FORMING = `subscription($symbol: String!, $interval: CandleInterval!) {
  candles(symbol: $symbol, interval: $interval) { ${FIELDS} } }`;
const INDICATORS = `query($symbol: String!, $interval: CandleInterval!, $from: DateTime!, $specs: [IndicatorSpec!]!) {
  indicators(symbol: $symbol, interval: $interval, from: $from, specs: $specs) {
    name points { time value upper middle lower } } }`;
const UP = "#2ea043";
const DOWN = "#f85149";

function seconds(iso: string): UTCTimestamp {
  return Math.floor(Date.parse(iso) / 1000) as UTCTimestamp;
}

export class CandleChart {
  readonly element: HTMLElement;
  private readonly title = h("span", { class: "chart-symbol" }, "—");
  private readonly readout = h("span", { class: "ohlc", "aria-live": "off" });
  private readonly loading = h("span", { class: "muted history-note", hidden: "" });
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly box = h("div", { class: "chart", "data-bars": "0", "data-interval": "1m" });
  private readonly buttons = new Map<string, HTMLButtonElement>();
  private readonly toggles = new Map<string, HTMLInputElement>();
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<"Candlestick">;
  private readonly volume: ISeriesApi<"Histogram">;
  private readonly markers: ISeriesMarkersPluginApi<Time>;
  private readonly lines = new Map<string, ISeriesApi<"Line">[]>();
  private interval = INTERVALS[0];
  private instrument: Instrument | null = null;
  private bars: CandlestickData<UTCTimestamp>[] = [];
  private volumes = new Map<number, number>();
  private fills: FillMark[] = [];
  private stop: (() => void) | null = null;
  private request = 0; // the latest load; older answers are dropped

  constructor(private readonly api: Api) {
    const intervals = h("div", { class: "segmented", role: "group", "aria-label": "Interval" });
    for (const interval of INTERVALS) {
      const choose = h("button", { type: "button", "data-interval": interval.label, "aria-pressed": "false" }, interval.label);
      choose.addEventListener("click", () => this.setInterval(interval.label));
      this.buttons.set(interval.label, choose);
      intervals.append(choose);
    }
    const overlays = h("div", { class: "overlays", role: "group", "aria-label": "Overlays" });
    for (const overlay of OVERLAYS) {
      const box = h("input", { type: "checkbox", name: overlay.key });
      box.addEventListener("change", () => void this.loadOverlays(this.request));
      this.toggles.set(overlay.key, box);
      overlays.append(h("label", { class: "check" }, box, ` ${overlay.label}`));
    }
    const head = h("div", { class: "chart-head" }, this.title, intervals, overlays);
    this.element = panel("Chart", head, h("div", { class: "chart-info" }, this.readout, this.loading), this.box, this.error);
    this.element.classList.add("chart-panel");
    this.chart = createChart(this.box, {
      autoSize: true,
      layout: { background: { color: "#10151c" }, textColor: "#c9d1d9", attributionLogo: false },
      grid: { vertLines: { color: "#1c2430" }, horzLines: { color: "#1c2430" } },
      timeScale: { timeVisible: true, secondsVisible: false },
      localization: { timeFormatter: (t: Time) => `${dateTime((t as number) * 1000)} UTC` },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP, downColor: DOWN, wickUpColor: UP, wickDownColor: DOWN, borderVisible: false,
    });
    this.volume = this.chart.addSeries(HistogramSeries, { priceScaleId: "volume", priceFormat: { type: "volume" }, lastValueVisible: false, priceLineVisible: false });
    this.chart.priceScale("volume").applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.25 } });
    this.markers = createSeriesMarkers(this.candles, []);
    this.chart.subscribeCrosshairMove((param) => {
      const bar = param.time !== undefined ? param.seriesData.get(this.candles) : undefined;
      this.showReadout((bar as CandlestickData<UTCTimestamp> | undefined) ?? this.bars[this.bars.length - 1]);
    });
    this.markPressed();
  }

  /** Says that history is still loading (a demo's first run) until `loading` is false. */
  historyLoading(loading: boolean): void {
    this.loading.hidden = !loading;
    this.loading.textContent = loading ? "History is still loading: older bars appear when it ends." : "";
    this.box.dataset.historyLoading = String(loading);
  }

  show(instrument: Instrument): void {
    this.instrument = instrument;
    this.title.textContent = `${instrument.symbol} · ${instrument.name}`;
    const precision = decimalsOf(instrument.tickSize);
    this.candles.applyOptions({ priceFormat: { type: "price", precision, minMove: 10 ** -precision } });
    void this.load();
  }

  /** The user's fills of the shown symbol, drawn as markers. */
  showFills(fills: FillMark[]): void {
    this.fills = fills;
    this.drawFills();
  }

  setInterval(label: string): void {
    const found = INTERVALS.find((i) => i.label === label);
    if (!found || found === this.interval) return;
    this.interval = found;
    this.box.dataset.interval = label;
    this.markPressed();
    void this.load();
  }

  private markPressed(): void {
    for (const [label, choose] of this.buttons) choose.setAttribute("aria-pressed", String(label === this.interval.label));
    for (const [key, box] of this.toggles) {
      box.disabled = this.interval.label === "15m";
      box.parentElement!.title = box.disabled ? "overlays follow the API's intervals: 1m, 5m, 1h, 1d" : "";
      if (box.disabled) this.clearOverlay(key);
    }
  }

  private async load(): Promise<void> {
    const instrument = this.instrument;
    if (!instrument) return;
    const request = ++this.request;
    this.stop?.();
    this.stop = null;
    hideError(this.error);
    const interval = this.interval;
    const from = new Date(Date.now() - interval.days * 86_400_000).toISOString();
    const variables = { symbol: instrument.symbol, interval: interval.api };
    try {
      const { candles } = await this.api.query<{ candles: Candle[] }>(HISTORY, { ...variables, from });
      if (request !== this.request) return; // another symbol or interval meanwhile
      this.bars = [];
      this.volumes.clear();
      this.sources.clear();
      for (const candle of candles) this.merge(candle);
      this.candles.setData(this.bars);
      this.volume.setData(this.bars.map((bar) => this.volumeBar(bar)));
      this.box.dataset.bars = String(this.bars.length);
      this.box.dataset.symbol = instrument.symbol;
      this.chart.timeScale().fitContent();
      this.showReadout(this.bars[this.bars.length - 1]);
      this.drawFills();
    } catch (error) {
      if (request === this.request) showError(this.error, error);
      return;
    }
    void this.loadOverlays(request);
    this.stop = this.api.subscribe<{ candles: Candle }>(
      FORMING,
      variables,
      ({ candles }) => {
        if (request !== this.request) return;
        const bar = this.merge(candles);
        this.candles.update(bar);
        this.volume.update(this.volumeBar(bar));
        this.box.dataset.bars = String(this.bars.length);
        this.showReadout(bar);
      },
      (error) => showError(this.error, error),
    );
  }

  /** Folds an API candle into this interval's bar: 15m bars gather their three 5m candles
   * (each may arrive again while it forms). */
  private merge(candle: Candle): CandlestickData<UTCTimestamp> {
    const start = seconds(candle.start);
    const time = (start - (start % this.interval.seconds)) as UTCTimestamp;
    const parts = this.sources.get(time) ?? new Map<number, Candle>();
    parts.set(start, candle);
    this.sources.set(time, parts);
    const ordered = [...parts.entries()].sort((a, b) => a[0] - b[0]).map(([, c]) => c);
    const bar = {
      time,
      open: Number(ordered[0].open),
      high: Math.max(...ordered.map((c) => Number(c.high))),
      low: Math.min(...ordered.map((c) => Number(c.low))),
      close: Number(ordered[ordered.length - 1].close),
    };
    this.volumes.set(time, ordered.reduce((sum, c) => sum + Number(c.volume), 0));
    const last = this.bars[this.bars.length - 1];
    if (last && last.time === time) this.bars[this.bars.length - 1] = bar;
    else if (!last || last.time < time) this.bars.push(bar);
    return bar;
  }

  private readonly sources = new Map<number, Map<number, Candle>>();

  private volumeBar(bar: CandlestickData<UTCTimestamp>): { time: UTCTimestamp; value: number; color: string } {
    const color = bar.close >= bar.open ? "rgba(46,160,67,.45)" : "rgba(248,81,73,.45)";
    return { time: bar.time, value: this.volumes.get(bar.time) ?? 0, color };
  }

  private showReadout(bar: CandlestickData<UTCTimestamp> | undefined): void {
    if (!bar || !this.instrument) {
      this.readout.textContent = "";
      return;
    }
    const places = decimalsOf(this.instrument.tickSize);
    const volume = this.volumes.get(bar.time as number) ?? 0;
    this.readout.replaceChildren(
      h("time", {}, `${dateTime((bar.time as number) * 1000)} UTC`),
      ...(["O", bar.open, "H", bar.high, "L", bar.low, "C", bar.close] as const).flatMap((v, i) =>
        i % 2 === 0 ? [h("b", {}, ` ${String(v)} `)] : [h("span", { "data-field": "OHLC"[(i - 1) / 2] }, num(Number(v), places))],
      ),
      h("b", {}, " V "),
      h("span", { "data-field": "V" }, num(volume, decimalsOf(this.instrument.lotSize))),
    );
  }

  private drawFills(): void {
    const step = this.interval.seconds;
    const first = this.bars[0]?.time ?? Infinity;
    const marks: SeriesMarker<Time>[] = this.fills
      .map((fill) => ({ fill, at: seconds(fill.timestamp) }))
      .filter(({ at }) => at >= first)
      .sort((a, b) => a.at - b.at)
      .map(({ fill, at }) => ({
        time: (at - (at % step)) as UTCTimestamp,
        position: fill.side === "BUY" ? "belowBar" : "aboveBar",
        color: fill.side === "BUY" ? UP : DOWN,
        shape: fill.side === "BUY" ? "arrowUp" : "arrowDown",
        text: `${fill.side === "BUY" ? "B" : "S"} ${fill.quantity} @ ${fill.price}`,
      }));
    this.markers.setMarkers(marks);
    this.box.dataset.fills = String(marks.length);
  }

  private clearOverlay(key: string): void {
    for (const line of this.lines.get(key) ?? []) this.chart.removeSeries(line);
    this.lines.delete(key);
  }

  private async loadOverlays(request: number): Promise<void> {
    const instrument = this.instrument;
    if (!instrument || request !== this.request) return;
    const chosen = OVERLAYS.filter((o) => this.toggles.get(o.key)!.checked && this.interval.label !== "15m");
    for (const overlay of OVERLAYS) if (!chosen.includes(overlay)) this.clearOverlay(overlay.key);
    if (!chosen.length) {
      this.box.dataset.overlays = "";
      return;
    }
    const from = new Date(Date.now() - this.interval.days * 86_400_000).toISOString();
    try {
      const { indicators } = await this.api.query<{ indicators: { name: string; points: Point[] }[] }>(INDICATORS, {
        symbol: instrument.symbol,
        interval: this.interval.api,
        from,
        specs: chosen.map((o) => o.spec),
      });
      if (request !== this.request) return;
      chosen.forEach((overlay, i) => {
        this.clearOverlay(overlay.key);
        const points = indicators[i]?.points ?? [];
        const keys: (keyof Point)[] = overlay.key === "bb" ? ["upper", "middle", "lower"] : ["value"];
        const lines = keys.map((key) => {
          const line = this.chart.addSeries(LineSeries, { color: overlay.color, lineWidth: key === "middle" || key === "value" ? 2 : 1, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false });
          line.setData(points.filter((p) => p[key] !== null).map((p) => ({ time: seconds(p.time), value: p[key] as number })));
          return line;
        });
        this.lines.set(overlay.key, lines);
      });
      this.box.dataset.overlays = indicators.map((series) => series.name).join(",");
    } catch (error) {
      showError(this.error, error);
    }
  }

  close(): void {
    this.stop?.();
  }
}
