// What the README snippets leave to the app: the server's address, the login, and `show` /
// `showError` (here: print, and end the run once a query result and three quotes have arrived).
export const HTTP_URL = process.env.TRADEGRAPH_URL ?? "http://127.0.0.1:8000/graphql";
export const WS_URL = HTTP_URL.replace(/^http/, "ws");
export const EMAIL = process.env.TRADEGRAPH_EMAIL ?? "admin@example.com";
export const PASSWORD = process.env.TRADEGRAPH_PASSWORD ?? "change-me-now";

const name = process.argv[1]?.split("/").pop()?.replace(/\.mjs$/, "") ?? "example";
let queried = false;
let quotes = 0;

/** Prints a query result or a quote; exits 0 after a query result and three quotes
 * (the latest of each of two symbols first, then at least one live). */
export function show(value: unknown): void {
  const quote = isQuote(value);
  console.log(`${name}: ${quote ? "quote" : "query"} ${JSON.stringify(value)}`);
  if (quote) quotes += 1;
  else queried = true;
  if (queried && quotes >= 3) {
    console.log(`${name}: ok (1 query, ${quotes} quotes)`);
    process.exit(0);
  }
}

/** Prints an error by its `extensions.code` and fails the run: none is expected here. */
export function showError(code: unknown, message: string): never {
  console.error(`${name}: error ${String(code)}: ${message}`);
  process.exit(1);
}

function isQuote(value: unknown): boolean {
  return typeof value === "object" && value !== null && "bid" in value && !Array.isArray(value);
}

setTimeout(() => showError("TIMEOUT", `no query result and three quotes within 30 s`), 30_000);
