/**
 * Reading DreamFactory's response envelopes: `{"resource": [...], "meta": {...}}` for lists,
 * bare objects for single records, bare numbers for `count_only`.
 *
 * @module
 */
import type { Records } from "../display.ts";

/** One page of records. */
export interface Page<T> {
  /** The records of this page. */
  records: Records<T>;
  /** Total matching records, when the server reported it. */
  count?: number;
  /** Whether more records remain after this page. */
  more: boolean;
  /** Offset of the next page, when more remain. */
  next?: number;
}

/** The records in a response body: the `resource` list, a bare array, or a single object. */
export function recordsOf<T>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  if (body && typeof body === "object") {
    const resource = (body as { resource?: unknown }).resource;
    if (Array.isArray(resource)) return resource as T[];
    if (resource && typeof resource === "object") return [resource as T];
    // A bare record (by-id calls) or `{"success": true}` (truncate): a record is one result.
    if ("success" in body && Object.keys(body).length === 1) return [];
    return [body as T];
  }
  return [];
}

/** The `meta` object of a list response, if any. */
function metaOf(body: unknown): { count?: unknown; next?: unknown } | undefined {
  return body && typeof body === "object"
    ? (body as { meta?: { count?: unknown; next?: unknown } }).meta
    : undefined;
}

/** `meta.count` of a list response, if present. */
export function totalOf(body: unknown): number | undefined {
  const n = metaOf(body)?.count;
  return typeof n === "number" ? n : typeof n === "string" && n !== "" ? Number(n) : undefined;
}

/** Whether a list response says more records follow (`meta.next`, set when the server capped it). */
export function hasNextOf(body: unknown): boolean {
  const next = metaOf(body)?.next;
  return next !== undefined && next !== null;
}
