// How the terminal shows numbers and times, in one place: the reader's locale groups digits,
// every decimal keeps the scale the API gave it (a CSV and the screen agree to the cent),
// money carries its currency code, percents are always percents ("1.25%"), and every time is
// 24-hour UTC, like the chart's axis.

const locale = navigator.language || "en-US";
const formats = new Map<number, Intl.NumberFormat>();

function numberFormat(places: number): Intl.NumberFormat {
  let found = formats.get(places);
  if (!found) {
    found = new Intl.NumberFormat(locale, { minimumFractionDigits: places, maximumFractionDigits: places });
    formats.set(places, found);
  }
  return found;
}

/** Decimals in a decimal string as the API wrote it: "228.665" → 3, "10" → 0. */
export function scaleOf(value: string): number {
  const [, fraction = ""] = value.split(".");
  return fraction.length;
}

type Value = string | number | null | undefined;

/** A decimal with grouping, at `places` or at the scale it came with. "—" when absent. */
export function num(value: Value, places?: number): string {
  if (value === null || value === undefined || value === "") return "—";
  const text = String(value);
  const n = Number(text);
  if (!Number.isFinite(n)) return text;
  const scale = places ?? (typeof value === "string" ? scaleOf(text) : 2);
  // Intl formats a numeric string exactly (no float rounding of "228.665").
  return numberFormat(scale).format((typeof value === "string" ? text : n) as unknown as number);
}

/** An amount with its currency code: "1,234.56 USD". */
export function money(value: Value, currency: string, places?: number): string {
  const shown = num(value, places);
  return shown === "—" ? shown : `${shown} ${currency}`;
}

/** A signed amount: "+12.30" / "−4.10" (a real minus sign). */
export function signed(value: Value, places?: number): string {
  const shown = num(value, places);
  if (shown === "—") return shown;
  const n = Number(value);
  return n > 0 ? `+${shown}` : n < 0 ? `−${shown.replace(/^[-−]/, "")}` : shown;
}

/** A percent the API gives in percent units ("1.25" is 1.25%). */
export function percent(value: Value, places = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  return `${signed(Number(value), places)}%`;
}

/** A percent the API gives as a fraction (0.0125 is 1.25%). */
export function fractionPercent(value: Value, places = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  return percent(Number(value) * 100, places);
}

/** A share the API gives as a fraction, unsigned (a win rate, a weight): "32.26%". */
export function share(value: Value, places = 2): string {
  if (value === null || value === undefined || value === "") return "—";
  return `${num(Number(value) * 100, places)}%`;
}

/** A parameter value: whole numbers without decimals. */
export function plainNumber(value: number): string {
  return num(value, Number.isInteger(value) ? 0 : 2);
}

/** "up", "down" or "" for colouring a signed value. */
export function direction(value: Value): string {
  const n = Number(value);
  return !Number.isFinite(n) || n === 0 ? "" : n > 0 ? "up" : "down";
}

const timeFormat = new Intl.DateTimeFormat(locale, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
  hourCycle: "h23",
  timeZone: "UTC",
});
const dateFormat = new Intl.DateTimeFormat("en-CA", { year: "numeric", month: "2-digit", day: "2-digit", timeZone: "UTC" });

/** 24-hour UTC time of an ISO timestamp: "14:03:07". */
export function time(iso: string | number | Date): string {
  return timeFormat.format(new Date(iso));
}

/** Date and 24-hour UTC time: "2026-12-01 14:03:07". */
export function dateTime(iso: string | number | Date): string {
  const at = new Date(iso);
  return `${dateFormat.format(at)} ${timeFormat.format(at)}`;
}

/** Today's rows show the time only, older ones the date too. */
export function when(iso: string): string {
  const at = new Date(iso);
  return dateFormat.format(at) === dateFormat.format(new Date()) ? time(at) : dateTime(at);
}

/** Decimals of a tick or lot size: "0.01" → 2, "0.00001" → 5, "1" → 0. */
export function decimalsOf(step: string): number {
  const [, fraction = ""] = step.split(".");
  return fraction.replace(/0+$/, "").length;
}
