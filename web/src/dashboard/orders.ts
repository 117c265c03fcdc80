// The portfolio's orders: open / filled / all views, legs grouped under their entry, limit,
// stop, trail and high-water-mark columns, created and updated times; cancel, cancel all and
// modify in place (replaceOrder). Live from `orderUpdates`; answers for a portfolio no longer
// shown are dropped (Selection.generation).
import type { Api } from "./api";
import { button, field, h, hideError, panel, select, showError, td, th } from "./dom";
import { num, when } from "./format";
import type { Selection } from "./state";

export interface Order {
  id: string;
  symbol: string;
  side: string;
  type: string;
  orderClass: string;
  timeInForce: string;
  status: string;
  quantity: string;
  filledQuantity: string;
  averageFillPrice: string | null;
  limitPrice: string | null;
  stopPrice: string | null;
  trailPrice: string | null;
  trailPercent: string | null;
  highWaterMark: string | null;
  rejectReason: string | null;
  createdAt: string;
  updatedAt: string;
  parent: { id: string } | null;
  fills: { price: string; quantity: string; timestamp: string }[];
  legs?: Order[];
}

const FLAT = `id symbol side type orderClass timeInForce status quantity filledQuantity
  averageFillPrice limitPrice stopPrice trailPrice trailPercent highWaterMark rejectReason createdAt
  updatedAt parent { id }`;
// Legs without their fills (they arrive again on their own when they trade): within the
// server's query cost limit for a page of 100 orders.
export const ORDER = `${FLAT} fills { price quantity timestamp } legs { ${FLAT} }`;
const ORDERS = `query($id: ID!) { orders(portfolioId: $id, first: 100) { edges { node { ${ORDER} } } } }`;
const UPDATES = `subscription($id: ID!) { orderUpdates(portfolioId: $id) { ${ORDER} } }`;
const CANCEL = `mutation($id: ID!) { cancelOrder(id: $id) { ${ORDER} } }`;
const CANCEL_ALL = `mutation($id: ID!) { cancelAllOrders(portfolioId: $id) { ${ORDER} } }`;
const REPLACE = `mutation($id: ID!, $input: ReplaceOrderInput!) { replaceOrder(id: $id, input: $input) { ${ORDER} } }`;
const EXPORT = `query($id: ID!) { exportUrl(portfolioId: $id, kind: ORDERS) }`;
const OPEN = new Set(["NEW", "PARTIALLY_FILLED", "HELD", "PENDING_NEW"]);
const VIEWS = [
  ["all", "All"],
  ["open", "Open"],
  ["filled", "Filled"],
] as const;
const HEADINGS = ["Created", "Updated", "Symbol", "Side", "Type", "Class", "TIF", "Qty", "Filled",
  "Limit", "Stop", "Trail", "HWM", "Avg price", "Status", ""];

export class Orders {
  readonly element: HTMLElement;
  readonly orders = new Map<string, Order>();
  onChange: (orders: Map<string, Order>) => void = () => {};
  private view: "open" | "filled" | "all" = "all";
  private readonly rows = h("tbody");
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly viewButtons = new Map<string, HTMLButtonElement>();
  private readonly cancelAll = button("Cancel all", () => void this.cancelEverything(), { class: "secondary small" });
  private readonly download = button("Download CSV", () => void this.exportOrders(), { class: "link small" });
  private editing: string | null = null;
  private editorRow: HTMLTableRowElement | null = null;
  private readonly rowCache = new Map<string, [string, HTMLTableRowElement]>();
  private stop: (() => void) | null = null;
  private pending = false;

  constructor(
    private readonly api: Api,
    private readonly selection: Selection,
  ) {
    const views = h("div", { class: "segmented", role: "group", "aria-label": "Orders view" });
    for (const [key, label] of VIEWS) {
      const choose = h("button", { type: "button", "data-view": key, "aria-pressed": String(key === this.view) }, label);
      choose.addEventListener("click", () => {
        this.view = key;
        for (const [k, b] of this.viewButtons) b.setAttribute("aria-pressed", String(k === key));
        this.render();
      });
      this.viewButtons.set(key, choose);
      views.append(choose);
    }
    const head = h("tr", {}, ...HEADINGS.map(th));
    this.element = panel("Orders", h("div", { class: "toolbar" }, views, this.cancelAll, this.download),
      h("div", { class: "scroll" }, h("table", { class: "orders" }, h("thead", {}, head), this.rows)), this.error);
    this.element.classList.add("orders-panel");
    selection.onPortfolio(() => this.open());
  }

