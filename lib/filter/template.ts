/**
 * Building filters safely from code: the `f` tagged template and `whereClause`, both producing a
 * `Filter` whose string form is the canonical, DreamFactory-parseable filter.
 *
 * @module
 */

import type { ComparisonOperator, FilterNode, FilterValue } from "./ast.ts";
import { FilterSyntaxError } from "./errors.ts";
import {
  type Interpolations,
  parseFilter,
  parseFilterWith,
  SENTINEL_CLOSE,
  SENTINEL_OPEN,
} from "./parser.ts";
import { printFilter } from "./printer.ts";

const FILTER_BRAND = Symbol.for("dfkit.Filter");

/**
 * A filter built by `f` or `whereClause`: a parsed tree whose `toString()` is the canonical
 * string DreamFactory parses as intended. Immutable.
 *
 * @example
 * ```ts
 * const flt = f`email = ${"jo@x.com"} and id > ${5}`;
 * String(flt); // "(email = 'jo@x.com') and (id > 5)"
 * ```
 */
export class Filter {
  /** The parsed tree. */
  readonly node: FilterNode;
  readonly #text: string;
  /** Brand used by `isFilter` (works across module copies). */
  readonly [FILTER_BRAND] = true;

  /** Wraps a tree; throws `FilterSyntaxError` when DreamFactory cannot express it. */
  constructor(node: FilterNode) {
    this.node = node;
    this.#text = printFilter(node);
    Object.freeze(this);
  }

  /** The canonical DreamFactory filter string. */
  toString(): string {
    return this.#text;
  }

  /** Serialises as the filter string. */
  toJSON(): string {
    return this.#text;
  }

  /** Combines with other filters (or filter strings) under AND. */
  and(...others: (Filter | string)[]): Filter {
    return new Filter({ type: "and", children: [this.node, ...others.map(toNode)] });
  }

  /** Combines with other filters (or filter strings) under OR. */
  or(...others: (Filter | string)[]): Filter {
    return new Filter({ type: "or", children: [this.node, ...others.map(toNode)] });
  }

