/**
 * `system/limit` (DreamFactory's df-limits add-on): rate limits per instance, user, role,
 * service and endpoint. Validation and the unique `key_text` follow df-limits (after 0.3.0);
 * `period` is written as a number or a name and read back as the name. Enforcement lives in
 * `../limits.ts`.
 *
 * @module
 */
import { DfError, invalidData } from "../http.ts";
import type { SQLInputValue } from "node:sqlite";
import {
  type CallContext,
  type Rec,
  type ResourceDescriptor,
  resourceGuard,
  type Row,
} from "../records.ts";
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

/** A df-limits check of its own: raised before the model, so never wrapped as a model error. */
function bad(message: string): DfError {
  return resourceGuard(new DfError(400, message));
}

/**
 * `$record[key]` as PHP 8 reads it: an absent key is an "Undefined array key" warning, which
 * Laravel turns into an ErrorException (a 500 with that message).
 */
function at(rec: Rec, key: string): unknown {
  if (!(key in rec)) throw resourceGuard(new DfError(500, `Undefined array key "${key}"`));
  return rec[key];
}

/** PHP's filter_var($v, FILTER_VALIDATE_INT): the integer, or null when it is not one. */
function filterInt(v: unknown): number | null {
  if (typeof v === "boolean") return v ? 1 : null;
  if (typeof v === "number") return Number.isInteger(v) ? v : null;
  if (typeof v !== "string") return null;
  const t = v.trim();
  return /^[+-]?(0|[1-9]\d*)$/.test(t) ? Number(t) : null;
}

/**
 * df-limits' Limit::enrichAndValidateRecordData and validateLimitPayload (the version after
 * 0.3.0, as DreamFactory 7 ships it): the period by number or name (array_search: an unknown
 * name is `false`), the rate's integer check, the per-type scope checks with their messages and
 * nulled fields, then `key_text` from Models\Limit::resolveCheckKey. Keys read without isset()
 * fail as PHP does (500 'Undefined array key "..."'); an unknown type passes (the model's `in`
 * rule refuses it later) and its key_text is null.
 */
function enrich(input: Rec, ctx: CallContext): Rec {
  const rec: Rec = { ...input };
  const period = at(rec, "period");
  let periodNo: number | false;
  if (typeof period === "number" && Number.isInteger(period)) periodNo = period;
  else {
    // array_search() compares loosely: a name matches itself, `true` matches the first one.
    const i = LIMIT_PERIODS.findIndex((p) => period === p || period === true);
    periodNo = i < 0 ? false : i;
  }
  const given = (k: string) => rec[k] !== undefined && rec[k] !== null;
  if (given("rate")) {
    // !filter_var($rate, FILTER_VALIDATE_INT): 0 is refused too.
    const n = filterInt(rec.rate);
    if (!n) throw bad("Limit rate must be an integer. Limit not saved.");
    if (typeof rec.rate !== "number") rec.rate = n;
  }
  const type = at(rec, "type");
  const exists = (tableName: string, id: unknown) =>
    id !== null && id !== undefined &&
    !!stmt(ctx.db, `SELECT 1 FROM "${tableName}" WHERE id = ?`).get(
      id as SQLInputValue,
    );
  const nullify = (...keys: string[]) => keys.forEach((k) => (rec[k] = null));
  const needUser = () => {
    if (!given("user_id")) {
      throw bad(`user_id must be specified with this limit type. Limit: ${at(rec, "name")}`);
    }
  };
  const userExists = (message: () => string) => {
    if (!exists("user", rec.user_id) && rec.user_id !== "*") throw bad(message());
  };
  const serviceExists = () => {
    if (!exists("service", at(rec, "service_id"))) {
      throw bad(`No service exists for ${at(rec, "name")} limit.`);
    }
  };
  const needService = () => {
    if (!given("service_id")) throw bad("service_id must be specified with this limit type.");
  };
  const checkVerb = () => {
    if (given("verb") && !VERBS.includes(String(rec.verb).toUpperCase())) {
      throw bad("Verb is invalid or not allowed.");
    }
  };
  // validateEndpoint(&$record['endpoint']): passed by reference, so an absent endpoint becomes
  // null; only slashes are trimmed (its depth and event-map checks are commented out).
  const sanitizeEndpoint = () => {
    const e = rec.endpoint ?? null;
    rec.endpoint = e === null ? null : String(e).replace(/^\/+/, "").replace(/\/+$/, "");
  };
  switch (type) {
    case "instance":
    case "instance.each_user":
      nullify("user_id", "role_id", "service_id", "endpoint");
      break;
    case "instance.user":
      needUser();
      userExists(() => `user_id does not exist for ${at(rec, "name")} limit.`);
      nullify("role_id", "service_id", "endpoint");
      break;
    case "instance.role":
      if (!given("role_id")) {
        throw bad(`role_id must be specified with this limit type. Limit: ${at(rec, "name")}`);
      }
      if (!exists("role", rec.role_id)) {
        throw bad(`No role_id exists for ${at(rec, "name")} limit.`);
      }
      nullify("user_id", "service_id", "endpoint");
      break;
    case "instance.user.service":
      needUser();
      userExists(() => `No user_id exists for ${at(rec, "name")} limit.`);
      serviceExists();
      nullify("role_id", "endpoint");
      break;
    case "instance.service":
    case "instance.each_user.service":
      needService();
      serviceExists();
      nullify("user_id", "role_id", "endpoint");
      break;
    case "instance.service.endpoint":
    case "instance.each_user.service.endpoint":
      // Since 0.3.0 these two take a null endpoint (the service's top level).
      needService();
      serviceExists();
      checkVerb();
      sanitizeEndpoint();
      nullify("user_id", "role_id");
      break;
    case "instance.user.service.endpoint":
      needUser();
      userExists(() => `No user_id exists for ${at(rec, "name")} limit.`);
      serviceExists();
      if (!given("endpoint")) throw bad("endpoint must be specified with this limit type.");
      checkVerb();
      sanitizeEndpoint();
      nullify("role_id");
      break;
  }
  rec.period = periodNo;
  if (!given("verb")) rec.verb = null;
  // resolveCheckKey($record['type'], $record['user_id'], ...): PHP reads every argument first.
  const args = ["user_id", "role_id", "service_id", "endpoint"].map((k) => at(rec, k));
  rec.key_text = null;
  if (String(type) in LIMIT_TYPES) {
    // static::$limitPeriods[$limitPeriod]: false reads index 0, an unknown number fails.
    const index = periodNo === false ? 0 : periodNo;
    if (!(index in LIMIT_PERIODS)) {
      throw resourceGuard(new DfError(500, `Undefined array key ${index}`));
    }
    const num = (v: unknown) => (v === null || v === undefined ? null : Number(v));
    // The verb goes into the key as stored (resolveCheckKey does not upper-case it).
    rec.key_text = limitKey(
      String(type),
      num(args[0]),
      num(args[1]),
      num(args[2]),
      (args[3] as string | null) ?? null,
      rec.verb === null ? null : String(rec.verb),
      index,
    );
  }
  return rec;
}

