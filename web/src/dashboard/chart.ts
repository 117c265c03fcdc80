// One-minute candles of the selected instrument: history from the `candles` query, then the
// forming bar from the `candles` subscription (a new `start` means the previous bar closed).
import {
  CandlestickSeries,
  createChart,
  type CandlestickData,
  type IChartApi,
  type ISeriesApi,
  type UTCTimestamp,
} from "lightweight-charts";
import type { Api } from "./api";
import { h, panel, showError } from "./dom";
import type { Instrument } from "./watchlist";
import { decimalsOf } from "./watchlist";

interface Candle {
  start: string;
  open: string;
  high: string;
  low: string;
  close: string;
}

const FIELDS = "start open high low close";
const HISTORY = `query($symbol: String!) {
  candles(symbol: $symbol, interval: ONE_MINUTE) { ${FIELDS} } }`;
const FORMING = `subscription($symbol: String!) {
  candles(symbol: $symbol, interval: ONE_MINUTE) { ${FIELDS} } }`;

function bar(candle: Candle): CandlestickData<UTCTimestamp> {
  return {
    time: (Date.parse(candle.start) / 1000) as UTCTimestamp,
    open: Number(candle.open),
    high: Number(candle.high),
    low: Number(candle.low),
    close: Number(candle.close),
  };
}

export class CandleChart {
  readonly element: HTMLElement;
  private readonly title = h("span", { class: "chart-symbol" }, "—");
  private readonly error = h("p", { class: "error", hidden: "" });
  private readonly box = h("div", { class: "chart", "data-bars": "0" });
  private readonly chart: IChartApi;
  private readonly series: ISeriesApi<"Candlestick">;
  private stop: (() => void) | null = null;

  constructor(private readonly api: Api) {
    this.element = panel("Chart · 1 min", this.title, this.box, this.error);
    this.chart = createChart(this.box, {
      autoSize: true,
      layout: { background: { color: "#10151c" }, textColor: "#c9d1d9" },
      grid: { vertLines: { color: "#1c2430" }, horzLines: { color: "#1c2430" } },
      timeScale: { timeVisible: true, secondsVisible: false },
    });
    this.series = this.chart.addSeries(CandlestickSeries, {
      upColor: "#2ea043",
      downColor: "#f85149",
      wickUpColor: "#2ea043",
      wickDownColor: "#f85149",
      borderVisible: false,
    });
  }

  async show(instrument: Instrument): Promise<void> {
    this.stop?.();
    this.error.hidden = true;
    this.title.textContent = `${instrument.symbol} · ${instrument.name}`;
    const precision = decimalsOf(instrument.tickSize);
    this.series.applyOptions({ priceFormat: { type: "price", precision, minMove: 10 ** -precision } });
    try {
      const data = await this.api.query<{ candles: Candle[] }>(HISTORY, { symbol: instrument.symbol });
      this.series.setData(data.candles.map(bar));
      this.box.dataset.bars = String(data.candles.length);
      this.chart.timeScale().scrollToRealTime();
    } catch (error) {
      showError(this.error, error);
    }
    this.stop = this.api.subscribe<{ candles: Candle }>(
      FORMING,
      { symbol: instrument.symbol },
      ({ candles }) => {
        this.series.update(bar(candles));
        this.box.dataset.bars = String(this.series.data().length);
      },
      (error) => showError(this.error, error),
    );
  }
}
