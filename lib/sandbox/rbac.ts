/**
 * Role-based access as DreamFactory evaluates it (§3.2/§3.3 of the reference): loading a role's
 * API rules, matching a service component against them (exact, then prefix wildcard, then
 * service wildcard, then all-services), and the access-denied errors in their evaluation order.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { DfError } from "./http.ts";
import type { AccessGrant, RoleFilter, SessionInfo } from "./types.ts";
import { stmt } from "./statements.ts";
import { VERBS } from "../resources.ts";

/** Verb bits of `verb_mask` (DreamFactory's VerbsMask; the client exports the same table). */
export const VERB_BITS: Record<string, number> = VERBS;

/** One API rule of a role. */
export interface RoleRule {
  serviceId: number | null;
  component: string;
  verbMask: number;
  filters: RoleFilter[];
  filterOp: "AND" | "OR";
}

/** A role with its API rules. */
export interface LoadedRole {
  id: number;
  name: string;
  isActive: boolean;
  rules: RoleRule[];
}

/** Loads a role and the rules that apply to API calls (`requestor_mask & 1`). */
export function loadRole(db: DatabaseSync, roleId: number): LoadedRole | null {
  const role = stmt(db, `SELECT id, name, is_active FROM role WHERE id = ?`).get(roleId) as
    | { id: number; name: string; is_active: number }
    | undefined;
  if (!role) return null;
  const rows = stmt(
    db,
    `SELECT service_id, component, verb_mask, requestor_mask, filters, filter_op
     FROM role_service_access WHERE role_id = ? ORDER BY id`,
  ).all(roleId) as Record<string, unknown>[];
  const rules = rows.filter((r) => (Number(r.requestor_mask) & 1) === 1).map((r) => {
    let filters: RoleFilter[] = [];
    try {
      filters = r.filters ? JSON.parse(String(r.filters)) : [];
    } catch { /* stored by hand: ignore */ }
    return {
      serviceId: r.service_id === null ? null : Number(r.service_id),
      component: String(r.component ?? "").replace(/^\/+|\/+$/g, "").toLowerCase(),
      verbMask: Number(r.verb_mask),
      filters: Array.isArray(filters) ? filters : [],
      filterOp: String(r.filter_op ?? "AND").toUpperCase() === "OR" ? "OR" : "AND",
    } satisfies RoleRule;
  });
  return { id: role.id, name: role.name, isActive: !!role.is_active, rules };
}

/** The component string of a resource path as DreamFactory compares it. */
export function componentOf(resource: string): string {
  return resource.toLowerCase().replace(/\([^)]*\)/g, "").replace(/^\/+/, "").replace(
    /\/+$/,
    "",
  );
}

/** Which precedence group a rule of the service falls in for a component (0 exact, 1 prefix
 * wildcard, 2 service wildcard), or -1. */
function category(r: RoleRule, c: string): number {
  if (c) {
    const star = r.component.indexOf("*");
    if (c === r.component) return 0;
    if (star >= 0 && (c + "/").slice(0, star) + "*" === r.component) return 1;
    if (r.component === "*") return 2;
  } else if (!r.component) return 0;
  else if (r.component === "*") return 2;
  return -1;
}

/**
 * What the rules grant on a component of a service, following df-core's
 * `Session::getServicePermissions`: exact, then prefix wildcard, then service wildcard, then
 * all-services; verb masks are OR-ed within the first category that matched at all. The row
 * filters are those `Session::getServiceFilters` picks for the request's verb (see
 * {@linkcode filtersFor}).
 */
export function grantFor(
  rules: RoleRule[],
  serviceId: number,
  component: string,
  method?: string,
): AccessGrant | null {
  const c = component.toLowerCase();
  const masks = [0, 0, 0, 0];
  const found = [false, false, false, false];
  for (const r of rules) {
    let k = -1;
    if (r.serviceId === serviceId) k = category(r, c);
    else if (r.serviceId === null && (r.component === "*" || (!r.component && !c))) k = 3;
    if (k < 0) continue;
    found[k] = true;
    masks[k] |= r.verbMask;
  }
  const k = found.indexOf(true);
  if (k < 0) return null;
  const filters = method === undefined ? null : filtersFor(rules, serviceId, c, method);
  return {
    verbMask: masks[k],
    filters: filters?.filters ?? [],
    filterOp: filters?.filterOp ?? "AND",
  };
}

/**
 * The row filters in effect, as df-core's `Session::getServiceFilters` chooses them: only rules
 * of this very service (never an all-services rule) that grant the request's verb; in the
 * first group that matched (exact, prefix wildcard, `*`), the last such rule alone decides.
 */
export function filtersFor(
  rules: RoleRule[],
  serviceId: number,
  component: string,
  method: string,
): { filters: RoleFilter[]; filterOp: "AND" | "OR" } | null {
  const bit = VERB_BITS[method.toUpperCase()] ?? 0;
  const last: (RoleRule | undefined)[] = [undefined, undefined, undefined];
  for (const r of rules) {
    if (r.serviceId !== serviceId || !(r.verbMask & bit)) continue;
    const k = category(r, component.toLowerCase());
    if (k >= 0) last[k] = r;
  }
  const winner = last.find((r) => r !== undefined);
  if (!winner?.filters.length) return null;
  return { filters: winner.filters, filterOp: winner.filterOp };
}

/** True when the rules grant anything at all on the service (for listings). */
export function touchesService(rules: RoleRule[], serviceId: number): boolean {
  return rules.some((r) =>
    (r.serviceId === serviceId || (r.serviceId === null && r.component === "*")) && r.verbMask > 0
  );
}

/** The 403/401/400 DreamFactory answers when no rule grants the call (evaluation order of §3.3). */
export function accessDenied(
  session: SessionInfo,
  role: LoadedRole | null,
  hasKey: boolean,
  hasToken: boolean,
  method: string,
  service: string,
  component: string,
): DfError {
  if (!hasKey && !hasToken) {
    return new DfError(
      400,
      "No session token (JWT) or API Key detected in request. Please send in X-DreamFactory-Session-Token and/or X-DreamFactory-API-Key request header. You can also use URL query parameters session_token and/or api_key.",
    );
  }
  if (!role) {
    if (!hasKey) {
      return new DfError(
        400,
        "No API Key provided. Please provide a valid API Key using X-DreamFactory-API-Key request header or 'api_key' url query parameter.",
      );
    }
    if (!hasToken) {
      return new DfError(
        400,
        "No session token (JWT) provided. Please provide a valid JWT using X-DreamFactory-Session-Token request header or 'session_token' url query parameter.",
      );
    }
    return new DfError(
      403,
      "Role not found. A role may not be assigned to you or your application.",
    );
  }
  if (!role.isActive) {
    return new DfError(
      403,
      "Access Forbidden. The role assigned to you or your application or the default role of your application is not active.",
    );
  }
  if (session.userId === null) return new DfError(401, "Unauthorized. User is not authenticated.");
  const what = component
    ? ` access to component '${component}' of service '${service}'`
    : ` access to service '${service}'`;
  return new DfError(403, `Access Forbidden. ${method}${what} is not allowed by this user's role.`);
}
