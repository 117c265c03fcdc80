// The account: a picker of your portfolios (staff may open another user's, read-only, with its
// owner shown), create one and deposit, the account summary (equity, cash, buying power,
// reserved cash, P&L, day P&L) and the positions with close / close-half. Live: re-read after
// every `portfolioValue` message (at most once a second) and after order changes.
import type { Api } from "./api";
import { button, field, h, hideError, panel, select, showError, table, td } from "./dom";
import { decimalsOf, direction, fractionPercent, money, num, percent, signed } from "./format";
import type { Market } from "./market";
import { LAST_PORTFOLIO, type Portfolio, type Selection } from "./state";

interface Position {
  symbol: string;
  quantity: string;
  averageCost: string | null;
  marketPrice: string | null;
  marketValue: string;
  unrealizedPnl: string;
  realizedPnl: string;
  previousClose: string | null;
  changeToday: string | null;
}
interface Account {
  id: string;
  cash: string;
  availableCash: string;
  equity: string;
  unrealizedPnl: string;
  realizedPnl: string;
  dayPnl: string;
  dayPnlPercent: string | null;
  positions: Position[];
}

const PORTFOLIO = "id name baseCurrency owner { id email }";
const PORTFOLIOS = `{ portfolios { ${PORTFOLIO} } }`;
const ACCOUNT = `query($id: ID!) { portfolio(id: $id) { id cash availableCash equity unrealizedPnl realizedPnl
  dayPnl dayPnlPercent positions { symbol quantity averageCost marketPrice marketValue unrealizedPnl
  realizedPnl previousClose changeToday } } }`;
const CREATE = `mutation($input: CreatePortfolioInput!) { createPortfolio(input: $input) { ${PORTFOLIO} } }`;
const DEPOSIT = `mutation($id: ID!, $amount: Decimal!) { deposit(portfolioId: $id, amount: $amount) { id } }`;
const VALUE = `subscription($id: ID!) { portfolioValue(portfolioId: $id) { equity } }`;
const CLOSE = `mutation($id: ID!, $symbol: String!, $percentage: Decimal) {
  closePosition(portfolioId: $id, symbol: $symbol, percentage: $percentage) { id status } }`;
export const PAPER_DEPOSIT = "100000";
const REFRESH_MS = 1000;

export class Accounts {
  readonly picker: HTMLElement;
  readonly summary: HTMLElement;
  readonly positions: HTMLElement;
  portfolios: Portfolio[] = [];
  account: Account | null = null;
  onAccount: (account: Account) => void = () => {};
  private readonly chooser = select("portfolio", [], "Portfolio");
  private readonly owner = h("p", { class: "owner muted" });
  private readonly tile = h("dl", { class: "value" });
  private readonly rows = h("tbody");
  private readonly positionRows = new Map<string, HTMLTableRowElement>();
  private readonly empty = h("p", { class: "muted" }, "No positions.");
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly positionsError = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly createForm: HTMLFormElement;
  private readonly depositForm: HTMLFormElement;
  private readonly newName = h("input", { name: "portfolio-name", placeholder: "Name", maxlength: "100", required: "" });
  private readonly newCurrency = select("portfolio-currency", [], "Currency");
  private readonly amount = h("input", { name: "deposit-amount", inputmode: "decimal", placeholder: "Amount", required: "" });
  private stop: (() => void) | null = null;
  private timer: number | null = null;
  private creating: Promise<Portfolio> | null = null;

