// The few DOM helpers the widgets share.
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

export function panel(title: string, ...children: Node[]): HTMLElement {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}

/** Decimal strings shown with a fixed number of places (display only: values stay strings). */
export function fixed(value: string | number | null | undefined, places = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  const n = Number(value);
  return Number.isFinite(n) ? n.toFixed(places) : String(value);
}
