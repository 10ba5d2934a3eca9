/**
 * The part of PHP's `new DateTime($text)` + `format()` that DreamFactory's system-resource filter
 * typing relies on (df-core `DataFormatter::formatDateTime`): common absolute forms, a few
 * relative words, and PHP's day overflow. Text PHP cannot parse throws, as DateTime does.
 *
 * @module
 */

import { FilterError } from "./errors.ts";

interface Parts {
  y: number;
  mo: number;
  d: number;
  h: number;
  mi: number;
  s: number;
  us: number;
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");

function fromDate(date: Date, us = date.getUTCMilliseconds() * 1000): Parts {
  return {
    y: date.getUTCFullYear(),
    mo: date.getUTCMonth() + 1,
    d: date.getUTCDate(),
    h: date.getUTCHours(),
    mi: date.getUTCMinutes(),
    s: date.getUTCSeconds(),
    us,
  };
}

function midnight(offsetDays: number, now: Date): Parts {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  d.setUTCDate(d.getUTCDate() + offsetDays);
  return fromDate(d, 0);
}

/** Builds a date with PHP's overflow rules (Feb 30 -> Mar 1); null when out of PHP's ranges. */
function build(y: number, mo: number, d: number, h = 0, mi = 0, s = 0, frac = ""): Parts | null {
  if (mo < 1 || mo > 12 || d < 0 || d > 31 || h > 24 || mi > 59 || s > 60) return null;
  const date = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  date.setUTCFullYear(y, mo - 1, d); // years < 100 stay as written
  return fromDate(date, Number((frac + "000000").slice(0, 6)));
}

const TIME = String.raw`(\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?`;
const ZONE = String.raw`\s*(?:[Zz]|UTC|GMT|[+-]\d{2}:?\d{2})?`;
const ISO = new RegExp(String.raw`^(\d{4})-(\d{1,2})-(\d{1,2})(?:[Tt ]+${TIME})?${ZONE}$`);
const SLASH_YMD = new RegExp(String.raw`^(\d{4})/(\d{1,2})/(\d{1,2})(?:\s+${TIME})?${ZONE}$`);
const US = new RegExp(String.raw`^(\d{1,2})/(\d{1,2})/(\d{4})(?:\s+${TIME})?${ZONE}$`);
const TIME_ONLY = new RegExp(String.raw`^${TIME}${ZONE}$`);

function parse(text: string, now: Date): Parts | null {
  const t = text.trim();
  const lower = t.toLowerCase();
  // "" is now; so is a lone military time-zone letter (PHP reads `x` as "now in zone X")
  if (lower === "" || lower === "now" || /^[a-ik-z]$/.test(lower)) return fromDate(now);
  if (lower === "today" || lower === "midnight") return midnight(0, now);
  if (lower === "yesterday") return midnight(-1, now);
  if (lower === "tomorrow") return midnight(1, now);
  let m = /^@(-?\d+)$/.exec(t);
  if (m) return fromDate(new Date(Number(m[1]) * 1000), 0);
  m = ISO.exec(t) ?? SLASH_YMD.exec(t);
  if (m) return build(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7] ?? "");
  m = US.exec(t);
  if (m) return build(+m[3], +m[1], +m[2], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0), m[7] ?? "");
  m = TIME_ONLY.exec(t);
  if (m) {
    const today = midnight(0, now);
    return build(today.y, today.mo, today.d, +m[1], +m[2], +(m[3] ?? 0), m[4] ?? "");
  }
  return null;
}

/**
 * `(new DateTime($text))->format($format)` for DreamFactory's three output formats:
 * `Y-m-d` (date), `H:i:s.u` (time), `Y-m-d H:i:s` (datetime/timestamp).
 * Throws a 500 `FilterError` with PHP's message when PHP could not parse the text.
 */
export function phpFormatDateTime(
  text: string,
  kind: "date" | "time" | "datetime",
  now: Date = new Date(),
): string {
  const p = parse(text, now);
  if (!p) {
    throw new FilterError(
      500,
      `DateTime::__construct(): Failed to parse time string (${text}) at position 0 (${
        text[0] ?? ""
      })`,
    );
  }
  const ymd = `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}`;
  const his = `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
  if (kind === "date") return ymd;
  if (kind === "time") return `${his}.${pad(p.us, 6)}`;
  return `${ymd} ${his}`;
}

/**
 * The native format df-database's `Schema::typecastToNative` puts each date and time type in
 * (`getNativeDateTimeFormat`; the `df.db.*_format` settings are unset by default), for written
 * values and filter values alike.
 */
export const NATIVE_DATE_KINDS: Readonly<Record<string, "date" | "time" | "datetime">> = {
  date: "date",
  time: "time",
  timetz: "time",
  datetime: "datetime",
  datetimetz: "datetime",
  timestamp: "datetime",
  timestamptz: "datetime",
  timestamp_on_create: "datetime",
  timestamp_on_update: "datetime",
};

/**
 * `Schema::formatDateTime`: the text as `new DateTime($text)` reads it, in the native format
 * (`Y-m-d`, `H:i:s` or `Y-m-d H:i:s`); text PHP cannot parse is kept as sent.
 */
export function nativeDateTime(text: string, kind: "date" | "time" | "datetime"): string {
  let full: string;
  try {
    full = phpFormatDateTime(text, "datetime");
  } catch {
    return text;
  }
  return kind === "date" ? full.slice(0, 10) : kind === "time" ? full.slice(11) : full;
}
