// The built-in dashboard: log in or register, then live widgets. It is a GraphQL client like
// any other, served from the same origin as the API.
import { Api } from "./api";
import { CandleChart } from "./chart";
import { h, showError } from "./dom";
import { Events } from "./events";
import { Session } from "./session";
import { Trading } from "./trading";
import { Watchlist, type Instrument } from "./watchlist";

const INSTRUMENTS = "{ instruments { symbol name currency tickSize } }";
const WATCHLIST_SIZE = 12;

const app = document.getElementById("app")!;
const session = new Session();
let closeDashboard: (() => void) | null = null;

function loginForm(): HTMLElement {
  const email = h("input", { name: "email", type: "email", placeholder: "email", autocomplete: "username", required: "" });
  const password = h("input", {
    name: "password",
    type: "password",
    placeholder: "password",
    autocomplete: "current-password",
    required: "",
  });
  const error = h("p", { class: "error", hidden: "" });
  const login = h("button", { type: "submit", value: "login" }, "Log in");
  const register = h("button", { type: "submit", value: "register", class: "secondary" }, "Register");
  const form = h("form", { class: "login" }, h("h1", {}, "tradegraph"), email, password, login, register, error);
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
  return form;
}

async function dashboard(): Promise<HTMLElement> {
  const user = session.user!;
  const status = h("span", { class: "socket" }, "connecting…");
  const api = new Api(session, (state) => {
    status.textContent = state;
    if (state.startsWith("reconnecting")) status.dataset.lastClose = state;
  });
  const logout = h("button", { type: "button", class: "secondary" }, "Log out");
  logout.addEventListener("click", () => session.logout());
  const header = h(
    "header",
    {},
    h("h1", {}, "tradegraph"),
    status,
    h("span", { class: "user" }, `${user.email} · ${user.role}`),
    h("a", { href: "/graphql" }, "GraphiQL"),
    logout,
  );
  const { instruments } = await api.query<{ instruments: Instrument[] }>(INSTRUMENTS);
  const chart = new CandleChart(api);
  const trading = new Trading(api);
  const watchlist = new Watchlist(api, instruments.slice(0, WATCHLIST_SIZE), (instrument) => {
    void chart.show(instrument);
    void trading.show(instrument);
  });
  const grid = h(
    "main",
    { class: "grid" },
    watchlist.element,
    chart.element,
    h("div", { class: "stack" }, trading.value, trading.ticket),
    trading.orders,
  );
  const stopQuotes = watchlist.start();
  let events: Events | null = null;
  if (user.role === "ADMIN" || user.role === "ANALYST") {
    events = new Events(api);
    grid.append(events.summary, events.feed);
    events.start();
  }
  if (instruments.length) watchlist.select(instruments[0].symbol);
  else grid.prepend(h("p", { class: "muted" }, "No instruments yet: run `tradegraph serve --seed`."));
  closeDashboard = () => {
    stopQuotes();
    trading.close();
    events?.close();
    api.close();
  };
  return h("div", { class: "dashboard" }, header, grid);
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
    const error = h("p", { class: "error" });
    showError(error, failure);
    app.replaceChildren(error, loginForm());
  }
}

session.onSignedOut = () => void render();
void render();
