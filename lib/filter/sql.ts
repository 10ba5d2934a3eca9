/**
 * AST -> SQLite SQL with bound parameters, applying DreamFactory's field validation and value
 * typing (system resources per df-core, SQL tables per df-sqldb). Values only ever travel as
 * bound parameters; the only text that reaches the SQL is quoted column names taken from the
 * column list, fixed operator keywords, `?` placeholders and an allow-list of niladic SQL keywords.
 *
 * @module
 */

import {
  type ColumnInfo,
  type ComparisonNode,
  type FilterNode,
  type FilterValue,
  isExpressionValue,
  isParamValue,
} from "./ast.ts";
import {
  dreamFactoryTokens,
  dreamFactoryTree,
  findColumn,
  phpTrim,
  sqlSyntaxError,
  stripDreamFactoryQuotes,
  tooDeep,
} from "./dreamfactory.ts";
import { FilterError } from "./errors.ts";
import { formatNumber } from "./values.ts";
import { CAST_INTEGER_TYPES } from "../stored.ts";
import { ctypeDigit, filterBool, floatval, isNumeric } from "../php.ts";
import { NATIVE_DATE_KINDS, nativeDateTime, phpFormatDateTime } from "./phpdate.ts";

/** Options of `compileFilter`. */
export interface CompileOptions {
  /**
   * `"system"`: typing of df-core system resources (integers need digits only, booleans are bound
   * unchanged, dates reformatted). `"table"`: typing of df-sqldb tables (values cast to the
   * column type: `1.5` -> 1, `yes` -> 1, `abc` -> 0 for booleans and decimals).
   */
  mode: "system" | "table";
  /** Values for `:name` placeholders, keyed `":name"` (as DreamFactory) or `"name"`. */
  params?: Record<string, unknown>;
  /** Values for `{name}` lookups inside values (`{user.id}`, `{user.email}`, ...). */
  lookups?: Record<string, string>;
}

/** A compiled filter: an SQLite boolean expression with `?` placeholders, and their values. */
export interface CompiledFilter {
  /** SQL text with `?` placeholders (no value is ever inlined). */
  sql: string;
  /** Bound values in placeholder order. */
  params: (string | number | null)[];
}

type Bound = string | number | null;

/**
 * df-database's Schema::typecastToNative, which df-sqldb's parseFilterValue applies to each value:
 * it casts only `CAST_INTEGER_TYPES` (is_numeric or 400, '' -> NULL when nullable) and these float
 * types (floatval); tinyint, smallint, bigint, money, ... fall to its `default:` and are bound as
 * sent, leaving the comparison to the database.
 */
const TABLE_FLOAT_TYPES = new Set(["decimal", "float", "double"]);

/** Raw expressions the sandbox can run safely: fixed SQL keywords, never client text. */
const SAFE_EXPRESSIONS: Record<string, string> = {
  "current_timestamp": "CURRENT_TIMESTAMP",
  "current_date": "CURRENT_DATE",
  "current_time": "CURRENT_TIME",
};

function intError(column: ColumnInfo): FilterError {
  return new FilterError(400, `Field '${column.name}' must be a valid integer.`);
}

function intBound(digits: string): Bound {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : digits;
}

interface Ctx {
  columns: ColumnInfo[];
  mode: "system" | "table";
  params: Record<string, unknown>;
  lookups?: Record<string, string>;
  out: Bound[];
  /** First database-level error; thrown once every 400 check has passed (DreamFactory order). */
  dbError?: FilterError;
  /** First raw SQL value the sandbox refuses; thrown last (DreamFactory would have run it). */
  rawError?: FilterError;
}

function substituteLookups(text: string, lookups: Record<string, string> | undefined): string {
  if (!lookups || !text.includes("{")) return text;
  return text.replace(
    /\{(\w[\w.\-]*)\}/g,
    (m, name: string) => Object.hasOwn(lookups, name) ? String(lookups[name]) : m,
  );
}

/** A value reduced to what DreamFactory's typing step receives. */
type Incoming = { kind: "text"; text: string } | { kind: "native"; value: unknown } | {
  kind: "expression";
  sql: string;
};

