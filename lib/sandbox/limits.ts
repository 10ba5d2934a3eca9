/**
 * Enforcement of `system/limit` rows (DreamFactory's df-limits add-on): counting calls per
 * key/user/role/service in the limit's period and refusing with 429 when exceeded. The core
 * router calls `checkLimits` after the role check for every non-admin request.
 *
 * Counting follows df-limits' `EvaluateLimits` middleware and its Laravel rate limiter:
 * - every active limit builds a "check key" from its own row and a "derived key" from the
 *   request (`instance.role:7.day`, `instance.user:3.service:2.endpoint:_table/*.verb:GET.hour`);
 *   the limit applies when the two are equal;
 * - an applying limit counts the call (a window of the period opens at the first counted call);
 *   once `rate` calls are counted, the next call sets a lock-out lasting one whole period from that
 *   moment and resets the counter; calls during the lock-out are refused and not counted;
 * - `each_user` limits only apply to calls with a session token (a logged-in user), and a
 *   user-specific limit of the same level overrides them; a verb-specific limit overrides the
 *   verb-less limit of the same scope and period for its verb;
 * - refused calls get `429 "API limit(s) exceeded. "` with the limits in `context` and the
 *   `X-RateLimit-*` / `Retry-After` headers (see {@linkcode LimitExceededError}).
 *
 * Counters live in the sandbox's own SQLite file (table `dfkit_limit_counter`), so they survive a
 * restart with `data:` like the rest of the sandbox, keyed by limit id and key: deleting a limit
 * forgets its counters, as df-limits' `ClearLimitAfterDelete` does.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { batchError, DfError, errorResponse, json, NO_RECORDS_MESSAGE, toBool } from "./http.ts";
import type { SessionInfo } from "./types.ts";
import { unhandledVerb } from "./verbs.ts";

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

/** Period names in DreamFactory's stored order (`period` 0..4). */
export const LIMIT_PERIODS = ["minute", "hour", "day", "7-day", "30-day"] as const;

/** A limit period name. */
export type LimitPeriod = typeof LIMIT_PERIODS[number];

/** Length of each period in minutes (df-limits `$limitIntervals`), index-aligned with the names. */
const PERIOD_MINUTES = [1, 60, 1440, 10080, 43200];

/** Limit types whose counter is kept per logged-in user (df-limits `$eachUserTypes`). */
const EACH_USER_TYPES = new Set([
  "instance.each_user",
  "instance.each_user.service",
  "instance.each_user.service.endpoint",
]);

/**
 * The 429 DreamFactory answers when a limit is exceeded. `headers` are the rate-limit headers the
 * router must add to the response (`DfError` itself carries none).
 */
export class LimitExceededError extends DfError {
  /** `X-RateLimit-Limit`, `X-RateLimit-Remaining`, `Retry-After`, `X-RateLimit-Reset`. */
  readonly headers: Record<string, string>;

  /** Builds the error from the exceeded limits (`[{id, name, object}]`) and the headers. */
  constructor(context: unknown[], headers: Record<string, string>) {
    super(429, "API limit(s) exceeded. ", { context });
    this.name = "LimitExceededError";
    this.headers = headers;
  }

  /** The complete response: DreamFactory's envelope plus the rate-limit headers. */
  toResponse(): Response {
    return json(this.toBody(), this.status, this.headers);
  }
}

/** A `limits` row as this evaluator needs it (read tolerant of how the row stores values). */
interface LimitRow {
  id: number;
  type: string;
  rate: number;
  period: number;
  user_id: number | null;
  role_id: number | null;
  service_id: number | null;
  endpoint: string | null;
  verb: string | null;
  name: string;
  is_active: boolean;
  raw: Record<string, unknown>;
}

/** A counter row: `attempts` in the window ending at `expires_at`; lock-out until `lockout_until`. */
interface CounterRow {
  attempts: number;
  expires_at: number;
  lockout_until: number | null;
}

interface Statements {
  limits: StatementSync;
  limitById: StatementSync;
  serviceId: StatementSync;
  activeUsers: StatementSync;
  getCounter: StatementSync;
  putCounter: StatementSync;
  forgetLimit: StatementSync;
  forgetAll: StatementSync;
  prune: StatementSync;
}

