// For ADMIN and ANALYST: the event feed, opening with the most recent events (`events`) and
// then live (`eventCreated`), and today's `eventSummary` with its hourly series, refreshed at
// most every few seconds while events arrive.
import type { Api } from "./api";
import { h, panel, showError } from "./dom";
import { num, time } from "./format";

interface Event {
  id: string;
  userId: string;
  type: string;
  value: number;
  timestamp: string;
}
interface Summary {
  totalEvents: number;
  totalValue: number;
  averageTicket: number | null;
  byType: { type: string; count: number; totalValue: number }[];
  series: { start: string; count: number; totalValue: number }[];
}

const FIELDS = "id userId type value timestamp";
const RECENT = `{ events(first: 30) { edges { node { ${FIELDS} } } } }`;
const FEED = `subscription { eventCreated { ${FIELDS} } }`;
const SUMMARY = `query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to) { totalEvents totalValue averageTicket byType { type count totalValue }
    series(bucket: HOUR) { start count totalValue } } }`;
const FEED_LENGTH = 30;
const SUMMARY_EVERY_MS = 5000;

function today(): { from: string; to: string } {
  const start = new Date();
  start.setUTCHours(0, 0, 0, 0);
  const end = new Date(start.getTime() + 86_400_000);
  return { from: start.toISOString(), to: end.toISOString() };
}

export class Events {
  readonly feed: HTMLElement;
  readonly summary: HTMLElement;
  private readonly list = h("ol", { class: "events" });
  private readonly totals = h("dl", { class: "value" });
  private readonly bars = h("div", { class: "series", role: "img", "aria-label": "Events per hour today (UTC)" });
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly seen = new Set<string>();
  private timer: number | null = null;
  private stop: (() => void) | null = null;

  constructor(private readonly api: Api) {
    this.feed = panel("Live events", this.list, this.error);
    this.summary = panel("Today (UTC)", this.totals, this.bars);
  }

  start(): void {
    void this.refresh();
    this.stop = this.api.subscribe<{ eventCreated: Event }>(FEED, {}, ({ eventCreated }) => this.add(eventCreated),
      (error) => showError(this.error, error));
    void this.api
      .query<{ events: { edges: { node: Event }[] } }>(RECENT)
      .then(({ events }) => [...events.edges].reverse().forEach(({ node }) => this.add(node, false)))
      .catch((error: unknown) => showError(this.error, error));
  }

  private add(event: Event, live = true): void {
    if (this.seen.has(event.id)) return;
    this.seen.add(event.id);
    const item = h("li", { "data-event-id": event.id }, h("time", {}, time(event.timestamp)), ` ${event.type} `,
      h("b", {}, num(event.value, 2)), ` · ${event.userId}`);
    // Newest first: a live event goes on top; history arrives oldest first, also on top.
    this.list.prepend(item);
    while (this.list.children.length > FEED_LENGTH) this.list.lastElementChild?.remove();
    if (!live) return;
    this.timer ??= window.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, SUMMARY_EVERY_MS);
  }

  private async refresh(): Promise<void> {
    try {
      const { eventSummary } = await this.api.query<{ eventSummary: Summary }>(SUMMARY, today());
      this.totals.replaceChildren(
        h("dt", {}, "Events"), h("dd", {}, num(eventSummary.totalEvents, 0)),
        h("dt", {}, "Value"), h("dd", {}, num(eventSummary.totalValue, 2)),
        h("dt", {}, "Average ticket"), h("dd", {}, num(eventSummary.averageTicket, 2)),
        ...eventSummary.byType.flatMap((t) => [h("dt", {}, t.type), h("dd", {}, `${num(t.count, 0)} · ${num(t.totalValue, 2)}`)]),
      );
      const peak = Math.max(1, ...eventSummary.series.map((p) => p.count));
      this.bars.replaceChildren(...eventSummary.series.map((point) => {
        const bar = h("span", { class: "bar", title: `${time(point.start)} · ${point.count} events · ${num(point.totalValue, 2)}` });
        bar.style.height = `${Math.round((point.count / peak) * 100)}%`; // CSSOM, not a style attribute
        return bar;
      }));
      this.bars.dataset.points = String(eventSummary.series.length);
    } catch (error) {
      showError(this.error, error);
    }
  }

  close(): void {
    this.stop?.();
    if (this.timer !== null) clearTimeout(this.timer);
  }
}