function incoming(v: FilterValue | undefined, ctx: Ctx, wildcard?: string): Incoming {
  if (wildcard !== undefined) {
    // contains / starts with / ends with: `%` is added to the text, which is then never unquoted.
    const text = literalText(v, ctx);
    const s = wildcard === "contains"
      ? `%${text}%`
      : wildcard === "starts with"
      ? `${text}%`
      : `%${text}`;
    return { kind: "text", text: s };
  }
  if (isParamValue(v)) {
    const key = `:${v.param}`;
    const has = Object.hasOwn(ctx.params, key)
      ? key
      : Object.hasOwn(ctx.params, v.param)
      ? v.param
      : null;
    if (has === null) return { kind: "text", text: key };
    const p = ctx.params[has];
    if (typeof p === "string") return fromText(substituteLookups(p, ctx.lookups));
    return { kind: "native", value: p };
  }
  if (isExpressionValue(v)) return { kind: "expression", sql: v.expression };
  if (typeof v === "string") return { kind: "text", text: substituteLookups(v, ctx.lookups) };
  return { kind: "text", text: literalText(v, ctx) };
}

function fromText(text: string): Incoming {
  const r = stripDreamFactoryQuotes(text);
  return typeof r === "string"
    ? { kind: "text", text: r }
    : { kind: "expression", sql: r.expression };
}

/** The DreamFactory text a literal stands for (what `printFilter` writes for it). */
function literalText(v: FilterValue | undefined, ctx: Ctx): string {
  if (typeof v === "string") return substituteLookups(v, ctx.lookups);
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  if (v === null || v === undefined) return "null";
  if (isParamValue(v)) return `:${v.param}`;
  return v.expression;
}

function expressionSql(sql: string, ctx: Ctx): string {
  const inner = phpTrim(sql.slice(1, -1));
  const safe = SAFE_EXPRESSIONS[inner.toLowerCase()];
  if (safe) return safe;
  if (/^[+-]?\d+(\.\d+)?$/.test(inner)) {
    ctx.out.push(Number(inner));
    return "?";
  }
  if (/^now\s*\(\s*\)$/i.test(inner)) {
    ctx.dbError ??= new FilterError(
      500,
      "SQLSTATE[HY000]: General error: 1 no such function: NOW",
      {
        sqlError: true,
      },
    );
    return "NULL";
  }
  ctx.rawError ??= new FilterError(
    400,
    `Raw SQL expressions in filter values are not supported: '${sql}'. ` +
      "Quote the value to compare with it as text; allowed expressions: " +
      "(CURRENT_TIMESTAMP), (CURRENT_DATE), (CURRENT_TIME).",
  );
  return "NULL";
}

/** Typing of a non-string `params` value (JSON number, boolean, null), as PHP would see it. */
function bindNative(v: unknown, type: string, column: ColumnInfo, ctx: Ctx): string {
  if (v !== null && v !== undefined && typeof v === "object") {
    throw new FilterError(400, `Invalid value for a filter parameter of field '${column.name}'.`);
  }
  if (typeof v === "bigint") return bindValue({ kind: "text", text: String(v) }, column, ctx);
  let bound: Bound = typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "number" ? v : null;
  if (ctx.mode === "system") {
    if (CAST_INTEGER_TYPES.has(type)) {
      if (typeof v === "number" && Number.isInteger(v)) bound = v;
      else throw intError(column); // ctype_digit() of a float, bool or null is false
    }
    ctx.out.push(bound);
    return "?";
  }
  // typecastToNative: NULL stays NULL on a nullable column.
  if ((v === null || v === undefined) && column.allowNull === true) {
    ctx.out.push(null);
    return "?";
  }
  if (CAST_INTEGER_TYPES.has(type)) {
    // An int or a float (`is_float`: kept, not intval'd) passes; is_numeric(bool/null) is false.
    if (typeof v !== "number") throw intError(column);
    bound = v;
  } else if (type === "boolean") {
    // filter_var(FILTER_VALIDATE_BOOLEAN) of the value as text: 1.5 or null are false.
    if (v === null || v === undefined) bound = column.allowNull === false ? 0 : null;
    else bound = filterBool(v === true ? "1" : v === false ? "" : String(v)) ? 1 : 0;
  } else if (TABLE_FLOAT_TYPES.has(type) && column.allowNull === false && bound === null) {
    bound = 0; // floatval(null)
  }
  ctx.out.push(bound);
  return "?";
}