const statements = new WeakMap<DatabaseSync, Statements>();

/** Prepared statements per database handle; the counter table is created on first use. */
function prepared(db: DatabaseSync): Statements {
  let s = statements.get(db);
  if (s) return s;
  db.exec(`CREATE TABLE IF NOT EXISTS dfkit_limit_counter (
    limit_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL DEFAULT 0,
    lockout_until INTEGER,
    PRIMARY KEY (limit_id, key)
  )`);
  s = {
    limits: db.prepare(`SELECT * FROM "limits" ORDER BY id`),
    limitById: db.prepare(`SELECT * FROM "limits" WHERE id = ?`),
    serviceId: db.prepare(`SELECT id FROM "service" WHERE lower(name) = lower(?)`),
    activeUsers: db.prepare(
      `SELECT id FROM "user" WHERE is_active = 1 AND is_sys_admin = 0 ORDER BY id`,
    ),
    getCounter: db.prepare(
      "SELECT attempts, expires_at, lockout_until FROM dfkit_limit_counter WHERE limit_id = ? AND key = ?",
    ),
    putCounter: db.prepare(
      `INSERT INTO dfkit_limit_counter (limit_id, key, attempts, expires_at, lockout_until)
       VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (limit_id, key) DO UPDATE SET attempts = excluded.attempts,
         expires_at = excluded.expires_at, lockout_until = excluded.lockout_until`,
    ),
    forgetLimit: db.prepare("DELETE FROM dfkit_limit_counter WHERE limit_id = ?"),
    forgetAll: db.prepare("DELETE FROM dfkit_limit_counter"),
    prune: db.prepare(
      `DELETE FROM dfkit_limit_counter WHERE (expires_at <= ?1 AND
         (lockout_until IS NULL OR lockout_until <= ?1)) OR limit_id NOT IN (SELECT id FROM "limits")`,
    ),
  };
  statements.set(db, s);
  return s;
}

/** Reads a period stored as its index or its name; unknown values fall back to "minute". */
function periodIndex(v: unknown): number {
  if (typeof v === "number" && v >= 0 && v < LIMIT_PERIODS.length) return v;
  if (typeof v === "bigint") return periodIndex(Number(v));
  const byName = LIMIT_PERIODS.indexOf(String(v) as LimitPeriod);
  if (byName >= 0) return byName;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 && n < LIMIT_PERIODS.length ? n : 0;
}

