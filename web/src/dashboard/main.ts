// The trading terminal at /: log in or register, then the watchlists, the chart, the ticket,
// the account with its positions and orders, research (backtests and optimisations) and, for
// staff, the event feed. It is a GraphQL client like any other, served from the API's origin.
import { Accounts } from "./account";
import { Api } from "./api";
import { CandleChart } from "./chart";
import { button, h, showError } from "./dom";
import { Events } from "./events";
import { Market } from "./market";
import { Orders } from "./orders";
import { Research } from "./research";
import { Session } from "./session";
import { LAST_SYMBOL, Selection } from "./state";
import { Ticket } from "./ticket";
import { Watchlists } from "./watchlist";

const HISTORY = "{ marketHistory { loading } }";
const HISTORY_POLL_MS = 3000;

const app = document.getElementById("app")!;
const session = new Session();
let closeDashboard: (() => void) | null = null;

function loginForm(): HTMLElement {
  const email = h("input", { name: "email", type: "email", autocomplete: "username", required: "" });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: "" });
  const error = h("p", { class: "error", hidden: "", role: "alert" });
  const login = h("button", { type: "submit", value: "login" }, "Log in");
  const register = h("button", { type: "submit", value: "register", class: "secondary" }, "Register");
  const form = h("form", { class: "login" }, h("h1", {}, "tradegraph"),
    h("label", {}, h("span", {}, "Email"), email), h("label", {}, h("span", {}, "Password"), password),
    login, register, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const action = (event as SubmitEvent).submitter?.getAttribute("value");
    error.hidden = true;
    try {
      if (action === "register") await session.register(email.value, password.value);
      else await session.login(email.value, password.value);
      void render();
    } catch (failure) {
      showError(error, failure);
    }
  });
  return h("main", { class: "login-page" }, form);
}

/** Polls `marketHistory` while history loads (first run of a demo server). */
function watchHistory(api: Api, show: (loading: boolean) => void): () => void {
  let timer: number | null = null;
  let stopped = false;
  const check = async (): Promise<void> => {
    try {
      const { marketHistory } = await api.query<{ marketHistory: { loading: boolean } }>(HISTORY);
      if (stopped) return;
      show(marketHistory.loading);
      if (marketHistory.loading) timer = window.setTimeout(() => void check(), HISTORY_POLL_MS);
    } catch {
      // an older server without marketHistory: nothing to say
    }
  };
  void check();
  return () => {
    stopped = true;
    if (timer !== null) clearTimeout(timer);
  };
}

async function dashboard(): Promise<HTMLElement> {
  const user = session.user!;
  const status = h("span", { class: "socket", role: "status" }, "connecting…");
  const api = new Api(session, (state) => {
    status.textContent = state;
    status.dataset.state = state.startsWith("live") ? "live" : "down";
    if (state.startsWith("reconnecting")) status.dataset.lastClose = state;
  });
  const selection = new Selection(user);
  const market = new Market(api);
  const instruments = await market.load();
  const chart = new CandleChart(api);
  const accounts = new Accounts(api, market, selection);
  const orders = new Orders(api, selection);
  const ticket = new Ticket(api, market, selection, accounts);
  const watchlists = new Watchlists(api, market, selection);
  const research = new Research(api);
  const banner = h("p", { class: "banner", hidden: "", role: "status" });
  market.onError = (error) => showError(banner, error);

  selection.onInstrument((instrument) => {
    chart.show(instrument);
    chart.showFills(fillsOf(instrument.symbol));
    watchlists.highlight();
    research.use(instrument);
  });
  const fillsOf = (symbol: string) =>
    [...orders.orders.values()].filter((o) => o.symbol === symbol).flatMap((o) => o.fills.map((f) => ({ ...f, side: o.side })));
  orders.onChange = () => {
    if (selection.instrument) chart.showFills(fillsOf(selection.instrument.symbol));
    accounts.refreshSoon();
  };
  ticket.onPlaced = (order) => orders.upsert(order);

  const logout = button("Log out", () => session.logout(), { class: "secondary small" });
  const tabs = h("nav", { class: "tabs", "aria-label": "Views" });
  const trade = h("main", { class: "grid", id: "view-trade" },
    h("div", { class: "stack left" }, watchlists.element),
    h("div", { class: "stack center" }, chart.element, accounts.positions, orders.element),
    h("div", { class: "stack right" }, accounts.summary, ticket.element));
  const researchView = h("main", { class: "research-view", id: "view-research", hidden: "" }, research.element);
  const views: [string, HTMLElement][] = [["Trade", trade], ["Research", researchView]];
  let events: Events | null = null;
  if (user.role === "ADMIN" || user.role === "ANALYST") {
    events = new Events(api);
    const activity = h("main", { class: "grid two", id: "view-activity", hidden: "" }, events.summary, events.feed);
    views.push(["Activity", activity]);
    events.start();
  }
  for (const [label, view] of views) {
    const tab = button(label, () => {
      for (const [, other] of views) other.hidden = other !== view;
      for (const t of tabs.querySelectorAll("button")) t.setAttribute("aria-pressed", String(t === tab));
    }, { "aria-pressed": String(label === "Trade"), "data-view": label.toLowerCase(), class: "tab" });
    tabs.append(tab);
  }
  const header = h("header", {}, h("h1", {}, "tradegraph"), tabs, accounts.picker, status,
    h("span", { class: "user" }, `${user.email} · ${user.role}`), h("a", { href: "/graphql" }, "GraphiQL"), logout);

  const stopHistory = watchHistory(api, (loading) => {
    chart.historyLoading(loading);
    banner.hidden = !loading;
    banner.textContent = loading ? "Loading the demo market's price history: charts and day changes fill in as it lands." : "";
    if (!loading && selection.instrument) chart.show(selection.instrument);
  });
  await watchlists.start();
  const last = market.instrument(localStorage.getItem(LAST_SYMBOL) ?? "");
  const first = last ?? market.instrument(watchlists.symbols[0] ?? "") ?? instruments[0];
  await accounts.start(first?.currency); // portfolios first: the ticket picks among them
  if (first) selection.selectInstrument(first);
  if (!instruments.length) {
    banner.hidden = false;
    banner.textContent = "No instruments yet: start the server with `make serve` (the demo market) or create some with createInstrument.";
  }
  closeDashboard = () => {
    stopHistory();
    market.close();
    chart.close();
    orders.close();
    accounts.close();
    research.close();
    events?.close();
    api.close();
  };
  return h("div", { class: "dashboard" }, header, banner, ...views.map(([, view]) => view));
}

async function render(): Promise<void> {
  closeDashboard?.();
  closeDashboard = null;
  if (!session.user) {
    app.replaceChildren(loginForm());
    return;
  }
  try {
    app.replaceChildren(await dashboard());
  } catch (failure) {
    const error = h("p", { class: "error", role: "alert" });
    showError(error, failure);
    app.replaceChildren(error, loginForm());
  }
}

session.onSignedOut = () => void render();
void render();