  private open(): void {
    this.stop?.();
    this.stop = null;
    this.orders.clear();
    this.rowCache.clear();
    this.editing = null;
    this.editorRow = null;
    hideError(this.error);
    const portfolio = this.selection.portfolio;
    this.element.dataset.portfolioId = portfolio?.id ?? "";
    this.cancelAll.hidden = !portfolio || this.selection.readOnly;
    this.render();
    if (!portfolio) return;
    const generation = this.selection.generation;
    const accept = (order: Order): void => {
      if (this.selection.current(generation)) this.upsert(order);
    };
    this.stop = this.api.subscribe<{ orderUpdates: Order }>(UPDATES, { id: portfolio.id },
      ({ orderUpdates }) => accept(orderUpdates), (error) => showError(this.error, error));
    void this.api
      .query<{ orders: { edges: { node: Order }[] } }>(ORDERS, { id: portfolio.id })
      .then(({ orders }) => {
        if (!this.selection.current(generation)) return; // a late answer for another portfolio
        orders.edges.forEach(({ node }) => this.upsert(node, false));
        this.render();
      })
      .catch((error: unknown) => this.selection.current(generation) && showError(this.error, error));
  }

  /** Keeps the newest version of an order (an older update arriving late is ignored). */
  upsert(order: Order, render = true): void {
    // Legs (held exits too) come with their entry: grouped under it.
    for (const leg of order.legs ?? []) {
      const known = this.orders.get(leg.id);
      this.upsert({ ...leg, fills: known?.fills ?? [], parent: leg.parent ?? { id: order.id } }, false);
    }
    const known = this.orders.get(order.id);
    if (known && known.updatedAt > order.updatedAt) return;
    this.orders.set(order.id, { ...order, parent: order.parent ?? known?.parent ?? null });
    if (render) this.renderSoon();
  }

  private renderSoon(): void {
    if (this.pending) return;
    this.pending = true;
    requestAnimationFrame(() => {
      this.pending = false;
      this.render();
    });
  }

  private shown(order: Order): boolean {
    if (this.view === "open") return OPEN.has(order.status);
    if (this.view === "filled") return order.status === "FILLED" || order.status === "PARTIALLY_FILLED";
    return true;
  }

