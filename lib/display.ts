/**
 * Readable results: record arrays returned by dfkit print as tidy tables in a terminal or the
 * REPL (`Deno.customInspect`) and render as HTML tables in Jupyter (`Jupyter.display`). Long
 * values are truncated in the view only; the data is untouched, and the arrays stay plain arrays
 * (`Array.isArray`, `JSON.stringify`, deep equality all behave as usual).
 *
 * @module
 */
import type TableType from "cli-table3";
// Keys are masked the one way dfkit shows them anywhere (the provisioning recipe's, too).
// Secrets are told by name the one way dfkit tells them anywhere (HAR recordings, snapshots).
import { isSecretField, isSecretMember, maskApiKey } from "./secrets.ts";

// The table library takes tens of milliseconds to load; load it in the background so importing
// dfkit stays fast. dfkit's own calls wait for it before returning records (see displayReady).
let TableImpl: typeof TableType | undefined;
const loading: Promise<void> = import("cli-table3").then(
  (m) => {
    TableImpl = m.default;
  },
  () => {
    failed = true; // unavailable: records print as plain arrays
  },
);
let failed = false;

/**
 * Resolves once the terminal table renderer is loaded (it loads in the background when dfkit is
 * imported). dfkit awaits this before returning records, so its results always print as
 * tables; await it yourself before printing `table(...)` views of your own data at start-up.
 *
 * @example
 * ```ts
 * import { displayReady, table } from "@dfkit/dfkit";
 * await displayReady();
 * console.log(table([{ id: 1 }]));
 * ```
 */
export function displayReady(): Promise<void> {
  return loading;
}

/** True once the table renderer has loaded (lets hot paths skip awaiting {@linkcode displayReady}). */
export function isDisplayReady(): boolean {
  return TableImpl !== undefined || failed;
}

const INSPECT = Symbol.for("Deno.customInspect");
const JUPYTER = Symbol.for("Jupyter.display");

/** Options of the table view. */
export interface TableOptions {
  /** Columns to show, in order (default: every key, in order of first appearance). */
  columns?: string[];
  /** Longest cell text before truncation with `…` (default 40). */
  maxWidth?: number;
  /** Most rows shown (default 50); the rest are counted in a footer. */
  maxRows?: number;
  /** Widest text table in characters: columns that do not fit are named in a footer (default:
   * the terminal's width when printing to one, else no limit). */
  width?: number;
  /** What the footer of columns that did not fit suggests (default: `narrow with .fields(...) or
   * see everything as JSON`); a command line passes its own options' wording. */
  overflowHint?: string;
}

/** An array of records that displays as a table. Still a plain `T[]`. */
export type Records<T> = T[];

/** Credentials by name ({@linkcode isSecretField}, in any case: `password`, `session_token`,
 * `*_secret`, `private_key`, and headers such as `Authorization`, `Cookie` and
 * `X-DreamFactory-Session-Token`), except flags (`must_change_password: true`) and empty text. */
function isHiddenKey(key: string, value: unknown): boolean {
  return typeof value !== "boolean" && value !== "" && verdictOf(key).secret;
}

/** API keys (`api_key`, `apiKey`, the `X-DreamFactory-API-Key` header) are masked to their last
 * four characters rather than hidden: enough to tell them apart. */
const API_KEY_NAME = /^(x[-_]dreamfactory[-_])?api[-_]?key$/i;

// The same keys recur on every row and cell: their verdicts are kept (a bounded number of them).
const verdicts = new Map<string, { apiKey: boolean; secret: boolean }>();

function verdictOf(key: string): { apiKey: boolean; secret: boolean } {
  let verdict = verdicts.get(key);
  if (verdict === undefined) {
    verdict = { apiKey: API_KEY_NAME.test(key), secret: isSecretField(key) };
    if (verdicts.size >= 4096) verdicts.clear();
    verdicts.set(key, verdict);
  }
  return verdict;
}

function columnsOf(rows: readonly unknown[], explicit?: string[]): string[] {
  if (explicit?.length) return explicit;
  const seen = new Set<string>();
  for (const row of rows) {
    if (row && typeof row === "object" && !Array.isArray(row)) {
      for (const k of Object.keys(row)) seen.add(k);
    }
  }
  return seen.size ? [...seen] : ["value"];
}

/** A value as the view may show it: write-only secrets hidden, API keys masked (also used as
 * the JSON replacer for nested values, such as related records). */
function hidden(key: string, value: unknown): unknown {
  if (typeof value === "string" && value !== "" && verdictOf(key).apiKey) {
    return maskApiKey(value);
  }
  if (value !== null && value !== undefined && isHiddenKey(key, value)) return "••••••";
  return value;
}

/** The `value` of a `{name, value}` pair that holds a credential (a remote service's
 * `Authorization` header, an `api_key` parameter, a private lookup): hidden like a named field. */
function isSecretPairValue(holder: unknown, key: string): boolean {
  return key === "value" && !!holder && typeof holder === "object" &&
    isSecretMember(holder as Record<string, unknown>, key, false);
}

