// Watchlists: "All instruments" or one of the user's lists (create, rename, delete, add a
// symbol found by searching every instrument, remove one), with last, change and volume live.
// The list last chosen is remembered in this browser.
import type { Api } from "./api";
import { button, field, h, hideError, panel, select, showError, td } from "./dom";
import { decimalsOf, direction, num, percent } from "./format";
import type { Market, Quote } from "./market";
import { LAST_WATCHLIST, type Selection } from "./state";

interface List {
  id: string;
  name: string;
  symbols: string[];
}

const ALL = "all";
const LISTS = "{ watchlists { id name symbols } }";
const CREATE = `mutation($name: String!, $symbols: [String!]!) {
  createWatchlist(name: $name, symbols: $symbols) { id name symbols } }`;
const UPDATE = `mutation($id: ID!, $name: String, $symbols: [String!]) {
  updateWatchlist(id: $id, name: $name, symbols: $symbols) { id name symbols } }`;
const DELETE = `mutation($id: ID!) { deleteWatchlist(id: $id) }`;

export class Watchlists {
  readonly element: HTMLElement;
  private lists: List[] = [];
  private readonly chooser = select("watchlist", [], "Watchlist");
  private readonly rows = h("tbody");
  private readonly error = h("p", { class: "error", hidden: "", role: "alert" });
  private readonly search = h("input", {
    name: "add-symbol",
    list: "instrument-options",
    placeholder: "Search symbol or name…",
    autocomplete: "off",
  });
  private readonly options = h("datalist", { id: "instrument-options" });
  private readonly nameInput = h("input", { name: "watchlist-name", placeholder: "List name", maxlength: "100" });
  private readonly nameForm = h("form", { class: "inline", hidden: "" });
  private naming: "create" | "rename" = "create";
  private readonly renameButton = button("Rename", () => this.startNaming("rename"), { class: "secondary small" });
  private readonly deleteButton = button("Delete", () => void this.remove(), { class: "secondary small" });
  private readonly addForm: HTMLFormElement;

