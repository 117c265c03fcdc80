// For ADMIN and ANALYST: the live event feed (`eventCreated`) and today's `eventSummary`,
// refreshed at most every few seconds while events arrive.
import type { Api } from "./api";
import { fixed, h, panel, showError } from "./dom";

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
  byType: { type: string; count: number; totalValue: number }[];
}

const FEED = `subscription { eventCreated { id userId type value timestamp } }`;
const SUMMARY = `query($from: DateTime!, $to: DateTime!) {
  eventSummary(from: $from, to: $to) { totalEvents totalValue byType { type count totalValue } } }`;
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
  private readonly error = h("p", { class: "error", hidden: "" });
  private timer: number | null = null;
  private stop: (() => void) | null = null;

  constructor(private readonly api: Api) {
    this.feed = panel("Live events", this.list, this.error);
    this.summary = panel("Today (UTC)", this.totals);
  }

  start(): void {
    void this.refresh();
    this.stop = this.api.subscribe<{ eventCreated: Event }>(
      FEED,
      {},
      ({ eventCreated }) => this.add(eventCreated),
      (error) => showError(this.error, error),
    );
  }

  private add(event: Event): void {
    const time = new Date(event.timestamp).toLocaleTimeString();
    this.list.prepend(
      h("li", {}, h("time", {}, time), ` ${event.type} `, h("b", {}, fixed(event.value)), ` · ${event.userId}`),
    );
    while (this.list.children.length > FEED_LENGTH) this.list.lastElementChild?.remove();
    this.timer ??= window.setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, SUMMARY_EVERY_MS);
  }

  private async refresh(): Promise<void> {
    try {
      const { eventSummary } = await this.api.query<{ eventSummary: Summary }>(SUMMARY, today());
      this.totals.replaceChildren(
        h("dt", {}, "Events"),
        h("dd", {}, String(eventSummary.totalEvents)),
        h("dt", {}, "Value"),
        h("dd", {}, fixed(eventSummary.totalValue)),
        ...eventSummary.byType.flatMap((t) => [
          h("dt", {}, t.type),
          h("dd", {}, `${t.count} · ${fixed(t.totalValue)}`),
        ]),
      );
    } catch (error) {
      showError(this.error, error);
    }
  }

  close(): void {
    this.stop?.();
    if (this.timer !== null) clearTimeout(this.timer);
  }
}
