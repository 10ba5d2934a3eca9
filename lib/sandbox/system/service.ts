/**
 * `system/service`: services with their type-specific `config` (stored as JSON, shown only for
 * full reads). Creating, changing or deleting a service tells the sandbox to (re)build or close
 * its handler.
 *
 * @module
 */
import { MASK } from "../../secrets.ts";
import { DfError, invalidData, phpEmpty } from "../http.ts";
import type { CallContext, Rec, ResourceDescriptor, Row } from "../records.ts";
import { table } from "../tables.ts";
import { databasePath } from "../db/mod.ts";
import { SERVICE_TYPES } from "./service_type.ts";

/** The config of a service as DreamFactory shows it, by type. */
export function configView(row: Row): Rec | unknown[] {
  let stored: Rec = {};
  try {
    stored = JSON.parse(String(row.config ?? "{}")) ?? {};
  } catch { /* keep empty */ }
  if (row.type === "sqlite") {
    return {
      service_id: Number(row.id),
      options: stored.options ?? null,
      attributes: stored.attributes ?? null,
      statements: stored.statements ?? null,
      database: stored.database ?? null,
      cache_enabled: !!stored.cache_enabled,
      cache_ttl: Number(stored.cache_ttl ?? 0),
      allow_upsert: !!stored.allow_upsert,
      max_records: stored.max_records ? Number(stored.max_records) : false,
    };
  }
  // Service::getConfigAttribute without a config handler (a type ServiceManager does not know):
  // the stored JSON decoded as a PHP array, so nothing at all is an empty list.
  if (!SERVICE_TYPES.some((t) => t.name === row.type) && !Object.keys(stored).length) return [];
  return stored;
}

function checkConfig(type: string, config: unknown): Rec {
  const c = config && typeof config === "object" && !Array.isArray(config)
    ? { ...config as Rec }
    : {};
  if (type === "sqlite") {
    if (typeof c.database !== "string" || c.database.trim() === "") {
      throw new DfError(
        400,
        "Database connection information must contain at least host and database name.",
      );
    }
    // The same file-name rules the database service applies when it opens the file.
    databasePath({ id: 0, name: "service", type, is_active: true, config: c }, "/");
  }
  return c;
}

/**
 * Service::$rules: `name` => `regex:...` only. Like any non-implicit Laravel rule it is skipped
 * when the attribute is absent, and fails for a value that is neither a string nor a number.
 */
function checkName(rec: Rec) {
  if (!("name" in rec)) return;
  const name = rec.name;
  const text = typeof name === "string" || typeof name === "number" ? String(name) : null;
  if (text === null || !/^[A-Za-z0-9_-]+$/.test(text)) {
    throw invalidData({
      name: ["Service name should only contain letters, numbers, underscores and dashes."],
    });
  }
}

/**
 * Service::setConfigAttribute: a type with a config handler validates and stores `config`; a
 * type ServiceManager does not know has no handler, so its config is dropped (undefined), not
 * refused. Types the catalogue knows but the sandbox does not serve are refused (a sandbox
 * limit, not DreamFactory's).
 */
function typeConfig(type: unknown, config: unknown, newType = true): Rec | undefined {
  const known = SERVICE_TYPES.find((t) => t.name === type);
  if (!known) return undefined;
  if (!known.supported && newType) {
    throw new DfError(
      400,
      `Service type '${known.name}' can not be created in the dfkit sandbox (only sqlite).`,
    );
  }
  return checkConfig(known.name, config);
}

/** The descriptor of `system/service`. */
export const serviceDescriptor: ResourceDescriptor = {
  name: "service",
  table: table("service"),
  readOnly: ["mutable", "deletable"],
  // No `required` rule: Service::$rules has only the name regex, so a missing name or type
  // fails on the table's NOT NULL columns (an SQL error), and any type name is accepted.
  // Service::cleanFields: asking for `config` adds `id` and `type` (reading it needs them) and
  // takes that (first) `config` out of the list, so the query does not load it.
  cleanFields(fields) {
    const at = fields.indexOf("config");
    return at < 0 ? fields : [...fields.slice(0, at), ...fields.slice(at + 1), "id", "type"];
  },
  // The config reads back when the query loaded its column (`*`) and Service::cleanResult keeps
  // it: the list starts with `*` or names both `id` and `type`.
  present(row, out, _ctx, sel) {
    const f = sel.fields;
    if (sel.loads("config") && (f[0] === "*" || (f.includes("id") && f.includes("type")))) {
      out.config = configView(row);
    }
  },
  beforeCreate(rec: Rec, ctx: CallContext) {
    checkName(rec);
    const config = typeConfig(rec.type, rec.config);
    if (config === undefined) delete rec.config;
    else rec.config = config;
    // Service::create: an empty() label ("", "0", null, absent...) is the name.
    const label = rec.label;
    if (phpEmpty(label)) {
      rec.label = rec.name;
    }
    if (typeof rec.label === "string") rec.label = rec.label.replace(/<[^>]*>/g, "");
    if (typeof rec.description === "string") {
      rec.description = rec.description.replace(/<[^>]*>/g, "");
    }
    void ctx;
    return rec;
  },
  beforeUpdate(rec: Rec, old: Row) {
    checkName(rec);
    // `mutable` and `deletable` are flags only: neither df-system's Service resource nor
    // df-core's Service model (boot hooks, update/delete) checks them.
    // The model has no rule against changing the type; the config follows the new one.
    const type = "type" in rec ? rec.type : old.type;
    if ("config" in rec || type !== old.type) {
      const before = JSON.parse(String(old.config ?? "{}"));
      const next = typeConfig(
        type,
        { ...before, ...(rec.config as Rec ?? {}) },
        type !== old.type,
      );
      if (next === undefined) delete rec.config;
      else {
        for (const [k, v] of Object.entries(next)) if (v === MASK) next[k] = before[k];
        rec.config = next;
      }
    }
    return rec;
  },
  afterWrite(_op, row, _old, ctx) {
    ctx.hooks.serviceChanged(Number(row.id));
  },
};
