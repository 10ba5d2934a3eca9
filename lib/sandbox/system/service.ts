/**
 * `system/service`: services with their type-specific `config` (stored as JSON, shown only for
 * full reads). Creating, changing or deleting a service tells the sandbox to (re)build or close
 * its handler.
 *
 * @module
 */
import { DfError } from "../http.ts";
import {
  type CallContext,
  type Rec,
  type ResourceDescriptor,
  resourceGuard,
  type Row,
} from "../records.ts";
import { table } from "../tables.ts";
import { databasePath } from "../db/mod.ts";
import { SERVICE_TYPES } from "./service_type.ts";

function validation(field: string, message: string): DfError {
  return new DfError(400, `Invalid data supplied. ${message}`, { context: { [field]: [message] } });
}

/** The config of a service as DreamFactory shows it, by type. */
export function configView(row: Row): Rec {
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

function checkName(name: unknown) {
  if (typeof name !== "string" || !/^[A-Za-z0-9_-]+$/.test(name)) {
    throw validation(
      "name",
      "Service name should only contain letters, numbers, underscores and dashes.",
    );
  }
}

/** The descriptor of `system/service`. */
export const serviceDescriptor: ResourceDescriptor = {
  name: "service",
  table: table("service"),
  readOnly: ["mutable", "deletable"],
  required: ["name", "type"],
  present(row, out, _ctx, all) {
    if (all) out.config = configView(row);
  },
  beforeCreate(rec: Rec, ctx: CallContext) {
    checkName(rec.name);
    const type = SERVICE_TYPES.find((t) => t.name === rec.type);
    if (!type) throw validation("type", `Service type '${rec.type}' not found.`);
    if (!type.supported) {
      throw new DfError(
        400,
        `Service type '${type.name}' can not be created in the dfkit sandbox (only sqlite).`,
      );
    }
    rec.config = checkConfig(type.name, rec.config);
    // Service::create: an empty() label ("", "0", null, absent...) is the name.
    const label = rec.label;
    if (
      label === undefined || label === null || label === "" || label === "0" || label === 0 ||
      label === false
    ) {
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
    if ("name" in rec) checkName(rec.name);
    if ("type" in rec && rec.type !== old.type) {
      throw validation("type", "The type of a service can not be changed.");
    }
    if (!old.mutable && Object.keys(rec).some((k) => k !== "is_active")) {
      // The sandbox's own guard for its built-in services, not a model error.
      throw resourceGuard(new DfError(403, `Service '${old.name}' can not be modified.`));
    }
    if ("config" in rec) {
      const before = JSON.parse(String(old.config ?? "{}"));
      const next = checkConfig(String(old.type), { ...before, ...(rec.config as Rec ?? {}) });
      for (const [k, v] of Object.entries(next)) if (v === "**********") next[k] = before[k];
      rec.config = next;
    }
    return rec;
  },
  beforeDelete(old: Row) {
    if (!old.deletable) {
      throw resourceGuard(new DfError(403, `Service '${old.name}' can not be deleted.`));
    }
  },
  afterWrite(_op, row, _old, ctx) {
    ctx.hooks.serviceChanged(Number(row.id));
  },
};