/** `JSON.stringify` replacer: {@linkcode hidden}'s rule, and secret pairs' values. */
function hiddenInJson(this: unknown, key: string, value: unknown): unknown {
  return isSecretPairValue(this, key) ? "••••••" : hidden(key, value);
}

function cellText(key: string, raw: unknown, maxWidth: number): string {
  const value = hidden(key, raw);
  let text: string;
  if (value === undefined) text = "";
  else if (value === null) text = "null";
  else if (typeof value === "object") text = JSON.stringify(value, hiddenInJson);
  else text = String(value);
  text = text.replace(/\s+/g, " ");
  return text.length > maxWidth ? `${text.slice(0, Math.max(1, maxWidth - 1))}…` : text;
}

function rowValues(row: unknown, columns: string[], maxWidth: number): string[] {
  if (row && typeof row === "object" && !Array.isArray(row)) {
    const r = row as Record<string, unknown>;
    return columns.map((c) => isSecretPairValue(r, c) ? "••••••" : cellText(c, r[c], maxWidth));
  }
  return [cellText("value", row, maxWidth)];
}

/** Renders records as a text table (box drawing characters). */
function renderText(
  rows: readonly unknown[],
  options: TableOptions & { colors?: boolean } = {},
): string {
  if (!rows.length) return "(no records)";
  if (!TableImpl) return Deno.inspect([...rows], { colors: options.colors });
  const Table = TableImpl;
  const maxWidth = options.maxWidth ?? 40;
  const maxRows = options.maxRows ?? 50;
  const all = columnsOf(rows, options.columns);
  const shown = rows.slice(0, maxRows).map((row) => rowValues(row, all, maxWidth));
  // Keep the columns that fit the width (each takes its widest cell plus 3 for the borders).
  const limit = options.width ?? terminalWidth();
  let keep = all.length;
  if (limit !== undefined) {
    let used = 1;
    keep = 0;
    for (let i = 0; i < all.length; i++) {
      const w = Math.max(all[i].length, ...shown.map((cells) => cells[i].length)) + 3;
      if (keep > 0 && used + w > limit) break;
      used += w;
      keep++;
    }
  }
  const table = new Table({
    head: all.slice(0, keep),
    style: options.colors ? { head: ["cyan"], border: ["grey"] } : { head: [], border: [] },
  });
  for (const cells of shown) table.push(cells.slice(0, keep));
  const notes: string[] = [];
  if (rows.length > maxRows) notes.push(`… ${rows.length - maxRows} more rows`);
  if (keep < all.length) {
    const hidden = all.slice(keep);
    notes.push(
      `… ${hidden.length} more column${hidden.length === 1 ? "" : "s"} (${hidden.join(", ")}): ` +
        (options.overflowHint ?? "narrow with .fields(...) or see everything as JSON"),
    );
  }
  const more = notes.map((n) => `\n${n}`).join("");
  return `${table.toString()}${more}\n${rows.length} record${rows.length === 1 ? "" : "s"}`;
}

