/**
 * Typed AST shared by both readings of a DreamFactory filter: the strict server-side reading
 * (`parseDreamFactoryFilter`, emulating DreamFactory 7's string-splitting parser) and the
 * forgiving client-side reading (`parseFilter`).
 *
 * @module
 */

/**
 * A comparison operator, spelled as DreamFactory spells it after localising word forms
 * (`EQ` -> `=`, `GTE` -> `>=`, `<>` -> `!=`). `contains`, `starts with` and `ends with` are kept
 * (DreamFactory turns them into `LIKE` with `%` added around the value text). `all` is parsed by
 * DreamFactory but fails in SQL; the compiler rejects it as DreamFactory's database would.
 */
export type ComparisonOperator =
  | "="
  | "!="
  | ">"
  | ">="
  | "<"
  | "<="
  | "like"
  | "contains"
  | "starts with"
  | "ends with"
  | "in"
  | "not in"
  | "all"
  | "is null"
  | "is not null";

/**
 * A value on the right of a comparison.
 * - `string`: text (already unquoted). The strict reading yields only strings, as DreamFactory
 *   reads every value as text and types it by column later.
 * - `number`, `boolean`: literals of the forgiving reading; they mean what their printed form
 *   means to DreamFactory (`true` prints as `1`, `false` as `0`, which works on system and table
 *   resources alike).
 * - `null`: only inside the forgiving reading before normalisation; `x = null` becomes `is null`.
 * - `{ param }`: a `:name` placeholder bound from the request's `params`.
 * - `{ expression }`: a parenthesised raw SQL expression such as `(CURRENT_DATE)`; the SQL compiler
 *   accepts only a small allow-list.
 */
export type FilterValue =
  | string
  | number
  | boolean
  | null
  | { param: string }
  | { expression: string };

/** One condition: `field op value`, `field in (a, b)`, `field is null`, ... */
export interface ComparisonNode {
  /** Discriminant. */
  type: "comparison";
  /** Column name as written (matched case-insensitively when compiled). */
  field: string;
  /** The operator (word forms localised). */
  op: ComparisonOperator;
  /** True when the word `NOT` preceded the operator (`name NOT LIKE 'a%'`). */
  negated: boolean;
  /** The value of single-value operators (absent for `is null`, `is not null`, lists). */
  value?: FilterValue;
  /** The items of `in`, `not in`, `all`. */
  values?: FilterValue[];
}

/** `AND`/`OR` (and DreamFactory's `XOR`/`NOR`, which it passes to the database) of 2+ children. */
export interface LogicalNode {
  /** Discriminant: the logical operator. `and`/`or` chains are flattened. */
  type: "and" | "or" | "xor" | "nor";
  /** Operands, in written order (at least two). */
  children: FilterNode[];
}

/** `NOT (...)`. */
export interface NotNode {
  /** Discriminant. */
  type: "not";
  /** The negated condition. */
  child: FilterNode;
}

/**
 * A parsed DreamFactory filter.
 *
 * @example
 * ```ts
 * const node: FilterNode = {
 *   type: "and",
 *   children: [
 *     { type: "comparison", field: "age", op: ">", negated: false, value: 21 },
 *     { type: "comparison", field: "name", op: "like", negated: false, value: "J%" },
 *   ],
 * };
 * ```
 */
export type FilterNode = ComparisonNode | LogicalNode | NotNode;

/** A table column as the compiler needs it. */
export interface ColumnInfo {
  /** The column's real name. */
  name: string;
  /**
   * DreamFactory simple type: `id`, `integer`, `reference`, `user_id`, `boolean`, `string`,
   * `text`, `date`, `time`, `datetime`, `timestamp`, `decimal`, `float`, `double`, ...
   */
  type: string;
  /**
   * Whether the column takes NULL. Table mode only: an empty value for a nullable integer column
   * then compares with NULL (matching nothing) instead of failing. Unknown is taken as false.
   */
  allowNull?: boolean;
}

/** Operators that take a parenthesised value list. */
export const LIST_OPERATORS: ReadonlySet<ComparisonOperator> = new Set(["in", "not in", "all"]);
/** Operators that take no value. */
export const NO_VALUE_OPERATORS: ReadonlySet<ComparisonOperator> = new Set([
  "is null",
  "is not null",
]);

/** True for a `{ param }` value. */
export function isParamValue(v: FilterValue | undefined): v is { param: string } {
  return typeof v === "object" && v !== null && "param" in v;
}

/** True for an `{ expression }` value. */
export function isExpressionValue(v: FilterValue | undefined): v is { expression: string } {
  return typeof v === "object" && v !== null && "expression" in v;
}
