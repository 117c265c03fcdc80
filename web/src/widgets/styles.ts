// The widgets' CSS, adopted by each shadow root as a constructable stylesheet: the host page's
// CSP then needs no style-src 'unsafe-inline' (CSSOM is not inline style). Browsers without
// adoptedStyleSheets get a <style> element instead.

const CSS = `
:host {
  --tg-bg: #ffffff; --tg-fg: #131722; --tg-muted: #6a7185; --tg-line: #e0e3eb;
  --tg-up: #089981; --tg-down: #f23645; --tg-accent: #2962ff;
  display: block; font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--tg-fg); background: var(--tg-bg); border: 1px solid var(--tg-line);
  border-radius: 6px; overflow: hidden; box-sizing: border-box;
}
:host([theme="dark"]) {
  --tg-bg: #131722; --tg-fg: #d1d4dc; --tg-muted: #868993; --tg-line: #2a2e39;
  --tg-up: #22ab94; --tg-down: #f7525f; --tg-accent: #5b8cff;
}
:host([hidden]) { display: none; }
* { box-sizing: border-box; }
.bar { display: flex; align-items: center; gap: 8px; padding: 6px 10px; }
.state { margin-left: auto; font-size: 11px; color: var(--tg-muted); white-space: nowrap; }
.state::before { content: "●"; margin-right: 4px; }
.state[data-state="live"]::before { color: var(--tg-up); }
.state[data-state="delayed"]::before { color: #f5a623; }
.state[data-state="offline"]::before { color: var(--tg-down); }
.state[data-state="connecting"]::before { color: var(--tg-muted); }
.problem { padding: 6px 10px; color: var(--tg-down); font-size: 12px; }
.problem:empty { display: none; }
.symbol { font-weight: 600; }
.muted { color: var(--tg-muted); }
.up { color: var(--tg-up); }
.down { color: var(--tg-down); }
.num { font-variant-numeric: tabular-nums; }
.tape { display: flex; overflow: hidden; white-space: nowrap; }
.tape-track { display: flex; gap: 24px; padding: 8px 12px; animation: tg-scroll 40s linear infinite; }
.tape:hover .tape-track { animation-play-state: paused; }
@media (prefers-reduced-motion: reduce) { .tape-track { animation: none; flex-wrap: wrap; } }
@keyframes tg-scroll { from { transform: translateX(0); } to { transform: translateX(-50%); } }
.item { display: inline-flex; gap: 6px; align-items: baseline; }
.quote { padding: 10px 12px; }
.quote .last { font-size: 26px; font-weight: 600; }
.quote .range { display: flex; gap: 16px; font-size: 12px; }
.chart { display: block; width: 100%; height: 140px; }
.chart path.line { fill: none; stroke: var(--tg-accent); stroke-width: 1.5; }
.chart path.area { fill: var(--tg-accent); opacity: 0.12; stroke: none; }
.spark { width: 90px; height: 24px; display: block; }
.spark path { fill: none; stroke-width: 1.2; stroke: var(--tg-muted); }
.spark.up path { stroke: var(--tg-up); }
.spark.down path { stroke: var(--tg-down); }
table { width: 100%; border-collapse: collapse; }
th, td { padding: 6px 10px; text-align: right; border-top: 1px solid var(--tg-line); }
th { font-weight: 500; color: var(--tg-muted); font-size: 11px; }
th:first-child, td:first-child { text-align: left; }
`;

let shared: CSSStyleSheet | null = null;

/** Gives `root` the widgets' styles. */
export function adoptStyles(root: ShadowRoot): void {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet !== "undefined") {
    try {
      shared ??= makeSheet();
      root.adoptedStyleSheets = [shared];
      return;
    } catch {
      // constructable stylesheets unsupported: fall through to <style>
    }
  }
  const style = document.createElement("style");
  style.textContent = CSS;
  root.append(style);
}

function makeSheet(): CSSStyleSheet {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  return sheet;
}
