// The few DOM helpers the widgets share. Everything is built with createElement and
// textContent: no HTML strings, no inline styles or handlers (the page's CSP forbids them).
import { GraphQLFailure } from "./graphql";

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.append(...children);
  return element;
}

/** Shows an error by its extensions.code, e.g. "INSUFFICIENT_FUNDS: …". */
export function showError(target: HTMLElement, error: unknown): void {
  const failure =
    error instanceof GraphQLFailure ? error : new GraphQLFailure("ERROR", String(error));
  target.textContent = `${failure.code}: ${failure.message}`;
  target.dataset.code = failure.code;
  target.hidden = false;
}

export function hideError(target: HTMLElement): void {
  target.hidden = true;
  target.textContent = "";
  delete target.dataset.code;
}

/** A panel with a heading; `name` names it for tests and for assistive technology. */
export function panel(title: string, ...children: Node[]): HTMLElement {
  const heading = h("h2", {}, title);
  heading.id = `panel-${title.toLowerCase().replace(/[^a-z0-9]+/g, "-")}`;
  return h("section", { class: "panel", "aria-labelledby": heading.id }, heading, ...children);
}

export function button(
  label: string,
  onClick: (event: MouseEvent) => void,
  attributes: Record<string, string> = {},
): HTMLButtonElement {
  const element = h("button", { type: "button", ...attributes }, label);
  element.addEventListener("click", onClick);
  return element;
}

/** A <select> of `options` ([value, label] or value). */
export function select(name: string, options: (string | [string, string])[], label?: string): HTMLSelectElement {
  const element = h("select", { name, ...(label ? { "aria-label": label } : {}) });
  for (const option of options) {
    const [value, text] = typeof option === "string" ? [option, option] : option;
    element.append(h("option", { value }, text));
  }
  return element;
}

/** A labelled control: <label><span>Label</span>control</label>. */
export function field(label: string, control: HTMLElement, attributes: Record<string, string> = {}): HTMLLabelElement {
  // The control's name is the label alone (a <select> inside a <label> would add its options).
  if (!control.hasAttribute("aria-label")) control.setAttribute("aria-label", label);
  return h("label", attributes, h("span", {}, label), control);
}

/** A table cell; `className` for alignment and colour. */
export function td(text: string, className = ""): HTMLTableCellElement {
  return h("td", className ? { class: className } : {}, text);
}

export function th(text: string): HTMLTableCellElement {
  return h("th", { scope: "col" }, text);
}

/** A table with a header row and a body to fill. */
export function table(className: string, headings: string[], body: HTMLTableSectionElement): HTMLTableElement {
  return h("table", { class: className }, h("thead", {}, h("tr", {}, ...headings.map(th))), body);
}