  private render(): void {
    const all = [...this.orders.values()].sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1));
    const children = new Map<string, Order[]>();
    for (const order of all) {
      if (order.parent) children.set(order.parent.id, [...(children.get(order.parent.id) ?? []), order]);
    }
    const rows: HTMLElement[] = [];
    const add = (order: Order, depth: number): void => {
      const legs = (children.get(order.id) ?? []).reverse();
      if (!this.shown(order) && !legs.some((leg) => this.shown(leg))) return;
      rows.push(this.cachedRow(order, depth));
      // The open editor is kept as it is (what the user typed) across live updates.
      if (this.editing === order.id) rows.push((this.editorRow ??= this.editor(order)));
      for (const leg of legs) add(leg, depth + 1);
    };
    for (const order of all) if (!order.parent || !this.orders.has(order.parent.id)) add(order, 0);
    if (!rows.length) rows.push(h("tr", { class: "empty" }, h("td", { colspan: String(HEADINGS.length) }, "No orders in this view.")));
    this.rows.replaceChildren(...rows);
    this.onChange(this.orders);
  }

  /** An unchanged order keeps its row (and its buttons) across renders. */
  private cachedRow(order: Order, depth: number): HTMLTableRowElement {
    const key = `${order.updatedAt}|${order.status}|${depth}`;
    const known = this.rowCache.get(order.id);
    if (known && known[0] === key) return known[1];
    const row = this.row(order, depth);
    this.rowCache.set(order.id, [key, row]);
    return row;
  }

  private row(order: Order, depth: number): HTMLTableRowElement {
    const trail = order.trailPrice ?? (order.trailPercent !== null ? `${num(order.trailPercent)}%` : null);
    const status = td(order.status.replace("_", " "), `status ${order.status}`);
    if (order.rejectReason) status.title = order.rejectReason;
    const actions = h("td", { class: "actions" });
    if (OPEN.has(order.status) && !this.selection.readOnly) {
      if (order.status !== "HELD") {
        actions.append(button("Modify", () => {
          this.editing = this.editing === order.id ? null : order.id;
          this.editorRow = null;
          this.render();
        }, { class: "secondary small", "aria-label": `Modify order ${order.symbol} ${order.side} ${order.quantity}` }));
      }
      actions.append(button("Cancel", () => void this.cancel(order.id), {
        class: "secondary small", "aria-label": `Cancel order ${order.symbol} ${order.side} ${order.quantity}`,
      }));
    }
    const symbol = td(depth ? `↳ ${order.symbol}` : order.symbol, depth ? "symbol leg" : "symbol");
    const row = h("tr", {
      "data-order-id": order.id,
      "data-status": order.status,
      "data-updated-at": order.updatedAt,
      ...(order.parent ? { "data-parent-id": order.parent.id } : {}),
    },
      td(when(order.createdAt)),
      td(when(order.updatedAt)),
      symbol,
      td(order.side, order.side === "BUY" ? "up" : "down"),
      td(order.type.replace("_", " ")),
      td(order.orderClass),
      td(order.timeInForce),
      td(num(order.quantity), "quantity"),
      td(num(order.filledQuantity)),
      td(num(order.limitPrice), "limit"),
      td(num(order.stopPrice), "stop"),
      td(typeof trail === "string" && trail.endsWith("%") ? trail : num(trail), "trail"),
      td(num(order.highWaterMark), "hwm"),
      td(num(order.averageFillPrice), "average"),
      status,
      actions,
    );
    if (depth) row.classList.add("leg");
    return row;
  }

  /** The inline form of replaceOrder: omitted fields keep their value. */
  private editor(order: Order): HTMLTableRowElement {
    const quantity = h("input", { name: "replace-quantity", value: order.quantity, inputmode: "decimal" });
    const controls: HTMLElement[] = [field("Qty", quantity)];
    const limit = h("input", { name: "replace-limitPrice", value: order.limitPrice ?? "", inputmode: "decimal" });
    const stop = h("input", { name: "replace-stopPrice", value: order.stopPrice ?? "", inputmode: "decimal" });
    const trail = h("input", { name: "replace-trail", value: order.trailPrice ?? order.trailPercent ?? "", inputmode: "decimal" });
    if (order.limitPrice !== null) controls.push(field("Limit", limit));
    if (order.stopPrice !== null) controls.push(field("Stop", stop));
    if (order.type === "TRAILING_STOP") controls.push(field(order.trailPrice !== null ? "Trail" : "Trail %", trail));
    const tif = select("replace-timeInForce", ["DAY", "GTC", "IOC", "FOK"], "Time in force");
    tif.value = order.timeInForce;
    controls.push(field("TIF", tif));
    const form = h("form", { class: "inline replace" }, ...controls, h("button", { type: "submit", class: "small" }, "Send"),
      button("Close", () => { this.editing = null; this.editorRow = null; this.render(); }, { class: "secondary small" }));
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const input: Record<string, string> = {};
      if (quantity.value.trim() !== order.quantity) input.quantity = quantity.value.trim();
      if (order.limitPrice !== null && limit.value.trim() !== order.limitPrice) input.limitPrice = limit.value.trim();
      if (order.stopPrice !== null && stop.value.trim() !== order.stopPrice) input.stopPrice = stop.value.trim();
      const trailNow = order.trailPrice ?? order.trailPercent;
      if (order.type === "TRAILING_STOP" && trail.value.trim() !== trailNow) {
        input[order.trailPrice !== null ? "trailPrice" : "trailPercent"] = trail.value.trim();
      }
      if (tif.value !== order.timeInForce) input.timeInForce = tif.value;
      void this.replace(order.id, input);
    });
    return h("tr", { class: "editor", "data-editing": order.id }, h("td", { colspan: String(HEADINGS.length) }, form));
  }

  private async replace(id: string, input: Record<string, string>): Promise<void> {
    hideError(this.error);
    try {
      const { replaceOrder } = await this.api.query<{ replaceOrder: Order }>(REPLACE, { id, input });
      this.editing = null;
      this.editorRow = null;
      this.upsert(replaceOrder);
      const old = this.orders.get(id);
      if (old) this.upsert({ ...old, status: "REPLACED", updatedAt: replaceOrder.createdAt });
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async cancel(id: string): Promise<void> {
    hideError(this.error);
    try {
      const { cancelOrder } = await this.api.query<{ cancelOrder: Order }>(CANCEL, { id });
      this.upsert(cancelOrder);
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async cancelEverything(): Promise<void> {
    const portfolio = this.selection.portfolio;
    if (!portfolio) return;
    hideError(this.error);
    try {
      const { cancelAllOrders } = await this.api.query<{ cancelAllOrders: Order[] }>(CANCEL_ALL, { id: portfolio.id });
      cancelAllOrders.forEach((order) => this.upsert(order));
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async exportOrders(): Promise<void> {
    const portfolio = this.selection.portfolio;
    if (!portfolio) return;
    try {
      const { exportUrl } = await this.api.query<{ exportUrl: string }>(EXPORT, { id: portfolio.id });
      location.assign(exportUrl); // a plain link: the signed token in it is the credential
    } catch (error) {
      showError(this.error, error);
    }
  }

  close(): void {
    this.stop?.();
  }
}