  constructor(
    private readonly api: Api,
    private readonly market: Market,
    private readonly selection: Selection,
  ) {
    this.chooser.addEventListener("change", () => {
      this.selection.selectPortfolio(this.portfolios.find((p) => p.id === this.chooser.value) ?? null);
    });
    this.createForm = h("form", { class: "inline create-portfolio", hidden: "" },
      field("Name", this.newName, { class: "sr-label" }), field("Currency", this.newCurrency, { class: "sr-label" }),
      h("button", { type: "submit", class: "small" }, "Create"));
    this.createForm.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.create(this.newName.value.trim(), this.newCurrency.value);
    });
    this.depositForm = h("form", { class: "inline deposit" }, field("Deposit", this.amount, { class: "sr-label" }),
      h("button", { type: "submit", class: "small" }, "Deposit"));
    this.depositForm.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.deposit();
    });
    const newButton = button("New portfolio", () => {
      this.createForm.hidden = !this.createForm.hidden;
      if (!this.createForm.hidden) this.newName.focus();
    }, { class: "secondary small" });
    if (selection.user.role === "ANALYST") newButton.hidden = true; // analysts read, never trade
    this.picker = h("div", { class: "account-picker" }, field("Portfolio", this.chooser, { class: "sr-label" }), newButton);
    this.summary = panel("Account", this.owner, this.tile, this.depositForm, this.createForm, this.error);
    this.summary.classList.add("account");
    this.positions = panel("Positions", h("div", { class: "scroll" }, table("positions",
      ["Symbol", "Qty", "Avg cost", "Last", "Mkt value", "Unrealized", "Realized", "Day P&L", "Weight", ""], this.rows)),
      this.empty, this.positionsError);
    selection.onPortfolio((portfolio) => this.open(portfolio));
  }

  /** Loads the portfolios and opens the last one used (or yours in `currency`). */
  async start(currency?: string): Promise<void> {
    const currencies = [...new Set([...this.market.instruments.values()].map((i) => i.currency))].sort();
    this.newCurrency.replaceChildren(...currencies.map((c) => h("option", { value: c }, c)));
    try {
      this.portfolios = (await this.api.query<{ portfolios: Portfolio[] }>(PORTFOLIOS)).portfolios;
    } catch (error) {
      showError(this.error, error);
    }
    this.fillChooser();
    const own = this.own();
    const last = own.find((p) => p.id === localStorage.getItem(LAST_PORTFOLIO));
    this.selection.selectPortfolio(last ?? own.find((p) => p.baseCurrency === currency) ?? own[0] ?? null);
  }

  /** Your own portfolios, oldest first: the only ones anything trades in. */
  own(): Portfolio[] {
    return this.portfolios.filter((p) => p.owner?.id === this.selection.user.id);
  }

  /** Your portfolio in `currency` (opens a paper one with a deposit when you have none at all). */
  async ownIn(currency: string, createIfNone: boolean): Promise<Portfolio | null> {
    const found = this.own().find((p) => p.baseCurrency === currency);
    if (found || !createIfNone || this.selection.user.role === "ANALYST") return found ?? null;
    this.creating ??= this.create(`Paper ${currency}`, currency, PAPER_DEPOSIT).finally(() => (this.creating = null));
    return this.creating;
  }

  private fillChooser(): void {
    const own = this.own();
    const others = this.portfolios.filter((p) => p.owner?.id !== this.selection.user.id);
    const groups: HTMLElement[] = [];
    if (!own.length) groups.push(h("option", { value: "" }, "No portfolio yet"));
    groups.push(h("optgroup", { label: "Your portfolios" },
      ...own.map((p) => h("option", { value: p.id }, `${p.name} · ${p.baseCurrency}`))));
    if (others.length) {
      groups.push(h("optgroup", { label: "Other users' (read-only)" },
        ...others.map((p) => h("option", { value: p.id }, `${p.name} · ${p.baseCurrency} · ${p.owner?.email ?? "?"}`))));
    }
    this.chooser.replaceChildren(...groups);
    this.chooser.value = this.selection.portfolio?.id ?? "";
  }

  private open(portfolio: Portfolio | null): void {
    this.stop?.();
    this.stop = null;
    this.account = null;
    this.rows.replaceChildren();
    this.positionRows.clear();
    this.tile.replaceChildren();
    hideError(this.error);
    hideError(this.positionsError);
    this.chooser.value = portfolio?.id ?? "";
    const readOnly = this.selection.readOnly;
    this.depositForm.hidden = !portfolio || readOnly;
    this.summary.dataset.portfolioId = portfolio?.id ?? "";
    this.summary.dataset.readOnly = String(readOnly);
    this.owner.textContent = !portfolio ? "Create a portfolio to trade." : readOnly
      ? `Read-only: ${portfolio.owner?.email ?? "another user"}'s portfolio. Nothing can be traded here.`
      : `${portfolio.name} · ${portfolio.baseCurrency}`;
    this.owner.classList.toggle("read-only", readOnly);
    if (!portfolio) return;
    const generation = this.selection.generation;
    void this.refresh(generation);
    this.stop = this.api.subscribe<{ portfolioValue: unknown }>(VALUE, { id: portfolio.id },
      () => this.refreshSoon(generation), (error) => showError(this.error, error));
  }

  /** Re-reads the account soon (coalescing bursts of changes). */
  refreshSoon(generation = this.selection.generation): void {
    if (this.timer !== null) return;
    this.timer = window.setTimeout(() => {
      this.timer = null;
      void this.refresh(generation);
    }, REFRESH_MS / 4);
  }

  private async refresh(generation: number): Promise<void> {
    const portfolio = this.selection.portfolio;
    if (!portfolio || !this.selection.current(generation)) return;
    try {
      const { portfolio: account } = await this.api.query<{ portfolio: Account }>(ACCOUNT, { id: portfolio.id });
      if (!this.selection.current(generation)) return; // another portfolio meanwhile
      this.account = account;
      this.render(portfolio, account);
      this.onAccount(account);
    } catch (error) {
      if (this.selection.current(generation)) showError(this.error, error);
    }
  }

  private render(portfolio: Portfolio, account: Account): void {
    const currency = portfolio.baseCurrency;
    const reserved = (Number(account.cash) - Number(account.availableCash)).toFixed(scale(account.cash));
    const entry = (label: string, value: string, className = "", key = label): HTMLElement[] => [
      h("dt", {}, label),
      h("dd", { class: className, "data-field": key }, value),
    ];
    this.tile.replaceChildren(
      ...entry("Equity", money(account.equity, currency), "equity"),
      ...entry("Cash", money(account.cash, currency), "", "cash"),
      ...entry("Buying power", money(account.availableCash, currency), "", "buyingPower"),
      ...entry("Reserved", money(reserved, currency), "", "reserved"),
      ...entry("Unrealized P&L", signed(account.unrealizedPnl), direction(account.unrealizedPnl), "unrealizedPnl"),
      ...entry("Realized P&L", signed(account.realizedPnl), direction(account.realizedPnl), "realizedPnl"),
      ...entry("Day P&L", `${signed(account.dayPnl)} (${percent(account.dayPnlPercent)})`, direction(account.dayPnl), "dayPnl"),
    );
    // Rows are updated in place (keyed by symbol), so a click on Close never lands on a row
    // being replaced by the next second's values.
    const equity = Number(account.equity);
    const held = new Set(account.positions.map((p) => p.symbol));
    for (const [symbol, row] of this.positionRows) {
      if (!held.has(symbol)) {
        row.remove();
        this.positionRows.delete(symbol);
      }
    }
    this.empty.hidden = account.positions.length > 0;
    for (const position of account.positions) {
      const row = this.positionRows.get(position.symbol) ?? this.positionRow(position.symbol);
      const instrument = this.market.instrument(position.symbol);
      const day = position.previousClose !== null && position.marketPrice !== null
        ? (Number(position.quantity) * (Number(position.marketPrice) - Number(position.previousClose))).toFixed(scale(account.cash))
        : null;
      const values: [string, string][] = [
        [num(position.quantity, instrument ? decimalsOf(instrument.lotSize) : undefined), "quantity"],
        [num(position.averageCost), ""],
        [num(position.marketPrice), ""],
        [num(position.marketValue), ""],
        [signed(position.unrealizedPnl), direction(position.unrealizedPnl)],
        [signed(position.realizedPnl), direction(position.realizedPnl)],
        [day === null ? "—" : `${signed(day)} (${fractionPercent(position.changeToday)})`, direction(day)],
        [equity > 0 ? `${num((Number(position.marketValue) / equity) * 100, 1)}%` : "—", ""],
      ];
      values.forEach(([text, className], i) => {
        const cell = row.cells[i + 1];
        cell.textContent = text;
        cell.className = className;
      });
    }
  }

  private positionRow(symbol: string): HTMLTableRowElement {
    const actions = h("td", { class: "actions" });
    if (!this.selection.readOnly) {
      actions.append(
        button("Close", () => void this.closePosition(symbol, null), { class: "secondary small", "aria-label": `Close ${symbol}` }),
        button("Close ½", () => void this.closePosition(symbol, "50"), { class: "secondary small", "aria-label": `Close half of ${symbol}` }),
      );
    }
    const row = h("tr", { "data-symbol": symbol }, td(symbol, "symbol"), ...Array.from({ length: 8 }, () => td("")), actions);
    row.addEventListener("dblclick", () => {
      const instrument = this.market.instrument(symbol);
      if (instrument) this.selection.selectInstrument(instrument);
    });
    this.positionRows.set(symbol, row);
    this.rows.append(row);
    return row;
  }

  private async create(name: string, currency: string, deposit?: string): Promise<Portfolio> {
    hideError(this.error);
    try {
      const { createPortfolio } = await this.api.query<{ createPortfolio: Portfolio }>(CREATE, { input: { name, baseCurrency: currency } });
      if (deposit) await this.api.query(DEPOSIT, { id: createPortfolio.id, amount: deposit });
      this.portfolios.push(createPortfolio);
      this.createForm.hidden = true;
      this.newName.value = "";
      this.selection.selectPortfolio(createPortfolio);
      this.fillChooser();
      return createPortfolio;
    } catch (error) {
      showError(this.error, error);
      throw error;
    }
  }

  private async deposit(): Promise<void> {
    const portfolio = this.selection.portfolio;
    if (!portfolio) return;
    hideError(this.error);
    try {
      await this.api.query(DEPOSIT, { id: portfolio.id, amount: this.amount.value.trim() });
      this.amount.value = "";
      this.refreshSoon();
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async closePosition(symbol: string, percentage: string | null): Promise<void> {
    const portfolio = this.selection.portfolio;
    if (!portfolio) return;
    hideError(this.positionsError);
    try {
      await this.api.query(CLOSE, { id: portfolio.id, symbol, percentage });
      this.refreshSoon();
    } catch (error) {
      showError(this.positionsError, error);
    }
  }

  close(): void {
    this.stop?.();
    if (this.timer !== null) clearTimeout(this.timer);
  }
}

function scale(value: string): number {
  const [, fraction = ""] = value.split(".");
  return fraction.length;
}
