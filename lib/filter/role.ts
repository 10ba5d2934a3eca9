/**
 * Role row filters (`role_service_access.filters`, DreamFactory's "server-side filters"): built
 * into filter text exactly as df-core's `buildQueryStringFromData` does, then read by the strict
 * parser, so they behave on the sandbox as they do on DreamFactory.
 *
 * @module
 */

import type { FilterNode } from "./ast.ts";
import { parseDreamFactoryFilter } from "./dreamfactory.ts";
import { FilterError } from "./errors.ts";
import { strval } from "../php.ts";

/** One row filter of a role access rule, as stored by DreamFactory. */
export interface RoleFilterSpec {
  /** Column name. */
  name: string;
  /** Operator as stored (`=`, `!=`, `>`, `in`, `is null`, `contains`, ...). */
  operator: string;
  /** Value text (may hold lookups such as `{user.id}`). */
  value: unknown;
}

/** PHP string interpolation of a stored filter value (a JSON list shows as "Array", an object
 * as "Object"). */
function phpString(v: unknown): string {
  if (Array.isArray(v)) return "Array";
  if (v !== null && typeof v === "object") return "Object";
  return strval(v);
}

/**
 * The filter text DreamFactory builds from role row filters: `(name OP value)` joined by the
 * rule's combiner, or null when there are none. Throws DreamFactory's 500 for a filter without a
 * name or operator.
 *
 * @example
 * ```ts
 * roleFilterString([{ name: "owner_id", operator: "=", value: "{user.id}" }], "AND");
 * // "(owner_id = {user.id})"
 * ```
 */
export function roleFilterString(
  filters: RoleFilterSpec[] | null | undefined,
  op: "AND" | "OR" | string,
): string | null {
  if (!filters || filters.length === 0) return null;
  const combiner = String(op || "AND");
  const parts = filters.map((flt) => {
    const name = flt?.name;
    const operator = String(flt?.operator ?? "").toUpperCase();
    if (!name || !operator) {
      throw new FilterError(500, "Invalid server-side filter configuration detected.");
    }
    const noValue = ["IS NULL", "IS NOT NULL", "DOES EXIST", "DOES NOT EXIST"].includes(operator);
    return noValue ? `(${name} ${operator})` : `(${name} ${operator} ${phpString(flt.value)})`;
  });
  return parts.join(` ${combiner} `);
}

/**
 * The filter DreamFactory actually parses on a database table when the caller's role has row
 * filters: `(<client filter>) AND (<role filters>)`, or either alone.
 *
 * @example
 * ```ts
 * combineWithRoleFilters("age > 21", [{ name: "owner_id", operator: "=", value: 5 }], "AND");
 * // "(age > 21) AND ((owner_id = 5))"
 * ```
 */
export function combineWithRoleFilters(
  clientFilter: string | null | undefined,
  filters: RoleFilterSpec[] | null | undefined,
  op: "AND" | "OR" | string,
): string | null {
  const server = roleFilterString(filters, op);
  const client = clientFilter === "0" ? "" : clientFilter ?? "";
  if (!server) return client === "" ? null : client;
  if (client === "") return server;
  return `(${client}) AND (${server})`;
}

/**
 * Role row filters as a filter tree (read with DreamFactory's own parser), or null when there are
 * none. Lookups such as `{user.id}` stay in the values; pass `lookups` to `compileFilter`.
 *
 * @example
 * ```ts
 * roleFiltersToNode([{ name: "owner_id", operator: "=", value: "{user.id}" }], "AND");
 * // { type: "comparison", field: "owner_id", op: "=", value: "{user.id}", negated: false }
 * ```
 */
export function roleFiltersToNode(
  filters: RoleFilterSpec[] | null | undefined,
  op: "AND" | "OR",
): FilterNode | null {
  const text = roleFilterString(filters, op);
  return text === null ? null : parseDreamFactoryFilter(text);
}