/** DreamFactory's typing of one value for `column`, pushed as a bound parameter. */
function bindValue(inc: Incoming, column: ColumnInfo, ctx: Ctx): string {
  if (inc.kind === "expression") return expressionSql(inc.sql, ctx);
  const type = column.type.toLowerCase();
  let bound: Bound;
  if (inc.kind === "native") return bindNative(inc.value, type, column, ctx);
  const text = inc.text;
  if (ctx.mode === "system") {
    if (CAST_INTEGER_TYPES.has(type)) {
      if (!ctypeDigit(text)) throw intError(column);
      bound = intBound(text);
    } else if (
      type === "date" || type === "time" || type === "datetime" || type.startsWith("timestamp")
    ) {
      bound = phpFormatDateTime(text, type === "date" || type === "time" ? type : "datetime");
    } else {
      bound = text; // booleans, strings, decimals: bound unchanged
    }
  } else {
    if (CAST_INTEGER_TYPES.has(type)) {
      if (text === "" && column.allowNull === true) {
        bound = null; // '' on a nullable integer column is NULL: `= NULL` matches nothing
      } else {
        if (!isNumeric(text)) throw intError(column);
        const n = Math.trunc(Number(text));
        bound = ctypeDigit(phpTrim(text)) ? intBound(phpTrim(text)) : n;
      }
    } else if (type === "boolean") {
      bound = filterBool(text) ? 1 : 0;
    } else if (TABLE_FLOAT_TYPES.has(type)) {
      bound = floatval(text);
    } else if (NATIVE_DATE_KINDS[type]) {
      bound = nativeDateTime(text, NATIVE_DATE_KINDS[type]);
    } else {
      bound = text; // strings, tinyint/smallint/bigint, money, ...: bound as sent
    }
  }
  ctx.out.push(bound);
  return "?";
}

