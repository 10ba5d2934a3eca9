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
import { forgetLimitCounters } from "../limits.ts";
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
  const need = (field: string, tableName: string, label: string) => {
    const id = rec[field];
    if (id === undefined || id === null || id === "") {
      throw bad(`A ${label} must be specified (${field}) for limit type '${type}'.`);
    }
    if (!stmt(ctx.db, `SELECT 1 FROM "${tableName}" WHERE id = ?`).get(Number(id))) {
      throw bad(`The ${label} with id ${id} does not exist.`);
    }
  };
  if (spec.user) need("user_id", "user", "user");
  else rec.user_id = null;
  if (spec.role) need("role_id", "role", "role");
  else rec.role_id = null;
  if (spec.service) need("service_id", "service", "service");
  else rec.service_id = null;
  if (spec.endpoint) {
    if (typeof rec.endpoint !== "string" || rec.endpoint.trim() === "") {
      throw bad(`An endpoint must be specified for limit type '${type}'.`);
    }
  } else rec.endpoint = null;
  if (rec.verb !== undefined && rec.verb !== null && rec.verb !== "") {
    const verb = String(rec.verb).toUpperCase();
    if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(verb)) {
      throw bad(`Invalid verb '${rec.verb}'. Use GET, POST, PUT, PATCH or DELETE.`);
    }
    rec.verb = verb;
  } else rec.verb = null;
  let key = "instance";
  if (type.includes(".each_user")) key += ".each_user";
  else if (spec.user) key += `.user:${rec.user_id}`;
  if (spec.role) key += `.role:${rec.role_id}`;
  if (spec.service) key += `.service:${rec.service_id}`;
  if (spec.endpoint) key += `.endpoint:${rec.endpoint}`;
  if (rec.verb) key += `.verb:${rec.verb}`;
  rec.key_text = `${key}.${LIMIT_PERIODS[Number(rec.period)]}`;
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
