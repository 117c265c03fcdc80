// The widget builder at /widgets (ADMIN): pick a widget and its symbols, create or paste a widget
// key, preview the widget live (it is the real element from /widgets.js, loaded first), and copy
// the snippet. No inline scripts, handlers or style attributes: the page runs under a strict CSP.
import "./builder.css";
import { post } from "../dashboard/graphql";
import { Session } from "../dashboard/session";
import { h, showError } from "../dashboard/dom";

interface Key {
  id: string;
  name: string;
  key: string | null;
  keyHint: string;
  origins: string[];
  symbols: string[] | null;
  revokedAt: string | null;
}

const FIELDS = "id name key keyHint origins symbols revokedAt";
const KEYS = `{ widgetKeys { ${FIELDS} } }`;
const CREATE = `mutation($input: CreateWidgetKeyInput!) { createWidgetKey(input: $input) { ${FIELDS} } }`;
const REVOKE = `mutation($id: ID!) { revokeWidgetKey(id: $id) { ${FIELDS} } }`;
const KINDS: Record<string, { label: string; many: boolean; example: string }> = {
  "tg-ticker-tape": { label: "Ticker tape", many: true, example: "PETR4,VALE3,BTCUSDT" },
  "tg-quote": { label: "Quote", many: false, example: "AAPL" },
  "tg-mini-chart": { label: "Mini chart", many: false, example: "BTCUSDT" },
  "tg-market-overview": { label: "Market overview", many: true, example: "PETR4,VALE3,AAPL,BTCUSDT" },
};

const app = document.getElementById("app")!;
const session = new Session();

async function api<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  return post<T>(query, variables, await session.accessToken());
}

function options(select: HTMLSelectElement, values: [string, string][], chosen: string): void {
  for (const [value, label] of values) {
    const option = h("option", { value }, label);
    option.selected = value === chosen;
    select.append(option);
  }
}

function loginForm(): HTMLElement {
  const email = h("input", { type: "email", placeholder: "admin email", autocomplete: "username", required: "" });
  const password = h("input", { type: "password", placeholder: "password", autocomplete: "current-password", required: "" });
  const error = h("p", { class: "error", hidden: "" });
  const form = h("form", { class: "login" }, h("h1", {}, "Widget builder"), email, password, h("button", { type: "submit" }, "Log in"), error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await session.login(email.value, password.value);
      render();
    } catch (failure) {
      showError(error, failure);
    }
  });
  return form;
}

function builder(): HTMLElement {
  const kind = h("select", { name: "kind" });
  options(kind, Object.entries(KINDS).map(([tag, k]) => [tag, k.label]), "tg-ticker-tape");
  const symbols = h("input", { name: "symbols", value: KINDS["tg-ticker-tape"].example });
  const interval = h("select", { name: "interval" });
  options(interval, [["1m", "1 minute"], ["5m", "5 minutes"], ["1h", "1 hour"], ["1d", "1 day"]], "5m");
  const theme = h("select", { name: "theme" });
  options(theme, [["light", "Light"], ["dark", "Dark"]], "light");
  const intervalLabel = h("label", {}, "Interval ", interval);

  const keyInput = h("input", { name: "key", placeholder: "wk_… (paste a key, or create one below)", spellcheck: "false" });
  const preview = h("div", { class: "preview" });
  const snippet = h("code", {});
  const copy = h("button", { type: "button" }, "Copy snippet");
  const copied = h("span", { class: "muted" });

  const update = (): void => {
    const tag = kind.value;
    const many = KINDS[tag].many;
    intervalLabel.hidden = tag !== "tg-mini-chart";
    const attributes: [string, string][] = [
      ["server", location.origin],
      ["key", keyInput.value.trim() || "wk_…"],
      [many ? "symbols" : "symbol", many ? symbols.value.trim() : symbols.value.split(",")[0].trim()],
    ];
    if (tag === "tg-mini-chart") attributes.push(["interval", interval.value]);
    attributes.push(["theme", theme.value]);
    const element = document.createElement(tag);
    for (const [name, value] of attributes) element.setAttribute(name, value);
    preview.replaceChildren(element);
    const shown = attributes.map(([name, value]) => `${name}="${value.replace(/"/g, "&quot;")}"`).join(" ");
    snippet.textContent = `<script src="${location.origin}/widgets.js" async></script>\n<${tag} ${shown}></${tag}>`;
  };
  kind.addEventListener("change", () => {
    symbols.value = KINDS[kind.value].example;
    update();
  });
  for (const input of [symbols, keyInput]) input.addEventListener("change", update);
  for (const select of [interval, theme]) select.addEventListener("change", update);
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(snippet.textContent ?? "");
      copied.textContent = "copied";
    } catch {
      copied.textContent = "select the snippet and copy it";
    }
  });

  const keys = h("ul", { class: "keys" });
  const problem = h("p", { class: "error", hidden: "" });
  const listKeys = async (): Promise<void> => {
    try {
      const { widgetKeys } = await api<{ widgetKeys: Key[] }>(KEYS);
      keys.replaceChildren(...widgetKeys.map((key) => keyRow(key, listKeys, problem)));
    } catch (failure) {
      showError(problem, failure);
    }
  };
  const created = h("p", { class: "created", hidden: "" });
  const form = newKeyForm(async (key) => {
    keyInput.value = key.key ?? "";
    created.textContent = `New key ${key.keyHint}…: it is shown once, in the snippet below. Copy it now.`;
    created.hidden = false;
    update();
    await listKeys();
  }, problem);
  update();
  void listKeys();

  return h(
    "div",
    { class: "builder" },
    h("section", { class: "panel" }, h("h2", {}, "1 · Widget"), h("label", {}, "Widget ", kind), h("label", {}, "Symbols ", symbols), intervalLabel, h("label", {}, "Theme ", theme)),
    h("section", { class: "panel" }, h("h2", {}, "2 · Key"), h("label", {}, "Key ", keyInput), created, form, h("h3", {}, "Keys"), keys, problem),
    h("section", { class: "panel wide" }, h("h2", {}, "3 · Live preview"), preview),
    h("section", { class: "panel wide" }, h("h2", {}, "4 · Snippet"), h("pre", {}, snippet), copy, copied),
  );
}