/**
 * Models\Limit's $rules with the `in` lists its validate() appends: type required|in:<types>,
 * rate required, period required|in:0..4, name required (Laravel's messages, rules' order).
 */
function validateModel(rec: Rec) {
  const context: Record<string, string[]> = {};
  const blank = (v: unknown) =>
    v === undefined || v === null || (typeof v === "string" && !v.trim());
  const check = (field: string, allowed?: string[]) => {
    const v = rec[field];
    if (blank(v)) context[field] = [`The ${field} field is required.`];
    else if (allowed && !allowed.includes(v === false ? "" : String(v))) {
      context[field] = [`The selected ${field} is invalid.`];
    }
  };
  check("type", Object.keys(LIMIT_TYPES));
  check("rate");
  check("period", LIMIT_PERIODS.map((_, i) => String(i)));
  check("name");
  if (Object.keys(context).length) throw invalidData(context);
}

function duplicate(ctx: CallContext, key: unknown, selfId: unknown): boolean {
  // where('key_text', null) matches no row.
  if (key === null || key === undefined) return false;
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
  // No `required` list: Limit::handlePOST/handlePATCH run enrich() first (its 400s and PHP's
  // 500s), then the model's rules (validateModel), which an update wraps like any model error.
  computedRelations: {
    // df-limits strips this name from `related` and attaches the live counters itself.
    limit_cache_by_limit_id: (row, ctx) => limitCacheOf(ctx.db, row),
  },
  present(row: Row, out: Rec) {
    if ("period" in out) out.period = LIMIT_PERIODS[Number(row.period)] ?? row.period;
  },
  validateAll(records, ctx) {
    // Limit::handlePOST enriches and checks every record before any is created: its errors
    // answer the whole request, not a batch entry.
    const keys = new Set<string>();
    for (const r of records) {
      if (!r || typeof r !== "object" || Array.isArray(r)) continue;
      const key = enrich(r, ctx).key_text as string | null;
      if (key !== null && (keys.has(key) || duplicate(ctx, key, null))) throw bad(DUPLICATE);
      if (key !== null) keys.add(key);
    }
  },
  beforeCreate(rec, ctx) {
    const out = enrich(rec, ctx);
    if (duplicate(ctx, out.key_text, null)) throw bad(DUPLICATE);
    validateModel(out);
    return out;
  },
  afterWrite(op, row, _old, ctx) {
    // Counters of a changed or deleted limit start over, as df-limits does.
    if (op !== "create") forgetLimitCounters(ctx.db, Number(row.id));
  },
  beforeUpdate(rec, old, ctx) {
    // handlePATCH: array_merge($model->toArray(), $payload), so every key is there.
    const merged: Rec = { ...old, period: Number(old.period), ...rec };
    const out = enrich(merged, ctx);
    if (duplicate(ctx, out.key_text, old.id)) throw bad(DUPLICATE);
    validateModel(out);
    const { id: _id, ...changes } = out;
    return changes;
  },
};
