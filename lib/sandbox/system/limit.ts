/**
 * `system/limit` (DreamFactory's df-limits add-on): rate limits per instance, user, role,
 * service and endpoint. Validation and the unique `key_text` follow §8.13 of the reference;
 * `period` is written as a number or a name and read back as the name. Enforcement lives in
 * `../limits.ts`.
 *
 * @module
 */
import { DfError } from "../http.ts";
import type { CallContext, Rec, ResourceDescriptor, Row } from "../records.ts";
import { table } from "../tables.ts";
import { forgetLimitCounters, limitCacheOf, limitKey } from "../limits.ts";
import { stmt } from "../statements.ts";

/** Limit types and which scope fields each needs. */
export const LIMIT_TYPES: Record<
  string,
  { user?: boolean; role?: boolean; service?: boolean; endpoint?: boolean }
> = {
  "instance": {},
  "instance.user": { user: true },
  "instance.each_user": {},
  "instance.user.service": { user: true, service: true },
  "instance.each_user.service": { service: true },
  "instance.service": { service: true },
  "instance.service.endpoint": { service: true, endpoint: true },
  "instance.user.service.endpoint": { user: true, service: true, endpoint: true },
  "instance.each_user.service.endpoint": { service: true, endpoint: true },
  "instance.role": { role: true },
};

const VERBS = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Period names by stored number. */
export const LIMIT_PERIODS = ["minute", "hour", "day", "7-day", "30-day"];

function bad(message: string): DfError {
  return new DfError(400, message);
}

function periodOf(v: unknown): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0 && v < LIMIT_PERIODS.length) return v;
  if (typeof v === "string" && LIMIT_PERIODS.includes(v)) return LIMIT_PERIODS.indexOf(v);
  throw bad(
    `Invalid limit period '${v}'. Use a number 0-4 or one of: ${LIMIT_PERIODS.join(", ")}.`,
  );
}

/** Normalises a limit record (create or merged update) and computes its `key_text`. */
function normalise(rec: Rec, ctx: CallContext): Rec {
  const type = String(rec.type ?? "");
  const spec = LIMIT_TYPES[type];
  if (!spec) {
    throw bad(`Invalid limit type '${type}'. Use one of: ${Object.keys(LIMIT_TYPES).join(", ")}.`);
  }
  if (typeof rec.rate !== "number" || !Number.isInteger(rec.rate) || rec.rate <= 0) {
    if (!(typeof rec.rate === "string" && /^[1-9]\d*$/.test(rec.rate))) {
      throw bad("Limit rate must be an integer. Limit not saved.");
    }
    rec.rate = Number(rec.rate);
  }
  rec.period = periodOf(rec.period);
  // df-limits' validateLimitPayload: its checks, messages and nulled scope fields, per type.
  const name = String(rec.name ?? "");
  const missing = (v: unknown) => v === undefined || v === null;
  const exists = (tableName: string, id: unknown) =>
    !!stmt(ctx.db, `SELECT 1 FROM "${tableName}" WHERE id = ?`).get(Number(id));
  if (spec.user) {
    if (missing(rec.user_id)) {
      throw bad(`user_id must be specified with this limit type. Limit: ${name}`);
    }
    if (!exists("user", rec.user_id)) {
      throw bad(
        type === "instance.user"
          ? `user_id does not exist for ${name} limit.`
          : `No user_id exists for ${name} limit.`,
      );
    }
  } else rec.user_id = null;
  if (spec.role) {
    if (missing(rec.role_id)) {
      throw bad(`role_id must be specified with this limit type. Limit: ${name}`);
    }
    if (!exists("role", rec.role_id)) throw bad(`No role_id exists for ${name} limit.`);
  } else rec.role_id = null;
  if (spec.service) {
    if (missing(rec.service_id) && !spec.user) {
      throw bad("service_id must be specified with this limit type.");
    }
    if (!exists("service", rec.service_id)) throw bad(`No service exists for ${name} limit.`);
  } else rec.service_id = null;
  if (spec.endpoint) {
    // validateLimitPayload: every endpoint type needs an endpoint and checks the verb, then
    // validateEndpoint sanitises it and refuses more than two segments.
    if (missing(rec.endpoint)) throw bad("endpoint must be specified with this limit type.");
    if (!missing(rec.verb) && !VERBS.includes(String(rec.verb).toUpperCase())) {
      throw bad("Verb is invalid or not allowed.");
    }
    rec.endpoint = String(rec.endpoint).replace(/^\/+/, "").replace(/\/+$/, "");
    if (String(rec.endpoint).split("/").length > 2) {
      throw bad(
        "Endpoint cannot have extra depth. ie, _schema/contact NOT _schema/contact/name",
      );
    }
  } else rec.endpoint = null;
  // Other types store the verb as sent, unchecked (an absent one is null).
  if (missing(rec.verb)) rec.verb = null;
  // The same key df-limits' resolveCheckKey builds (and the enforcement in ../limits.ts uses).
  const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
  rec.key_text = limitKey(
    type,
    num(rec.user_id),
    num(rec.role_id),
    num(rec.service_id),
    (rec.endpoint as string | null) ?? null,
    rec.verb === null || rec.verb === "" ? null : String(rec.verb).toUpperCase(),
    Number(rec.period),
  );
  return rec;
}