/** Quotes an SQLite identifier. */
export function quoteIdentifier(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

const SQL_OP: Record<string, string> = {
  "=": "=",
  "!=": "!=",
  ">": ">",
  ">=": ">=",
  "<": "<",
  "<=": "<=",
  "like": "LIKE",
  "contains": "LIKE",
  "starts with": "LIKE",
  "ends with": "LIKE",
  "in": "IN",
  "not in": "NOT IN",
  "all": "ALL",
  "is null": "IS NULL",
  "is not null": "IS NOT NULL",
};

function compileComparison(node: ComparisonNode, ctx: Ctx): string {
  const column = findColumn(ctx.columns, node.field);
  const col = quoteIdentifier(column.name);
  let op = SQL_OP[node.op];
  if (op === undefined) throw new FilterError(400, "Invalid or unparsable filter request.");
  if (node.negated) {
    // DreamFactory emits `NOT <op>`; SQL accepts that only for LIKE and IN.
    if (op !== "LIKE" && op !== "IN") ctx.dbError ??= sqlSyntaxError(op.split(" ")[0]);
    op = `NOT ${op}`;
  }
  if (node.op === "all") ctx.dbError ??= sqlSyntaxError("ALL");
  if (node.op === "is null" || node.op === "is not null") return `${col} ${op}`;
  if (node.op === "in" || node.op === "not in" || node.op === "all") {
    const items = node.values ?? (node.value !== undefined ? [node.value] : []);
    if (items.length === 0) {
      throw new FilterError(400, "Filter value lists must be wrapped in parentheses.");
    }
    const parts = items.map((v) => bindValue(incoming(v, ctx), column, ctx));
    return `${col} ${op} (${parts.join(", ")})`;
  }
  const wildcard = node.op === "contains" || node.op === "starts with" || node.op === "ends with"
    ? node.op
    : undefined;
  return `${col} ${op} ${bindValue(incoming(node.value, ctx, wildcard), column, ctx)}`;
}

function compileNode(node: FilterNode, ctx: Ctx, top: boolean): string {
  switch (node.type) {
    case "comparison":
      return compileComparison(node, ctx);
    case "not":
      return `NOT (${compileNode(node.child, ctx, true)})`;
    default: {
      if (node.children.length === 0) {
        return node.type === "and" ? "1" : "0";
      }
      if (node.type === "xor" || node.type === "nor") {
        ctx.dbError ??= sqlSyntaxError(node.type.toUpperCase());
      }
      const sep = ` ${node.type.toUpperCase()} `;
      const sql = node.children.map((c) => compileNode(c, ctx, false)).join(sep);
      return top ? sql : `(${sql})`;
    }
  }
}

/**
 * Compiles a filter tree to an SQLite condition with `?` placeholders, as DreamFactory would run
 * it: fields are matched case-insensitively against `columns` (and emitted as the real, quoted
 * name), values are typed per `mode`, `:name` placeholders come from `params`, `{name}` lookups
 * from `lookups`. A value is never concatenated into the SQL.
 *
 * Raw parenthesised SQL values (`created > (NOW())`): only `(CURRENT_TIMESTAMP)`, `(CURRENT_DATE)`,
 * `(CURRENT_TIME)` and numeric literals are accepted; `(NOW())` fails as on SQLite (500); anything
 * else is a 400, since DreamFactory would run it as SQL.
 *
 * Throws `FilterError`: 400s in DreamFactory's order, then the 500 the database would give for
 * SQL DreamFactory builds but SQLite refuses (`NOT =`, `ALL`, `XOR`, `NOR`).
 *
 * @example
 * ```ts
 * const node = parseDreamFactoryFilter("(age > 21) and (name like 'J%')")!;
 * compileFilter(node, [{ name: "age", type: "integer" }, { name: "name", type: "string" }], {
 *   mode: "table",
 * }); // { sql: '"age" > ? AND "name" LIKE ?', params: [21, "J%"] }
 * ```
 */
export function compileFilter(
  node: FilterNode,
  columns: ColumnInfo[],
  options: CompileOptions,
): CompiledFilter {
  const ctx: Ctx = {
    columns,
    mode: options.mode,
    params: options.params ?? {},
    lookups: options.lookups,
    out: [],
  };
  let sql: string;
  try {
    sql = compileNode(node, ctx, true);
  } catch (e) {
    if (e instanceof RangeError) throw tooDeep(); // a hand-built tree nested too deeply
    throw e;
  }
  if (ctx.dbError) throw ctx.dbError;
  if (ctx.rawError) throw ctx.rawError;
  return { sql, params: ctx.out };
}

/**
 * The whole server-side pipeline in DreamFactory's order: parse `filter` as DreamFactory does,
 * checking each field and typing each value as it goes (so the first error is DreamFactory's
 * first error), then build the SQL. Returns null when DreamFactory applies no filter ("" or "0").
 * Lookups in the raw string should be substituted first (`replaceLookups`), as DreamFactory does.
 *
 * @example
 * ```ts
 * compileDreamFactoryFilter("a = 1 and b = 2", [{ name: "a", type: "integer" }], { mode: "system" });
 * // throws FilterError 400 "Field 'a' must be a valid integer."
 * ```
 */
export function compileDreamFactoryFilter(
  filter: string,
  columns: ColumnInfo[],
  options: CompileOptions,
): CompiledFilter | null {
  const check: Ctx = {
    columns,
    mode: options.mode,
    params: options.params ?? {},
    lookups: options.lookups,
    out: [],
  };
  const tokens = dreamFactoryTokens(filter, {
    field: (f) => void findColumn(columns, f),
    comparison: (n) => void compileComparison(n, check),
  });
  if (tokens === null) return null;
  return compileFilter(dreamFactoryTree(tokens), columns, options);
}

/**
 * Substitutes `{name}` lookups in a raw filter string, as DreamFactory does before parsing
 * (unknown names are left as written).
 *
 * @example
 * ```ts
 * replaceLookups("owner_id = {user.id}", { "user.id": "5" }); // "owner_id = 5"
 * ```
 */
export function replaceLookups(filter: string, lookups: Record<string, string>): string {
  return substituteLookups(filter, lookups);
}