/** The terminal's width when stdout is one (tables fit it), else undefined (no limit). */
function terminalWidth(): number | undefined {
  try {
    // A terminal that reports no size (0 columns, as a fresh pseudo-terminal may) has no limit.
    return Deno.stdout.isTerminal() ? Deno.consoleSize().columns || undefined : undefined;
  } catch {
    return undefined;
  }
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

/** Renders records as an HTML table (every value escaped). */
function renderHtml(rows: readonly unknown[], options: TableOptions = {}): string {
  if (!rows.length) return "<p><em>(no records)</em></p>";
  const maxWidth = options.maxWidth ?? 40;
  const maxRows = options.maxRows ?? 50;
  const columns = columnsOf(rows, options.columns);
  const head = columns.map((c) => `<th>${escapeHtml(c)}</th>`).join("");
  const body = rows.slice(0, maxRows).map((row) => {
    const cells = rowValues(row, columns, maxWidth).map((v) => `<td>${escapeHtml(v)}</td>`);
    return `<tr>${cells.join("")}</tr>`;
  }).join("");
  const more = rows.length > maxRows ? `… ${rows.length - maxRows} more rows, ` : "";
  return `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>` +
    `<p><small>${more}${rows.length} record${rows.length === 1 ? "" : "s"}</small></p>`;
}

/**
 * Marks an array of records so it displays as a table in the terminal and in Jupyter. The
 * array is returned as-is (same identity, still a plain array); the display hooks are
 * non-enumerable, so equality checks and JSON are unaffected. dfkit does this to every record
 * array it returns.
 *
 * @example
 * ```ts
 * import { asRecords } from "@dfkit/dfkit";
 * const rows = asRecords([{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }]);
 * console.log(rows); // prints a table
 * ```
 */
export function asRecords<T>(rows: T[], options?: TableOptions): Records<T> {
  // Every record array gets these two hooks: without options they are shared functions reading
  // `this`, so marking an array allocates nothing (it is on every request's path). Two
  // defineProperty calls with prebuilt descriptors cost half of one defineProperties call.
  const hooks = options ? displayHooks(options) : SHARED_HOOKS;
  try {
    Object.defineProperty(rows, INSPECT, hooks[INSPECT]);
  } catch {
    // A frozen, sealed or non-extensible array: mark a copy. (Asking Object.isFrozen first
    // would cost every request ~0.7 µs, measured in place.)
    rows = [...rows];
    Object.defineProperty(rows, INSPECT, hooks[INSPECT]);
  }
  Object.defineProperty(rows, JUPYTER, hooks[JUPYTER]);
  return rows;
}

interface DisplayHooks {
  [INSPECT]: PropertyDescriptor;
  [JUPYTER]: PropertyDescriptor;
}

function displayHooks(options: TableOptions): DisplayHooks {
  return {
    [INSPECT]: {
      value(this: unknown[], _inspect: unknown, opts?: { colors?: boolean }) {
        return renderText(this, { ...options, colors: opts?.colors });
      },
      enumerable: false,
      configurable: true,
    },
    [JUPYTER]: {
      value(this: unknown[]) {
        return { "text/html": renderHtml(this, options), "text/plain": renderText(this, options) };
      },
      enumerable: false,
      configurable: true,
    },
  };
}

const SHARED_HOOKS = displayHooks({});

/** A table view of records, returned by {@linkcode table}. */
export interface TableView {
  /** The text table. */
  toString(): string;
  /** The HTML table. */
  toHtml(): string;
}

/**
 * An explicit table view of any records (dfkit's or your own): prints as a text table, displays
 * as HTML in Jupyter, and `String(table(rows))` gives the text.
 *
 * @example
 * ```ts
 * import { table } from "@dfkit/dfkit";
 * console.log(table([{ id: 1, email: "a@example.com" }], { columns: ["email"] }));
 * ```
 */
export function table(records: readonly unknown[], options: TableOptions = {}): TableView {
  const rows = [...records];
  return {
    toString: () => renderText(rows, options),
    toHtml: () => renderHtml(rows, options),
    [INSPECT]: (_inspect: unknown, opts?: { colors?: boolean }) =>
      renderText(rows, { ...options, colors: opts?.colors }),
    [JUPYTER]: () => ({
      "text/html": renderHtml(rows, options),
      "text/plain": renderText(rows, options),
    }),
  } as TableView;
}

/**
 * Marks an object (a raw response body, say) so that printing it (`console.log`, the REPL,
 * Jupyter) hides session tokens, passwords and credential headers (`Authorization`, `Cookie`,
 * `X-DreamFactory-Session-Token`; names in any case) and masks API keys, at any depth. The data itself
 * is unchanged: `JSON.stringify` and property reads still see every value. `df.request()` and
 * `df.raw()` mark what they return.
 *
 * @example
 * ```ts
 * import { hideSecrets } from "@dfkit/dfkit";
 * console.log(hideSecrets({ email: "a@example.com", session_token: "eyJ..." }));
 * // { email: "a@example.com", session_token: "••••••" }
 * ```
 */
export function hideSecrets<T>(value: T): T {
  markHidden(value, 0);
  return value;
}

/**
 * Marks each object that holds a secret at any depth, the answer itself included, so that
 * `console.log(body.resource[0])` hides too; returns whether `value` holds one. Plain data is
 * only walked: recipes read whole tables through `df.request()`, and marking every row cost
 * more than parsing it.
 */
function markHidden(value: unknown, depth: number): boolean {
  if (!value || typeof value !== "object" || depth > 32) return false;
  let holds = false;
  if (Array.isArray(value)) {
    for (const inner of value) if (markHidden(inner, depth + 1)) holds = true;
  } else {
    const rec = value as Record<string, unknown>;
    for (const k in rec) {
      const v = rec[k];
      if (
        (v !== null && typeof v !== "object" &&
          (hidden(k, v) !== v || isSecretPairValue(rec, k))) ||
        markHidden(v, depth + 1)
      ) {
        holds = true;
      }
    }
  }
  if (holds && Object.isExtensible(value)) Object.defineProperty(value, INSPECT, HIDDEN_VIEW);
  return holds;
}

const HIDDEN_VIEW: PropertyDescriptor = {
  value(this: unknown, _inspect: unknown, opts?: Deno.InspectOptions) {
    return Deno.inspect(withSecretsHidden("", this, 0), { ...opts, depth: opts?.depth ?? 6 });
  },
  enumerable: false,
  configurable: true,
};

/** A copy of plain data with {@linkcode hidden}'s rule applied at every depth. */
function withSecretsHidden(key: string, value: unknown, depth: number): unknown {
  const shown = hidden(key, value);
  if (shown !== value || depth > 32 || !value || typeof value !== "object") return shown;
  if (Array.isArray(value)) return value.map((v) => withSecretsHidden("", v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = isSecretPairValue(value, k) ? "••••••" : withSecretsHidden(k, v, depth + 1);
  }
  return out;
}
