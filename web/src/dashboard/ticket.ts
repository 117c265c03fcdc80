// The order ticket for the selected instrument in the selected portfolio: every order type,
// time in force and order class the API has (bracket / OCO / OTO exits), and an estimate of
// the cost against buying power before sending. Crypto trades around the clock: GTC by
// default and no DAY. Disabled, saying why, when the portfolio is not yours.
import type { Accounts } from "./account";
import type { Api } from "./api";
import { button, field, h, hideError, panel, select, showError } from "./dom";
import { money } from "./format";
import type { Market } from "./market";
import { ORDER, type Order } from "./orders";
import type { Instrument, Selection } from "./state";

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER} } }`;
const TYPES: [string, string][] = [
  ["MARKET", "Market"],
  ["LIMIT", "Limit"],
  ["STOP", "Stop"],
  ["STOP_LIMIT", "Stop limit"],
  ["TRAILING_STOP", "Trailing stop"],
];
const CLASSES: [string, string][] = [
  ["SIMPLE", "Simple"],
  ["BRACKET", "Bracket (take-profit + stop-loss)"],
  ["OCO", "OCO (take-profit or stop-loss)"],
  ["OTO", "OTO (entry then one exit)"],
];

export class Ticket {
  readonly element: HTMLElement;
  onPlaced: (order: Order) => void = () => {};
  private readonly title = h("p", { class: "ticket-title muted" }, "Select an instrument");
  private readonly side = h("div", { class: "segmented sides", role: "group", "aria-label": "Side" });
  private sideValue = "BUY";
  private readonly type = select("type", TYPES);
  private readonly tif = select("timeInForce", ["DAY", "GTC", "IOC", "FOK"]);
  private readonly orderClass = select("orderClass", CLASSES);
  private readonly quantity = h("input", { name: "quantity", value: "1", inputmode: "decimal", required: "" });
  private readonly limit = h("input", { name: "limitPrice", inputmode: "decimal" });
  private readonly stop = h("input", { name: "stopPrice", inputmode: "decimal" });
  private readonly trail = h("input", { name: "trail", inputmode: "decimal", "aria-label": "Trail" });
  private readonly trailKind = select("trailKind", [["trailPercent", "%"], ["trailPrice", "amount"]], "Trail as");
  private readonly takeProfit = h("input", { name: "takeProfit", inputmode: "decimal" });
  private readonly stopLoss = h("input", { name: "stopLoss", inputmode: "decimal" });
  private readonly stopLossLimit = h("input", { name: "stopLossLimit", inputmode: "decimal", placeholder: "optional" });
  private readonly estimate = h("p", { class: "estimate", "aria-live": "polite" });
  private readonly place = h("button", { type: "submit", disabled: "", class: "buy" }, "Place order");
  private readonly note = h("p", { class: "note muted", hidden: "" });
  private readonly openPaper = button("", () => void this.openPaperPortfolio(), { class: "secondary small", hidden: "" });
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly rows: Record<string, HTMLElement>;
  private instrument: Instrument | null = null;

  constructor(
    private readonly api: Api,
    private readonly market: Market,
    private readonly selection: Selection,
    private readonly accounts: Accounts,
  ) {
    for (const value of ["BUY", "SELL"]) {
      const choose = h("button", { type: "button", "data-side": value, "aria-pressed": String(value === "BUY") }, value === "BUY" ? "Buy" : "Sell");
      choose.addEventListener("click", () => {
        this.sideValue = value;
        for (const b of this.side.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.side === value));
        this.place.className = value === "BUY" ? "buy" : "sell";
        this.update();
      });
      this.side.append(choose);
    }
    this.rows = {
      limit: field("Limit", this.limit),
      stop: field("Stop", this.stop),
      trail: field("Trail", h("span", { class: "pair", "aria-label": "Trail and unit" }, this.trail, this.trailKind)),
      takeProfit: field("Take profit", this.takeProfit),
      stopLoss: field("Stop loss", this.stopLoss),
      stopLossLimit: field("SL limit", this.stopLossLimit),
    };
    const form = h("form", { class: "ticket" }, this.title, this.side,
      field("Type", this.type), field("Quantity", this.quantity), this.rows.limit, this.rows.stop, this.rows.trail,
      field("Time in force", this.tif), field("Class", this.orderClass), this.rows.takeProfit, this.rows.stopLoss,
      this.rows.stopLossLimit, this.estimate, this.place, this.note, this.openPaper, this.error);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.submit();
    });
    form.addEventListener("input", () => this.update());
    form.addEventListener("change", () => this.update());
    this.element = panel("Order ticket", form);
    this.element.classList.add("ticket-panel");
    selection.onInstrument((instrument) => void this.show(instrument));
    selection.onPortfolio(() => this.update());
    market.onQuote((quote) => quote.symbol === this.instrument?.symbol && this.update());
    accounts.onAccount = () => this.update();
    this.update();
  }

  private async show(instrument: Instrument): Promise<void> {
    this.instrument = instrument;
    hideError(this.error);
    this.title.textContent = `${instrument.symbol} · ${instrument.name} · ${instrument.currency}`;
    const crypto = instrument.assetClass === "CRYPTO";
    this.tif.value = crypto ? "GTC" : "DAY";
    (this.tif.querySelector("option[value=DAY]") as HTMLOptionElement).disabled = crypto; // never a midnight DAY
    this.market.want("ticket", [instrument.symbol]);
    // Your own portfolio in the instrument's currency, chosen now (a first one is opened for a
    // new user); staff looking at another user's portfolio stay on it, read-only.
    const current = this.selection.portfolio;
    if (!this.selection.readOnly && current?.baseCurrency !== instrument.currency) {
      const generation = this.selection.generation;
      const createIfNone = this.accounts.own().length === 0;
      try {
        const found = await this.accounts.ownIn(instrument.currency, createIfNone);
        // Only if nothing else was chosen meanwhile (a fast switch must not land elsewhere).
        if (found && this.selection.current(generation) && this.instrument === instrument) this.selection.selectPortfolio(found);
      } catch (error) {
        showError(this.error, error);
      }
    }
    this.update();
  }

  /** Shows the fields the type and class need, the estimate, and whether sending is possible. */
  private update(): void {
    const type = this.type.value;
    const kind = this.orderClass.value;
    this.rows.limit.hidden = !(type === "LIMIT" || type === "STOP_LIMIT");
    this.rows.stop.hidden = !(type === "STOP" || type === "STOP_LIMIT");
    this.rows.trail.hidden = type !== "TRAILING_STOP";
    this.rows.takeProfit.hidden = kind === "SIMPLE";
    this.rows.stopLoss.hidden = kind === "SIMPLE";
    this.rows.stopLossLimit.hidden = kind === "SIMPLE";
    const portfolio = this.selection.portfolio;
    const instrument = this.instrument;
    const why = !instrument ? "Select an instrument."
      : !portfolio ? "Create a portfolio to trade."
      : this.selection.readOnly ? `Read-only: ${portfolio.owner?.email ?? "another user"}'s portfolio.`
      : portfolio.baseCurrency !== instrument.currency
        ? `${instrument.symbol} trades in ${instrument.currency}; ${portfolio.name} holds ${portfolio.baseCurrency}.`
        : "";
    this.note.textContent = why;
    this.note.hidden = !why;
    const mismatch = !!instrument && !!portfolio && !this.selection.readOnly && portfolio.baseCurrency !== instrument.currency;
    const creatable = mismatch && this.selection.user.role !== "ANALYST";
    this.openPaper.hidden = !creatable;
    if (creatable && instrument) this.openPaper.textContent = `Open a paper ${instrument.currency} portfolio`;
    this.place.disabled = !!why;
    this.place.textContent = `${this.sideValue === "BUY" ? "Buy" : "Sell"} ${instrument?.symbol ?? ""}`.trim();
    this.showEstimate();
  }

  private showEstimate(): void {
    const instrument = this.instrument;
    const account = this.accounts.account;
    const quote = instrument ? this.market.quotes.get(instrument.symbol) : undefined;
    const quantity = Number(this.quantity.value);
    const basis = { LIMIT: this.limit.value, STOP_LIMIT: this.limit.value, STOP: this.stop.value }[this.type.value]
      ?? (quote ? (this.sideValue === "BUY" ? quote.ask : quote.bid) : "");
    if (!instrument || !basis || !Number.isFinite(quantity) || quantity <= 0) {
      this.estimate.textContent = "";
      return;
    }
    const currency = instrument.currency;
    const notional = quantity * Number(basis);
    const power = account && this.selection.portfolio?.baseCurrency === currency ? account.availableCash : null;
    const text = `Est. ${this.sideValue === "BUY" ? "cost" : "proceeds"} ${money(notional.toFixed(2), currency)}` +
      (power !== null ? ` · Buying power ${money(power, currency)}` : "");
    this.estimate.textContent = text;
    const short = this.sideValue === "BUY" && power !== null && notional > Number(power);
    this.estimate.classList.toggle("down", short);
    if (short) this.estimate.textContent += " · more than your buying power";
    this.estimate.dataset.notional = notional.toFixed(2);
  }

  private input(): Record<string, unknown> {
    const type = this.type.value;
    const kind = this.orderClass.value;
    const input: Record<string, unknown> = {
      portfolioId: this.selection.portfolio!.id,
      symbol: this.instrument!.symbol,
      side: this.sideValue,
      type,
      quantity: this.quantity.value.trim(),
      timeInForce: this.tif.value,
      orderClass: kind,
    };
    if (type === "LIMIT" || type === "STOP_LIMIT") input.limitPrice = this.limit.value.trim();
    if (type === "STOP" || type === "STOP_LIMIT") input.stopPrice = this.stop.value.trim();
    if (type === "TRAILING_STOP") input[this.trailKind.value] = this.trail.value.trim();
    if (kind !== "SIMPLE") {
      if (this.takeProfit.value.trim()) input.takeProfit = { limitPrice: this.takeProfit.value.trim() };
      if (this.stopLoss.value.trim()) {
        input.stopLoss = {
          stopPrice: this.stopLoss.value.trim(),
          ...(this.stopLossLimit.value.trim() ? { limitPrice: this.stopLossLimit.value.trim() } : {}),
        };
      }
    }
    return input;
  }

  private async submit(): Promise<void> {
    if (this.place.disabled || !this.instrument || !this.selection.portfolio) return;
    hideError(this.error);
    this.place.disabled = true;
    try {
      const { placeOrder } = await this.api.query<{ placeOrder: Order }>(PLACE, { input: this.input() });
      this.onPlaced(placeOrder);
    } catch (error) {
      showError(this.error, error);
    } finally {
      this.update();
    }
  }

  private async openPaperPortfolio(): Promise<void> {
    if (!this.instrument) return;
    hideError(this.error);
    try {
      const made = await this.accounts.ownIn(this.instrument.currency, true);
      if (made) this.selection.selectPortfolio(made);
    } catch (error) {
      showError(this.error, error);
    }
  }
}