function intOrNull(v: unknown): number | null {
  if (v === null || v === undefined || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function strOrNull(v: unknown): string | null {
  return v === null || v === undefined || v === "" ? null : String(v);
}

function toLimitRow(raw: Record<string, unknown>): LimitRow {
  return {
    id: Number(raw.id),
    type: String(raw.type ?? ""),
    rate: Number(raw.rate ?? 0),
    period: periodIndex(raw.period),
    user_id: intOrNull(raw.user_id),
    role_id: intOrNull(raw.role_id),
    service_id: intOrNull(raw.service_id),
    endpoint: strOrNull(raw.endpoint),
    verb: strOrNull(raw.verb)?.toUpperCase() ?? null,
    name: String(raw.name ?? ""),
    is_active: toBool(raw.is_active ?? true),
    raw,
  };
}

/** The limit as `GET /system/limit` shows it (period as its name, booleans and ids cast). */
function limitView(limit: LimitRow): Record<string, unknown> {
  return {
    ...limit.raw,
    id: limit.id,
    rate: limit.rate,
    period: LIMIT_PERIODS[limit.period],
    user_id: limit.user_id,
    role_id: limit.role_id,
    service_id: limit.service_id,
    is_active: limit.is_active,
  };
}

/** df-limits `Limit::resolveCheckKey`: the cache key of a limit type for the given scope. */
export function limitKey(
  type: string,
  userId: number | null,
  roleId: number | null,
  serviceId: number | null,
  endpoint: string | null,
  verb: string | null,
  period: number,
): string | null {
  const s = (v: unknown) => (v === null || v === undefined ? "" : String(v));
  let key: string;
  switch (type) {
    case "instance":
      key = "instance";
      break;
    case "instance.user":
      key = `instance.user:${s(userId)}`;
      break;
    case "instance.each_user":
      key = `instance.each_user:${s(userId)}`;
      break;
    case "instance.role":
      key = `instance.role:${s(roleId)}`;
      break;
    case "instance.user.service":
      key = `instance.user:${s(userId)}.service:${s(serviceId)}`;
      break;
    case "instance.each_user.service":
      key = `instance.each_user:${s(userId)}.service:${s(serviceId)}`;
      break;
    case "instance.service":
      key = `instance.service:${s(serviceId)}`;
      break;
    case "instance.service.endpoint":
      key = `instance.service:${s(serviceId)}.endpoint:${s(endpoint)}`;
      break;
    case "instance.user.service.endpoint":
      key = `instance.user:${s(userId)}.service:${s(serviceId)}.endpoint:${s(endpoint)}`;
      break;
    case "instance.each_user.service.endpoint":
      key = `instance.each_user:${s(userId)}.service:${s(serviceId)}.endpoint:${s(endpoint)}`;
      break;
    default:
      return null;
  }
  if (verb !== null) key += `.verb:${verb}`;
  return `${key}.${LIMIT_PERIODS[period] ?? "minute"}`;
}

/**
 * The resource a limit's endpoint stands for in this request: the endpoint itself when the
 * request's resource matches it (literally, or up to the endpoint's last `*`), else the resource.
 */
function derivedResource(endpoint: string | null, resource: string): string {
  if (!endpoint || !resource) return resource;
  const star = endpoint.lastIndexOf("*");
  // PHP's `if ($pos = strrpos(...))` treats a star at position 0 as "no star".
  if (star > 0) return resource.slice(0, star) === endpoint.slice(0, star) ? endpoint : resource;
  return endpoint === resource ? endpoint : resource;
}

/** The live state of a counter at `now` (expired windows and lock-outs read as absent). */
function liveCounter(s: Statements, limitId: number, key: string, now: number): CounterRow {
  const row = s.getCounter.get(limitId, key) as CounterRow | undefined;
  if (!row) return { attempts: 0, expires_at: 0, lockout_until: null };
  const attempts = row.expires_at > now ? Number(row.attempts) : 0;
  const lockout = row.lockout_until !== null && row.lockout_until > now ? row.lockout_until : null;
  return { attempts, expires_at: attempts > 0 ? row.expires_at : 0, lockout_until: lockout };
}

let callsSincePrune = 0;

/**
 * Counts the call against every active limit that applies to it; returns the 429 error to send
 * when one is exceeded, or null. Sys-admins are never limited (the caller does not call this).
 * The returned error is a {@linkcode LimitExceededError}: send `err.toResponse()` (or add
 * `err.headers` to the envelope response) so the client sees the rate-limit headers.
 */
export function checkLimits(db: DatabaseSync, call: LimitCall): DfError | null {
  if (call.session.isSysAdmin) return null;
  const s = prepared(db);
  const limits = (s.limits.all() as Record<string, unknown>[]).map(toLimitRow).filter((l) =>
    l.is_active
  );
  if (limits.length === 0) return null;

  const { userId, roleId } = call.session;
  const hasToken = userId !== null;
  const method = call.method.toUpperCase();
  const serviceRow = s.serviceId.get(call.service) as { id: number } | undefined;
  const serviceId = serviceRow ? Number(serviceRow.id) : null;
  const now = call.now;

  // A specific user's limit overrides "each user" limits of the same level for that user.
  const overrides = {
    user: new Set<number>(),
    service: new Set<number>(),
    endpoint: new Set<number>(),
  };
  const verbLimits: LimitRow[] = [];
  for (const l of limits) {
    if (l.user_id !== null) {
      if (l.type === "instance.user") overrides.user.add(l.user_id);
      if (l.type === "instance.user.service") overrides.service.add(l.user_id);
      if (l.type === "instance.user.service.endpoint") overrides.endpoint.add(l.user_id);
    }
    if (l.verb !== null) verbLimits.push(l);
  }

  const exceeded: { limit: LimitRow; lockoutUntil: number }[] = [];
  db.exec("SAVEPOINT dfkit_limits");
  try {
    for (const l of limits) {
      const isEachUser = EACH_USER_TYPES.has(l.type);
      const dbUser = l.user_id === null && isEachUser && userId !== null ? userId : l.user_id;
      const requestVerb = l.verb !== null ? method : null;
      const resource = derivedResource(l.endpoint, call.resource);
      const checkKey = limitKey(
        l.type,
        dbUser,
        l.role_id,
        l.service_id,
        l.endpoint,
        l.verb,
        l.period,
      );
      const derivedKey = limitKey(
        l.type,
        userId,
        roleId,
        serviceId,
        resource,
        requestVerb,
        l.period,
      );
      if (checkKey === null || checkKey !== derivedKey) continue;
      if (isEachUser && !hasToken) continue;

      const overriddenByVerb = verbLimits.some((v) =>
        v.id !== l.id && v.verb === method &&
        limitKey(v.type, userId, roleId, serviceId, resource, requestVerb, v.period) === checkKey
      );

      const decayMs = PERIOD_MINUTES[l.period] * 60_000;
      const counter = liveCounter(s, l.id, checkKey, now);
      let tooMany = counter.lockout_until !== null;
      if (!tooMany && counter.attempts >= l.rate) {
        // Laravel's limiter: lock out for a whole period from now and forget the counter.
        counter.lockout_until = now + decayMs;
        s.putCounter.run(l.id, checkKey, 0, 0, counter.lockout_until);
        tooMany = true;
      }
      if (tooMany) {
        const skip = (l.type === "instance.each_user" && overrides.user.has(userId!)) ||
          (l.type === "instance.each_user.service" && overrides.service.has(userId!)) ||
          (l.type === "instance.each_user.service.endpoint" && overrides.endpoint.has(userId!)) ||
          overriddenByVerb;
        if (!skip) exceeded.push({ limit: l, lockoutUntil: counter.lockout_until! });
        continue;
      }
      const attempts = counter.attempts + 1;
      const expires = counter.attempts > 0 ? counter.expires_at : now + decayMs;
      s.putCounter.run(l.id, checkKey, attempts, expires, null);
    }
    if (++callsSincePrune >= 500) {
      callsSincePrune = 0;
      s.prune.run(now);
    }
    db.exec("RELEASE dfkit_limits");
  } catch (e) {
    db.exec("ROLLBACK TO dfkit_limits");
    db.exec("RELEASE dfkit_limits");
    throw e;
  }

  if (exceeded.length === 0) return null;
  // df-limits reports the headers of whichever limit its loop saw last (not necessarily an
  // exceeded one); the first exceeded limit is what a caller can act on.
  const first = exceeded[0];
  const retryAfter = Math.max(0, Math.ceil((first.lockoutUntil - now) / 1000));
  return new LimitExceededError(
    exceeded.map(({ limit }) => ({ id: limit.id, name: limit.name, object: limitView(limit) })),
    {
      "X-RateLimit-Limit": String(first.limit.rate),
      "X-RateLimit-Remaining": "0",
      "Retry-After": String(retryAfter),
      "X-RateLimit-Reset": String(Math.floor(now / 1000) + retryAfter),
    },
  );
}

/** One `limit_cache` entry: a limit's counter for one key. */
/** One live counter of a limit, as `system/limit_cache` lists it. */
export interface CacheEntry {
  id: number;
  key: string;
  max: number;
  attempts: number;
  remaining: number;
}

/** The counter keys a limit has: one per active non-admin user for "each user" types. */
function limitKeys(s: Statements, limit: LimitRow): string[] {
  const keyFor = (user: number | null) =>
    limitKey(
      limit.type,
      user,
      limit.role_id,
      limit.service_id,
      limit.endpoint,
      limit.verb,
      limit.period,
    );
  if (EACH_USER_TYPES.has(limit.type)) {
    const users = s.activeUsers.all() as { id: number }[];
    return users.map((u) => keyFor(Number(u.id))).filter((k): k is string => k !== null);
  }
  const key = keyFor(limit.user_id);
  return key === null ? [] : [key];
}

function cacheEntries(s: Statements, limit: LimitRow, now: number): CacheEntry[] {
  return limitKeys(s, limit).map((key) => {
    const c = liveCounter(s, limit.id, key, now);
    const locked = c.lockout_until !== null;
    const attempts = c.attempts > 0 ? c.attempts : locked ? limit.rate : 0;
    const remaining = locked || c.attempts > limit.rate
      ? 0
      : c.attempts === 0
      ? limit.rate
      : limit.rate - c.attempts;
    return { id: limit.id, key, max: limit.rate, attempts, remaining };
  });
}

function notFound(id: string): DfError {
  return new DfError(404, `Record with identifier '${id}' not found.`);
}

function findLimit(s: Statements, id: string): LimitRow {
  const raw = s.limitById.get(id) as Record<string, unknown> | undefined;
  if (!raw) throw notFound(id);
  return toLimitRow(raw);
}

/** Applies `one` to each listed id; a failure makes DreamFactory's batch error (`continue` aware). */
function eachId<T>(
  ids: string[],
  query: URLSearchParams,
  verb: "retrieved" | "deleted",
  one: (id: string) => T[],
): T[] {
  const keepGoing = toBool(query.get("continue") ?? "");
  const out: unknown[] = [];
  const failed: number[] = [];
  for (const [i, id] of ids.entries()) {
    try {
      out.push(...one(id));
    } catch (e) {
      if (!(e instanceof DfError)) throw e;
      failed.push(i);
      out.push(e.toBatchEntry());
      if (!keepGoing) break;
    }
  }
  if (failed.length > 0) throw batchError(verb, failed, out);
  return out as T[];
}

/**
 * `GET /api/v2/system/limit_cache` (live counters `[{id, key, max, attempts, remaining}]`) and
 * `DELETE /api/v2/system/limit_cache[/{id}]` (reset). The core router sends `system/limit_cache`
 * requests here; `id` is the path segment after `limit_cache`, if any.
 */
export function limitCacheResource(
  db: DatabaseSync,
  method: string,
  id: string | undefined,
  query: URLSearchParams,
): Response {
  try {
    const s = prepared(db);
    const now = Date.now();
    const ids = (query.get("ids") ?? "").split(",").map((v) => v.trim()).filter((v) => v !== "");
    switch (method.toUpperCase()) {
      case "GET": {
        if (id) return json(cacheEntries(s, findLimit(s, id), now)[0] ?? null);
        const list = ids.length > 0
          ? eachId(ids, query, "retrieved", (one) => cacheEntries(s, findLimit(s, one), now))
          : (s.limits.all() as Record<string, unknown>[]).flatMap((raw) =>
            cacheEntries(s, toLimitRow(raw), now)
          );
        return json({ resource: list });
      }
      case "DELETE": {
        if (toBool(query.get("allow_delete") ?? "") || toBool(query.get("force") ?? "")) {
          s.forgetAll.run();
          return json({ success: true });
        }
        const clear = (one: string) => {
          const limit = findLimit(s, one);
          s.forgetLimit.run(limit.id);
          return [{ id: limit.id }];
        };
        if (id) return json(clear(id)[0]);
        if (ids.length > 0) return json({ resource: eachId(ids, query, "deleted", clear) });
        throw new DfError(400, NO_RECORDS_MESSAGE);
      }
    }
    throw unhandledVerb(method);
  } catch (e) {
    return errorResponse(e);
  }
}

/**
 * The live counters of one limit (`[{id, key, max, attempts, remaining}]`, as
 * `GET system/limit_cache` lists them), for `system/limit?related=limit_cache_by_limit_id`.
 */
export function limitCacheOf(db: DatabaseSync, limitRow: Record<string, unknown>): CacheEntry[] {
  return cacheEntries(prepared(db), toLimitRow(limitRow), Date.now());
}

/**
 * Forgets every counter of a limit, as df-limits does when a limit is deleted. The `system/limit`
 * resource may call this on delete or update; counters of deleted limits are also pruned lazily.
 */
export function forgetLimitCounters(db: DatabaseSync, limitId: number): void {
  prepared(db).forgetLimit.run(limitId);
}
