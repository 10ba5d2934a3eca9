/**
 * What DreamFactory 7 keeps of a value sent to it: it is a Laravel 11 app with Laravel's default
 * global middleware, TrimStrings then ConvertEmptyStringsToNull, which clean every JSON body and
 * query string before DreamFactory reads them (strings trimmed, `""` turned into null). The
 * sandbox applies this to what it receives; the recipes compare what they send with what they
 * read back through it, so a plan, a provisioning run or a copy settles after one pass.
 *
 * @module
 */
import { jsonEqual } from "./json.ts";

/** TrimStrings' `$except`: keys (full dotted paths) whose strings are not trimmed. */
const TRIM_EXCEPT = new Set(["current_password", "password", "password_confirmation"]);

/**
 * The characters `Str::trim` removes from both ends: PCRE's `\s` under PHP's `/u` (Unicode
 * `Z`, `\h` and `\v`: JavaScript's `\s` without U+FEFF, plus U+0085 and U+180E) and Laravel's
 * additions U+FEFF, U+200B, U+200E and PHP trim()'s NUL.
 */
const TRIM_RE = /^[\s\u0085\u180e\u200b\u200e\0]+|[\s\u0085\u180e\u200b\u200e\0]+$/gu;

/**
 * Laravel's global TrimStrings then ConvertEmptyStringsToNull middleware (DreamFactory 7 keeps
 * Laravel 11's default global stack), applied to decoded request data: every string, however
 * deeply nested, is trimmed unless its full dotted key (`password`, but not `resource.0.password`)
 * is in TrimStrings' except list, and a string that is then empty becomes null. Other values are
 * kept as they are.
 */
export function laravelClean(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    const v = trimmedUnlessExcepted(key, value);
    return v === "" ? null : v;
  }
  const prefix = key === "" ? "" : `${key}.`;
  if (Array.isArray(value)) return value.map((v, i) => laravelClean(v, `${prefix}${i}`));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = laravelClean(v, `${prefix}${k}`);
    return out;
  }
  return value;
}

/** A string trimmed as TrimStrings does, unless its full dotted key is in the except list. */
export function trimmedUnlessExcepted(key: string, value: string): string {
  return TRIM_EXCEPT.has(key) ? value : value.replace(TRIM_RE, "");
}

/**
 * Whether two JSON values are the same once DreamFactory 7 has stored them: strings compared
 * trimmed, and `""` equal to null, at any depth (key order ignored).
 *
 * @example
 * ```ts
 * storedEqual({ a: " x ", b: "" }, { a: "x", b: null }); // true
 * ```
 */
export function storedEqual(a: unknown, b: unknown): boolean {
  return jsonEqual(laravelClean(a), laravelClean(b));
}

/**
 * The integer types df-database's `Schema::typecastToNative` casts (`is_int`, else `""` as null
 * on a nullable column, else `is_numeric` or a 400 "must be a valid integer"); the other integer
 * types (tinyint, smallint, bigint, ...) reach the driver as sent. DreamFactory declares them on
 * SQLite without a length, so a length read back for one is not kept.
 */
export const CAST_INTEGER_TYPES: ReadonlySet<string> = new Set([
  "integer",
  "id",
  "reference",
  "user_id",
  "user_id_on_create",
  "user_id_on_update",
]);
