// What every widget element shares: the `server`, `key` and `theme` attributes, a shadow root
// with the widgets' styles, the state line ("live", "delayed", "offline: why"), and starting
// its operations when it is on the page (and again when an attribute changes), stopping them
// when it is removed.
import { connection, type Connection, type ConnectionState, type Sink } from "./connection";
import { adoptStyles } from "./styles";

// The origin /widgets.js was loaded from: the default `server`.
const SCRIPT_ORIGIN = (() => {
  const script = document.currentScript as HTMLScriptElement | null;
  try {
    return script?.src ? new URL(script.src).origin : location.origin;
  } catch {
    return location.origin;
  }
})();

export abstract class WidgetElement extends HTMLElement {
  static readonly common = ["server", "key", "theme"];
  protected readonly root: ShadowRoot;
  protected readonly body = document.createElement("div");
  private readonly stateLine = document.createElement("span");
  private readonly problem = document.createElement("div");
  private stops: (() => void)[] = [];
  private restarting = false;
  protected conn: Connection | null = null;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: "open" });
    adoptStyles(this.root);
    this.stateLine.className = "state";
    this.stateLine.setAttribute("part", "state");
    this.problem.className = "problem";
    this.problem.setAttribute("role", "status");
    this.root.append(this.body, this.problem);
  }

  /** The element's content, made again on every (re)start. */
  protected abstract render(): void;

  /** Starts the operations; each returns its stop function through `this.run`. */
  protected abstract start(conn: Connection): void;

  connectedCallback(): void {
    this.schedule();
  }

  disconnectedCallback(): void {
    this.stop();
  }

  attributeChangedCallback(): void {
    if (this.isConnected) this.schedule();
  }

  /** The line that shows the connection state, for the widget to place. */
  protected get status(): HTMLElement {
    return this.stateLine;
  }

  protected run(query: string, variables: Record<string, unknown>, sink: Sink, once = false): void {
    if (this.conn) this.stops.push(this.conn.run(query, variables, sink, once));
  }

  protected showProblem(message: string): void {
    this.problem.textContent = message;
  }

  private schedule(): void {
    // Attributes often change together: start once, after all of them.
    if (this.restarting) return;
    this.restarting = true;
    queueMicrotask(() => {
      this.restarting = false;
      this.stop();
      if (this.isConnected) this.begin();
    });
  }

  private begin(): void {
    this.showProblem("");
    this.render();
    const key = this.getAttribute("key");
    if (!key) {
      this.setState("offline", "no key attribute: add key=\"wk_…\" (from the /widgets page)");
      return;
    }
    this.conn = connection(this.getAttribute("server") || SCRIPT_ORIGIN, key);
    this.stops.push(this.conn.watch((state, reason) => this.setState(state, reason)));
    this.start(this.conn);
  }

  private stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    this.conn = null;
  }

  private setState(state: ConnectionState, reason: string): void {
    this.setAttribute("state", state);
    this.stateLine.dataset.state = state;
    this.stateLine.textContent = state;
    this.stateLine.title = reason;
    if (state === "offline") this.showProblem(reason ? `offline: ${reason}` : "offline");
    else if (state === "live") this.showProblem("");
    this.onState(state);
  }

  /** A widget may react to a reconnect (the mini chart reloads its history). */
  protected onState(_state: ConnectionState): void {}
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className = "",
  text = "",
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (className) element.className = className;
  if (text) element.textContent = text;
  return element;
}

/** "+1.25%" / "-0.40%" and the class for its colour. */
export function percent(value: string | null): [string, string] {
  if (value === null || value === undefined) return ["—", "muted"];
  const n = Number(value);
  const sign = n > 0 ? "+" : "";
  return [`${sign}${value}%`, n > 0 ? "up" : n < 0 ? "down" : "muted"];
}

export function signed(value: string | null): string {
  if (value === null || value === undefined) return "—";
  return Number(value) > 0 ? `+${value}` : value;
}