  constructor(
    private readonly api: Api,
    private readonly market: Market,
    private readonly selection: Selection,
  ) {
    this.chooser.addEventListener("change", () => this.show(this.chooser.value));
    this.nameForm.append(field("Name", this.nameInput, { class: "sr-label" }), h("button", { type: "submit", class: "small" }, "Save"),
      button("Cancel", () => (this.nameForm.hidden = true), { class: "secondary small" }));
    this.nameForm.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.saveName();
    });
    this.addForm = h("form", { class: "inline add-symbol" }, field("Add symbol", this.search, { class: "sr-label" }),
      h("button", { type: "submit", class: "small" }, "Add"), this.options);
    this.addForm.addEventListener("submit", (event) => {
      event.preventDefault();
      void this.add(this.search.value);
    });
    const tools = h("div", { class: "toolbar" }, this.chooser,
      button("New list", () => this.startNaming("create"), { class: "secondary small" }), this.renameButton, this.deleteButton);
    const grid = h("table", { class: "watchlist" },
      h("thead", {}, h("tr", {}, ...["Symbol", "Last", "Chg %", "Volume", ""].map((t) => h("th", { scope: "col" }, t)))),
      this.rows);
    this.element = panel("Watchlist", tools, this.nameForm, this.addForm, h("div", { class: "scroll" }, grid), this.error);
    market.onQuote((quote) => this.update(quote));
  }

  async start(): Promise<void> {
    for (const instrument of this.market.instruments.values()) {
      this.options.append(h("option", { value: instrument.symbol }, `${instrument.symbol} · ${instrument.name}`));
    }
    try {
      this.lists = (await this.api.query<{ watchlists: List[] }>(LISTS)).watchlists;
    } catch (error) {
      showError(this.error, error);
    }
    const last = localStorage.getItem(LAST_WATCHLIST);
    this.show(this.lists.some((l) => l.id === last) ? last! : ALL);
  }

  /** The symbols shown now. */
  get symbols(): string[] {
    const list = this.lists.find((l) => l.id === this.chooser.value);
    return list ? list.symbols : [...this.market.instruments.keys()];
  }

  private show(id: string): void {
    this.chooser.replaceChildren(
      h("option", { value: ALL }, "All instruments"),
      ...this.lists.map((l) => h("option", { value: l.id }, l.name)),
    );
    this.chooser.value = id;
    localStorage.setItem(LAST_WATCHLIST, id);
    const own = id !== ALL;
    this.renameButton.disabled = !own;
    this.deleteButton.disabled = !own;
    this.addForm.hidden = !own;
    this.rows.replaceChildren(...this.symbols.map((symbol) => this.row(symbol, own)));
    this.market.want("watchlist", this.symbols);
    for (const symbol of this.symbols) {
      const quote = this.market.quotes.get(symbol);
      if (quote) this.update(quote);
    }
    this.highlight();
  }

  private row(symbol: string, removable: boolean): HTMLTableRowElement {
    const instrument = this.market.instrument(symbol);
    const row = h("tr", { "data-symbol": symbol, "data-updates": "0", tabindex: "0", title: instrument?.name ?? symbol },
      td(symbol, "symbol"), td("—", "last"), td("—", "change"), td("—", "volume"));
    const cell = h("td", { class: "remove" });
    if (removable) {
      cell.append(button("×", (event) => {
        event.stopPropagation();
        void this.drop(symbol);
      }, { class: "icon", "aria-label": `Remove ${symbol}`, title: `Remove ${symbol}` }));
    }
    row.append(cell);
    const choose = (): void => {
      if (instrument) this.selection.selectInstrument(instrument);
      this.highlight();
    };
    row.addEventListener("click", choose);
    row.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        choose();
      }
    });
    return row;
  }

  highlight(): void {
    const selected = this.selection.instrument?.symbol;
    for (const row of this.rows.rows) {
      const on = row.dataset.symbol === selected;
      row.classList.toggle("selected", on);
      row.setAttribute("aria-selected", String(on));
    }
  }

  private update(quote: Quote): void {
    const row = this.rows.querySelector<HTMLTableRowElement>(`tr[data-symbol="${CSS.escape(quote.symbol)}"]`);
    const instrument = this.market.instrument(quote.symbol);
    if (!row || !instrument) return;
    const [, last, change, volume] = row.cells;
    const previous = last.dataset.value;
    last.textContent = num(quote.last, decimalsOf(instrument.tickSize));
    last.dataset.value = quote.last;
    change.textContent = percent(quote.changePercent);
    change.className = `change ${direction(quote.changePercent)}`;
    volume.textContent = num(quote.volume, decimalsOf(instrument.lotSize));
    row.dataset.updates = String(Number(row.dataset.updates) + 1);
    if (previous !== undefined && previous !== quote.last) {
      row.classList.remove("flash-up", "flash-down");
      void row.offsetWidth; // restart the animation
      row.classList.add(Number(quote.last) > Number(previous) ? "flash-up" : "flash-down");
    }
  }

  private startNaming(mode: "create" | "rename"): void {
    this.naming = mode;
    const list = this.lists.find((l) => l.id === this.chooser.value);
    this.nameInput.value = mode === "rename" && list ? list.name : "";
    this.nameForm.hidden = false;
    this.nameInput.focus();
  }

  private async saveName(): Promise<void> {
    hideError(this.error);
    const name = this.nameInput.value.trim();
    try {
      if (this.naming === "create") {
        const symbols = this.selection.instrument ? [this.selection.instrument.symbol] : [];
        const { createWatchlist } = await this.api.query<{ createWatchlist: List }>(CREATE, { name, symbols });
        this.lists.push(createWatchlist);
        this.show(createWatchlist.id);
      } else {
        await this.change({ name });
      }
      this.nameForm.hidden = true;
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async change(changes: { name?: string; symbols?: string[] }): Promise<void> {
    const id = this.chooser.value;
    const { updateWatchlist } = await this.api.query<{ updateWatchlist: List }>(UPDATE, { id, ...changes });
    this.lists = this.lists.map((l) => (l.id === id ? updateWatchlist : l));
    this.show(id);
  }

  private async add(text: string): Promise<void> {
    hideError(this.error);
    const wanted = text.split("·")[0].trim().toUpperCase();
    if (!wanted) return;
    const found =
      this.market.instrument(wanted) ??
      [...this.market.instruments.values()].find((i) => i.name.toUpperCase().includes(wanted));
    if (!found) {
      showError(this.error, new Error(`no instrument matches “${text}”`));
      return;
    }
    const symbols = this.symbols.filter((s) => s !== found.symbol).concat(found.symbol);
    if (this.search.value === text) this.search.value = ""; // unless the user typed on
    try {
      await this.change({ symbols });
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async drop(symbol: string): Promise<void> {
    hideError(this.error);
    try {
      await this.change({ symbols: this.symbols.filter((s) => s !== symbol) });
    } catch (error) {
      showError(this.error, error);
    }
  }

  private async remove(): Promise<void> {
    hideError(this.error);
    const id = this.chooser.value;
    try {
      await this.api.query(DELETE, { id });
      this.lists = this.lists.filter((l) => l.id !== id);
      this.show(ALL);
    } catch (error) {
      showError(this.error, error);
    }
  }
}
