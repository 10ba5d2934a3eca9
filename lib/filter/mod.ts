/**
 * DreamFactory's filter language, read two ways.
 *
 * - Strict (server side): `parseDreamFactoryFilter` reads a filter exactly as DreamFactory 7 does,
 *   quirks included (`a = 1 and b = 2` is ONE comparison; conditions combine only when
 *   parenthesised); `compileDreamFactoryFilter` / `compileFilter` turn it into SQLite SQL with
 *   bound parameters and DreamFactory's own errors (`FilterError`).
 * - Forgiving (client side): `parseFilter` reads what people write (NOT > AND > OR, escapes,
 *   word operators), refuses what DreamFactory would misread with a `FilterSyntaxError` that
 *   shows the fix; `printFilter` / `normalizeFilter` / `f` / `whereClause` produce the form
 *   DreamFactory parses as intended, proven by re-reading it with the strict parser.
 *
 * @example
 * ```ts
 * import { compileDreamFactoryFilter, f, normalizeFilter } from "./mod.ts";
 *
 * normalizeFilter("age >= 21 and name like 'J%'"); // "(age >= 21) and (name like 'J%')"
 * String(f`email = ${"o'brien@x.com"} and id > ${5}`);
 * // "(email = \"o'brien@x.com\") and (id > 5)"
 * compileDreamFactoryFilter("(age >= 21) and (name like 'J%')", [
 *   { name: "age", type: "integer" },
 *   { name: "name", type: "string" },
 * ], { mode: "table" }); // { sql: '"age" >= ? AND "name" LIKE ?', params: [21, "J%"] }
 * ```
 *
 * @module
 */

export type {
  ColumnInfo,
  ComparisonNode,
  ComparisonOperator,
  FilterNode,
  FilterValue,
  LogicalNode,
  NotNode,
} from "./ast.ts";
export { FilterError, FilterSyntaxError } from "./errors.ts";
export { parseDreamFactoryFilter } from "./dreamfactory.ts";
export {
  type CompiledFilter,
  compileDreamFactoryFilter,
  compileFilter,
  type CompileOptions,
  replaceLookups,
} from "./sql.ts";
export {
  combineWithRoleFilters,
  type RoleFilterSpec,
  roleFiltersToNode,
  roleFilterString,
} from "./role.ts";
export { normalizeFilter, parseFilter } from "./parser.ts";
export { printFilter } from "./printer.ts";
export { f, Filter, isFilter, whereClause } from "./template.ts";