function duplicate(ctx: CallContext, key: unknown, selfId: unknown): boolean {
  return !!stmt(ctx.db, `SELECT id FROM limits WHERE key_text = ? AND id IS NOT ?`).get(
    String(key),
    (selfId ?? null) as number | null,
  );
}

const DUPLICATE = "A limit already exists with those parameters. No records added.";

/** The descriptor of `system/limit`. */
export const limitDescriptor: ResourceDescriptor = {
  name: "limit",
  table: table("limits"),
  readOnly: ["key_text"],
  required: ["name", "type", "rate", "period"],
  // df-limits raises these checks itself (its own messages); not df-core's model wrapping.
  wrapModelErrors: "none",
  computedRelations: {
    // df-limits strips this name from `related` and attaches the live counters itself.
    limit_cache_by_limit_id: (row, ctx) => limitCacheOf(ctx.db, row),
  },
  present(row: Row, out: Rec) {
    if ("period" in out) out.period = LIMIT_PERIODS[Number(row.period)] ?? row.period;
  },
  validateAll(records, ctx) {
    const keys = new Set<string>();
    for (const r of records) {
      if (!r || typeof r !== "object" || r.type === undefined) continue;
      try {
        const key = String(normalise({ ...r }, ctx).key_text);
        if (keys.has(key) || duplicate(ctx, key, null)) throw bad(DUPLICATE);
        keys.add(key);
      } catch (e) {
        if (e instanceof DfError && e.message === DUPLICATE) throw e;
        // other problems are reported per record by the batch
      }
    }
  },
  beforeCreate(rec, ctx) {
    const out = normalise(rec, ctx);
    if (duplicate(ctx, out.key_text, null)) throw bad(DUPLICATE);
    return out;
  },
  afterWrite(op, row, _old, ctx) {
    // Counters of a changed or deleted limit start over, as df-limits does.
    if (op !== "create") forgetLimitCounters(ctx.db, Number(row.id));
  },
  beforeUpdate(rec, old, ctx) {
    const merged: Rec = {
      type: old.type,
      rate: old.rate,
      period: Number(old.period),
      user_id: old.user_id,
      role_id: old.role_id,
      service_id: old.service_id,
      endpoint: old.endpoint,
      verb: old.verb,
      ...rec,
    };
    const out = normalise(merged, ctx);
    if (duplicate(ctx, out.key_text, old.id)) throw bad(DUPLICATE);
    return { ...rec, ...out };
  },
};