function newKeyForm(onCreated: (key: Key) => Promise<void>, problem: HTMLElement): HTMLElement {
  const name = h("input", { name: "name", placeholder: "e.g. Marketing site", required: "" });
  const origins = h("textarea", { name: "origins", rows: "3", spellcheck: "false" });
  // This page's own origin too, so the live preview here works with the new key.
  origins.value = `https://www.example.com\n${location.origin}`;
  const symbols = h("input", { name: "keySymbols", placeholder: "every instrument (or PETR4,VALE3)" });
  const form = h(
    "form",
    { class: "new-key" },
    h("label", {}, "Name ", name),
    h("label", {}, "Origins (one per line: scheme://host[:port]) ", origins),
    h("label", {}, "Only these symbols ", symbols),
    h("button", { type: "submit" }, "Create key"),
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.hidden = true;
    const listed = symbols.value.split(",").map((s) => s.trim()).filter(Boolean);
    const input = {
      name: name.value,
      origins: origins.value.split(/\s+/).filter(Boolean),
      symbols: listed.length ? listed : null,
    };
    try {
      const { createWidgetKey } = await api<{ createWidgetKey: Key }>(CREATE, { input });
      await onCreated(createWidgetKey);
    } catch (failure) {
      showError(problem, failure);
    }
  });
  return form;
}

function keyRow(key: Key, refresh: () => Promise<void>, problem: HTMLElement): HTMLElement {
  const scope = key.symbols ? key.symbols.join(", ") : "every instrument";
  const row = h("li", { class: key.revokedAt ? "revoked" : "" }, h("strong", {}, key.name), ` ${key.keyHint}… · ${key.origins.join(", ")} · ${scope}`);
  row.dataset.id = key.id;
  if (key.revokedAt) {
    row.append(h("span", { class: "muted" }, " · revoked"));
    return row;
  }
  const revoke = h("button", { type: "button", class: "secondary" }, "Revoke");
  revoke.addEventListener("click", async () => {
    try {
      await api(REVOKE, { id: key.id });
      await refresh();
    } catch (failure) {
      showError(problem, failure);
    }
  });
  row.append(" ", revoke);
  return row;
}

function render(): void {
  const user = session.user;
  if (!user) {
    app.replaceChildren(loginForm());
    return;
  }
  const logout = h("button", { type: "button", class: "secondary" }, "Log out");
  logout.addEventListener("click", () => session.logout());
  const header = h("header", {}, h("h1", {}, "tradegraph · widget builder"), h("span", { class: "muted" }, `${user.email} · ${user.role}`), h("a", { href: "/" }, "Dashboard"), logout);
  if (user.role !== "ADMIN") {
    app.replaceChildren(header, h("p", { class: "error" }, `The widget builder needs an ADMIN account; you are ${user.role}.`));
    return;
  }
  app.replaceChildren(header, builder());
}

session.onSignedOut = render;
render();
