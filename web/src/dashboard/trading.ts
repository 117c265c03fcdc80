// The order ticket, the live orders table (`orderUpdates`) and the portfolio value tile
// (`portfolioValue`) of the portfolio in the selected instrument's currency: created, with a
// paper deposit, when the user has none.
import type { Api } from "./api";
import { fixed, h, panel, showError } from "./dom";
import type { Instrument } from "./watchlist";

interface Portfolio {
  id: string;
  name: string;
  baseCurrency: string;
}
interface Order {
  id: string;
  symbol: string;
  side: string;
  type: string;
  status: string;
  quantity: string;
  filledQuantity: string;
  averageFillPrice: string | null;
  limitPrice: string | null;
  rejectReason: string | null;
  updatedAt: string;
}
interface Value {
  cash: string;
  equity: string;
  unrealizedPnl: string;
}

const PAPER_DEPOSIT = "100000";
const ORDER = "id symbol side type status quantity filledQuantity averageFillPrice limitPrice rejectReason updatedAt";
const PORTFOLIOS = "{ portfolios { id name baseCurrency } }";
const CREATE = `mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) { id name baseCurrency } }`;
const DEPOSIT = `mutation($id: ID!, $amount: Decimal!) { deposit(portfolioId: $id, amount: $amount) { id } }`;
const ORDERS = `query($id: ID!) { orders(portfolioId: $id, first: 50) { edges { node { ${ORDER} } } } }`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER} } }`;
const UPDATES = `subscription($id: ID!) { orderUpdates(portfolioId: $id) { ${ORDER} } }`;
const VALUE = `subscription($id: ID!) { portfolioValue(portfolioId: $id) { cash equity unrealizedPnl } }`;
const EXPORT = `query($id: ID!) { exportUrl(portfolioId: $id, kind: ORDERS) }`;

function field(label: string, control: HTMLElement): HTMLElement {
  return h("label", {}, h("span", {}, label), control);
}

export class Trading {
  readonly ticket: HTMLElement;
  readonly orders: HTMLElement;
  readonly value: HTMLElement;
  private instrument: Instrument | null = null;
  private portfolio: Portfolio | null = null;
  private stops: (() => void)[] = [];
  private readonly side = h("select", { name: "side" }, h("option", {}, "BUY"), h("option", {}, "SELL"));
  private readonly type = h("select", { name: "type" }, h("option", {}, "MARKET"), h("option", {}, "LIMIT"));
  private readonly quantity = h("input", { name: "quantity", value: "1", inputmode: "decimal" });
  private readonly limit = h("input", { name: "limitPrice", placeholder: "limit price", inputmode: "decimal" });
  private readonly place = h("button", { type: "submit", disabled: "" }, "Place order");
  private readonly ticketTitle = h("p", { class: "muted" }, "select an instrument");
  private readonly ticketError = h("p", { class: "error", hidden: "" });
  private readonly rows = h("tbody");
  private readonly ordersError = h("p", { class: "error", hidden: "" });
  private readonly tile = h("dl", { class: "value" });
  private readonly download = h("button", { type: "button", class: "link" }, "Download orders CSV");

  constructor(private readonly api: Api) {
    const form = h(
      "form",
      { class: "ticket" },
      this.ticketTitle,
      field("Side", this.side),
      field("Type", this.type),
      field("Quantity", this.quantity),
      field("Limit", this.limit),
      this.place,
      this.ticketError,
    );
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    this.ticket = panel("Order ticket", form);
    const head = h(
      "tr",
      {},
      ...["Time", "Symbol", "Side", "Type", "Qty", "Filled", "Avg price", "Status"].map((t) => h("th", {}, t)),
    );
    this.download.addEventListener("click", () => void this.exportOrders());
    this.orders = panel("Orders", h("table", { class: "orders" }, h("thead", {}, head), this.rows), this.download, this.ordersError);
    this.value = panel("Portfolio value", this.tile);
  }

  async show(instrument: Instrument): Promise<void> {
    this.instrument = instrument;
    this.ticketTitle.textContent = `${instrument.symbol} in ${instrument.currency}`;
    this.ticketError.hidden = true;
    if (this.portfolio?.baseCurrency === instrument.currency) return;
    this.place.disabled = true;
    try {
      this.open(await this.portfolioIn(instrument.currency));
    } catch (error) {
      showError(this.ticketError, error);
    }
  }

  private async portfolioIn(currency: string): Promise<Portfolio> {
    const { portfolios } = await this.api.query<{ portfolios: Portfolio[] }>(PORTFOLIOS);
    const found = portfolios.find((p) => p.baseCurrency === currency);
    if (found) return found;
    const input = { name: `Paper ${currency}`, baseCurrency: currency };
    const { createPortfolio } = await this.api.query<{ createPortfolio: Portfolio }>(CREATE, { input });
    await this.api.query(DEPOSIT, { id: createPortfolio.id, amount: PAPER_DEPOSIT });
    return createPortfolio;
  }

  private open(portfolio: Portfolio): void {
    for (const stop of this.stops) stop();
    this.portfolio = portfolio;
    this.place.disabled = false;
    this.ticket.dataset.portfolioId = portfolio.id;
    this.rows.replaceChildren();
    this.tile.replaceChildren(h("dt", {}, portfolio.name), h("dd", {}, "…"));
    this.stops = [
      this.api.subscribe<{ orderUpdates: Order }>(
        UPDATES,
        { id: portfolio.id },
        ({ orderUpdates }) => this.upsert(orderUpdates),
        (error) => showError(this.ordersError, error),
      ),
      this.api.subscribe<{ portfolioValue: Value }>(
        VALUE,
        { id: portfolio.id },
        ({ portfolioValue }) => this.showValue(portfolio, portfolioValue),
        (error) => showError(this.ordersError, error),
      ),
    ];
    void this.api
      .query<{ orders: { edges: { node: Order }[] } }>(ORDERS, { id: portfolio.id })
      .then(({ orders }) => orders.edges.reverse().forEach(({ node }) => this.upsert(node)))
      .catch((error: unknown) => showError(this.ordersError, error));
  }

  private async submit(): Promise<void> {
    if (!this.instrument || !this.portfolio) return;
    this.ticketError.hidden = true;
    this.place.disabled = true;
    const input: Record<string, string> = {
      portfolioId: this.portfolio.id,
      symbol: this.instrument.symbol,
      side: this.side.value,
      type: this.type.value,
      quantity: this.quantity.value.trim(),
    };
    if (this.type.value === "LIMIT") input.limitPrice = this.limit.value.trim();
    try {
      const { placeOrder } = await this.api.query<{ placeOrder: Order }>(PLACE, { input });
      this.upsert(placeOrder);
    } catch (error) {
      showError(this.ticketError, error);
    } finally {
      this.place.disabled = false;
    }
  }

  private upsert(order: Order): void {
    let row = this.rows.querySelector<HTMLTableRowElement>(`tr[data-order-id="${order.id}"]`);
    const known = row?.dataset.updatedAt;
    if (row && known && known > order.updatedAt) return; // an older update arriving late
    const cells = [
      new Date(order.updatedAt).toLocaleTimeString(),
      order.symbol,
      order.side,
      order.type,
      order.quantity,
      order.filledQuantity,
      fixed(order.averageFillPrice),
      order.status,
    ].map((text, i) => h("td", i === 7 ? { class: `status ${order.status}` } : {}, text));
    if (order.rejectReason) cells[7].title = order.rejectReason;
    if (!row) {
      row = h("tr", { "data-order-id": order.id });
      this.rows.prepend(row);
    }
    row.dataset.updatedAt = order.updatedAt;
    row.dataset.status = order.status;
    row.replaceChildren(...cells);
  }

  private showValue(portfolio: Portfolio, value: Value): void {
    const pnl = Number(value.unrealizedPnl);
    this.tile.replaceChildren(
      h("dt", {}, "Equity"),
      h("dd", { class: "equity" }, `${fixed(value.equity)} ${portfolio.baseCurrency}`),
      h("dt", {}, "Cash"),
      h("dd", {}, fixed(value.cash)),
      h("dt", {}, "Unrealized P&L"),
      h("dd", { class: pnl >= 0 ? "up" : "down" }, fixed(value.unrealizedPnl)),
    );
  }

  private async exportOrders(): Promise<void> {
    if (!this.portfolio) return;
    try {
      const { exportUrl } = await this.api.query<{ exportUrl: string }>(EXPORT, { id: this.portfolio.id });
      location.assign(exportUrl); // a plain link: the signed token in it is the credential
    } catch (error) {
      showError(this.ordersError, error);
    }
  }

  close(): void {
    for (const stop of this.stops) stop();
  }
}