  /** Shows the filter string in `console.log` / the REPL. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Filter(${this.#text})`;
  }
}

function toNode(x: Filter | string): FilterNode {
  return isFilter(x) ? x.node : parseFilter(x);
}

/**
 * True when `x` is a `Filter` built by `f`, `whereClause` or `new Filter`.
 *
 * @example
 * ```ts
 * isFilter(f`id = ${1}`); // true
 * isFilter("id = 1"); // false
 * ```
 */
export function isFilter(x: unknown): x is Filter {
  return typeof x === "object" && x !== null &&
    (x as Record<symbol, unknown>)[FILTER_BRAND] === true;
}

function pad(n: number, w = 2): string {
  return String(n).padStart(w, "0");
}

/** One interpolated JavaScript value as a filter value. */
/** DreamFactory's lookup pattern (Session::replaceLookups); it substitutes these anywhere. */
const LOOKUP = /\{\w+[(|\w.\-)]*\}/;

function scalar(v: unknown, index: number): FilterValue {
  if (typeof v === "string") {
    const m = LOOKUP.exec(v);
    if (m) {
      throw new FilterSyntaxError(
        `value #${index} contains ${m[0]}, which DreamFactory replaces with a lookup value ` +
          "anywhere in a filter, so the text cannot be matched; write intended lookups in the " +
          "template text itself (f`owner_id = {user.id}`)",
        v,
        m.index,
      );
    }
    return v;
  }
  if (typeof v === "number") {
    if (!Number.isFinite(v)) {
      throw new TypeError(`f\`...\`: value #${index} is ${v}; a filter needs a finite number`);
    }
    return v;
  }
  if (typeof v === "bigint") return v.toString();
  if (typeof v === "boolean") return v;
  if (v === null || v === undefined) return null;
  if (v instanceof Date) {
    if (isNaN(v.getTime())) throw new TypeError(`f\`...\`: value #${index} is an invalid Date`);
    // DreamFactory stores datetimes as `Y-m-d H:i:s` text; compare in that form (UTC).
    return `${v.getUTCFullYear()}-${pad(v.getUTCMonth() + 1)}-${pad(v.getUTCDate())} ` +
      `${pad(v.getUTCHours())}:${pad(v.getUTCMinutes())}:${pad(v.getUTCSeconds())}`;
  }
  throw new TypeError(
    `f\`...\`: value #${index} is ${Object.prototype.toString.call(v)}; interpolate strings, ` +
      "numbers, booleans, null, Dates, arrays (for in) or Filters",
  );
}

const interpolationConverter: Interpolations["convert"] = (v, index, list) => {
  if (isFilter(v)) return v.node;
  if (Array.isArray(v)) {
    if (!list) {
      throw new TypeError(`f\`...\`: value #${index} is an array; arrays go after 'in' / 'not in'`);
    }
    if (v.length === 0) {
      throw new TypeError(`f\`...\`: value #${index} is an empty array; 'in' needs 1+ values`);
    }
    return v.map((x) => scalar(x, index));
  }
  if (list) throw new TypeError(`f\`...\`: value #${index} after 'in' must be an array`);
  return scalar(v, index);
};

/**
 * Tagged template building a `Filter` with every interpolated value quoted safely: strings are
 * quoted the way DreamFactory unquotes them, numbers/booleans/null written as literals (`= null`
 * becomes `is null`), arrays become `in` lists, `Date`s UTC `Y-m-d H:i:s` text, and interpolated
 * `Filter`s nest as sub-conditions. The text around the values may use the forgiving syntax; the
 * result is always the canonical form (`(a = 1) and (b = 2)`). Throws `FilterSyntaxError` for a
 * value DreamFactory cannot express (e.g. `'a=b'` after `like`).
 *
 * @example
 * ```ts
 * const email = "o'brien@example.com";
 * f`email = ${email} and id > ${5}`.toString();
 * // "(email = \"o'brien@example.com\") and (id > 5)"
 * f`type in ${["mysql", "pgsql"]}`.toString(); // "type in ('mysql', 'pgsql')"
 * ```
 */
export function f(strings: TemplateStringsArray, ...values: unknown[]): Filter {
  let text = strings[0];
  for (let i = 0; i < values.length; i++) {
    text += `${SENTINEL_OPEN}${i}${SENTINEL_CLOSE}${strings[i + 1]}`;
  }
  try {
    return new Filter(parseFilterWith(text, { values, convert: interpolationConverter }));
  } catch (e) {
    if (!(e instanceof FilterSyntaxError)) throw e;
    // Show the template as written (`${0}` for the first value), not its internal markers.
    const shown = (s: string) =>
      s.replace(new RegExp(`${SENTINEL_OPEN}(\\d+)${SENTINEL_CLOSE}`, "g"), "${$1}");
    const position = e.position < 0 ? -1 : shown(e.input.slice(0, e.position)).length;
    throw new FilterSyntaxError(
      e.reason,
      shown(e.input),
      position,
      e.suggestion === undefined ? undefined : shown(e.suggestion),
    );
  }
}

const WHERE_OPS: Record<string, { op: ComparisonOperator; negated?: boolean }> = {
  "=": { op: "=" },
  "==": { op: "=" },
  "eq": { op: "=" },
  "!=": { op: "!=" },
  "<>": { op: "!=" },
  "ne": { op: "!=" },
  ">": { op: ">" },
  "gt": { op: ">" },
  ">=": { op: ">=" },
  "gte": { op: ">=" },
  "<": { op: "<" },
  "lt": { op: "<" },
  "<=": { op: "<=" },
  "lte": { op: "<=" },
  "like": { op: "like" },
  "not like": { op: "like", negated: true },
  "in": { op: "in" },
  "not in": { op: "not in" },
  "is null": { op: "is null" },
  "is not null": { op: "is not null" },
  "contains": { op: "contains" },
  "not contains": { op: "contains", negated: true },
  "starts with": { op: "starts with" },
  "not starts with": { op: "starts with", negated: true },
  "ends with": { op: "ends with" },
  "not ends with": { op: "ends with", negated: true },
};

/**
 * One condition as a `Filter` (what the query builder's `.where(field, op, value)` uses). The
 * field must be a plain column name (letters, digits, `_`); `op` one of `= != <> > >= < <=`,
 * `eq ne gt gte lt lte`, `like`, `not like`, `in`, `not in` (with an array), `is null`,
 * `is not null` (no value), `contains`, `starts with`, `ends with` (and their `not` forms).
 * `=`/`!=` with null become `is null`/`is not null`. As in DreamFactory, `contains`,
 * `starts with` and `ends with` become SQL `LIKE` patterns, so `%` and `_` inside their value
 * still act as wildcards (DreamFactory does not escape them); use `=` for an exact match.
 *
 * @example
 * ```ts
 * whereClause("name", "like", "J%").toString(); // "name like 'J%'"
 * whereClause("id", "in", [1, 2]).toString(); // "id in (1, 2)"
 * ```
 */
export function whereClause(field: string, op: string, value?: unknown): Filter {
  if (typeof field !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) {
    throw new FilterSyntaxError(
      `'${
        String(field)
      }' is not a field name (letters, digits and _ only, not starting with a digit)`,
      String(field),
      0,
    );
  }
  // The usual spellings ("=", "like") hit at once; others are trimmed and lower-cased first.
  const key = Object.hasOwn(WHERE_OPS, op)
    ? op
    : String(op).trim().toLowerCase().replace(/\s+/g, " ");
  // Own keys only: "constructor" is not an operator.
  const spec = Object.hasOwn(WHERE_OPS, key) ? WHERE_OPS[key] : undefined;
  if (!spec) {
    throw new FilterSyntaxError(
      `unknown operator '${op}'; use one of ${Object.keys(WHERE_OPS).join(", ")}`,
      String(op),
      0,
    );
  }
  let { op: cop } = spec;
  const negated = spec.negated ?? false;
  if (cop === "is null" || cop === "is not null") {
    if (value !== undefined && value !== null) {
      throw new TypeError(`where("${field}", "${op}") takes no value`);
    }
    return new Filter({ type: "comparison", field, op: cop, negated: false });
  }
  if (cop === "in" || cop === "not in") {
    if (!Array.isArray(value) || value.length === 0) {
      throw new TypeError(`where("${field}", "${op}", ...) needs a non-empty array`);
    }
    const values = value.map((v, i) => {
      const s = scalar(v, i);
      if (s === null) {
        throw new TypeError(`where("${field}", "${op}", ...): null never matches in a list`);
      }
      return s;
    });
    return new Filter({ type: "comparison", field, op: cop, negated, values });
  }
  if (Array.isArray(value)) {
    throw new TypeError(`where("${field}", "${op}", [...]): arrays need 'in' or 'not in'`);
  }
  const v = scalar(value, 0);
  if (v === null) {
    if (cop === "=") cop = "is null";
    else if (cop === "!=") cop = "is not null";
    else throw new TypeError(`where("${field}", "${op}", null): use "is null" or "is not null"`);
    return new Filter({ type: "comparison", field, op: cop, negated: false });
  }
  return new Filter({ type: "comparison", field, op: cop, negated, value: v });
}
