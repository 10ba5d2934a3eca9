/**
 * The slice of the dfkit client the migration recipes use, and the bookkeeping around it: every
 * call goes through {@linkcode Io} so that apply can report how many requests it made and so that
 * DreamFactory batch errors are decoded in one place.
 *
 * @module
 */

/** Options of a low-level request (the client's `df.request` contract). */
export interface MigrateRequestOptions {
  /** Query parameters. */
  query?: Record<string, string | number | boolean | undefined>;
  /** JSON body, sent as given. */
  body?: unknown;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborts the call. */
  signal?: AbortSignal;
}

/** What the recipes need from a connected client (`connect()` returns one). */
export interface MigrateClient {
  /** Base URL of the instance (no secret). */
  readonly url: string;
  /** Sends one request relative to `/api/v2` and returns the parsed JSON; throws on errors. */
  /** Sends one request relative to `/api/v2` and returns the parsed JSON; throws on errors. */
  request(method: string, path: string, options?: MigrateRequestOptions): Promise<unknown>;
}

/** A request wrapper that counts reads and writes. */
export class Io {
  requests = 0;
  writes = 0;
  constructor(readonly df: MigrateClient) {}

  /** Sends one request, counting it. */
  async call(method: string, path: string, options?: MigrateRequestOptions): Promise<unknown> {
    this.requests++;
    if (method !== "GET") this.writes++;
    return await this.df.request(method, path, options);
  }

  /** Reads every record of a list endpoint, page by page (`limit` + `offset` + count). */
  async readAll(
    path: string,
    query: Record<string, string | number | boolean | undefined> = {},
    pageSize = 1000,
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for (let offset = 0;; offset += pageSize) {
      const res = await this.call("GET", path, {
        query: { ...query, limit: pageSize, offset, include_count: true },
      });
      const page = records(res);
      out.push(...page);
      const count = (res as { meta?: { count?: number } })?.meta?.count;
      if (page.length < pageSize || (typeof count === "number" && out.length >= count)) break;
    }
    return out;
  }
}

/** The records of a DreamFactory list response (`{resource:[...]}` or a bare array). */
export function records(res: unknown): Record<string, unknown>[] {
  if (Array.isArray(res)) return res as Record<string, unknown>[];
  const r = (res as { resource?: unknown })?.resource;
  return Array.isArray(r) ? r as Record<string, unknown>[] : [];
}

/** The HTTP status carried by an error thrown by the client, if any. */
export function errorStatus(e: unknown): number | undefined {
  const s = (e as { status?: unknown })?.status;
  return typeof s === "number" ? s : undefined;
}

/** A readable one-line message of anything thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Which records of a failed batch request were committed, and why the first failure failed.
 * Understands both the client's `DreamFactoryBatchError` (`succeeded`/`failed`) and DreamFactory's
 * raw envelope context (`context.error` indexes, `context.resource` per-index results).
 */
export function batchOutcome(
  e: unknown,
  size: number,
): {
  succeeded: { index: number; record: Record<string, unknown> }[];
  failedIndex: number;
  message: string;
} {
  const err = e as {
    succeeded?: { index: number; record: Record<string, unknown>; rolledBack?: boolean }[];
    failed?: { index: number; error: unknown }[];
    context?: { error?: number[]; resource?: unknown[] };
    rolledBack?: boolean;
  };
  if (Array.isArray(err?.succeeded) && Array.isArray(err?.failed)) {
    const first = err.failed[0];
    return {
      succeeded: err.succeeded.filter((s) => !s.rolledBack),
      failedIndex: first?.index ?? 0,
      message: first ? errorMessage(first.error) : errorMessage(e),
    };
  }
  const ctx = err?.context;
  if (ctx && Array.isArray(ctx.error) && Array.isArray(ctx.resource)) {
    const failed = new Set(ctx.error);
    const succeeded: { index: number; record: Record<string, unknown> }[] = [];
    ctx.resource.forEach((r, index) => {
      if (!failed.has(index) && r && typeof r === "object") {
        succeeded.push({ index, record: r as Record<string, unknown> });
      }
    });
    const failedIndex = ctx.error[0] ?? 0;
    const entry = ctx.resource[failedIndex] as { message?: string } | undefined;
    return { succeeded, failedIndex, message: entry?.message ?? errorMessage(e) };
  }
  // Not a batch error: a single-record request, or the whole request was refused.
  return { succeeded: [], failedIndex: size > 1 ? -1 : 0, message: errorMessage(e) };
}
