/**
 * `system/service_type`: the catalogue of service types the sandbox knows, read-only. Only
 * `sqlite` can be created; the others exist so that listings look like DreamFactory's.
 *
 * @module
 */
import { DfError, json, wrap } from "../http.ts";
import type { CallContext, Rec } from "../records.ts";

const SQL_SCHEMA = [
  {
    name: "database",
    label: "Database",
    type: "string",
    required: true,
    description: "The name of the database file.",
  },
  { name: "options", label: "Driver Options", type: "object", description: "PDO driver options." },
  {
    name: "attributes",
    label: "Driver Attributes",
    type: "object",
    description: "PDO attributes.",
  },
  {
    name: "statements",
    label: "Additional SQL Statements",
    type: "array",
    description: "SQL run after connecting.",
  },
  {
    name: "max_records",
    label: "Maximum Records",
    type: "integer",
    description: "Records returned per request at most.",
  },
  {
    name: "allow_upsert",
    label: "Allow Upsert",
    type: "boolean",
    default: false,
    description: "Insert on update of a missing id.",
  },
  {
    name: "cache_enabled",
    label: "Data Retrieval Caching Enabled",
    type: "boolean",
    default: false,
  },
  { name: "cache_ttl", label: "Cache Time To Live (minutes)", type: "integer", default: 0 },
];

/** Every service type: name, label, group, description, singleton, creatable by the sandbox. */
export const SERVICE_TYPES: {
  name: string;
  label: string;
  group: string;
  description: string;
  singleton: boolean;
  supported: boolean;
  config_schema: Rec[] | null;
}[] = [
  {
    name: "alloydb",
    label: "AlloyDB",
    group: "Database",
    description: "Database service supporting AlloyDB connections.",
    singleton: false,
    supported: false,
    config_schema: SQL_SCHEMA,
  },
  {
    name: "pgsql",
    label: "PostgreSQL",
    group: "Database",
    description: "Database service supporting PostgreSQL connections.",
    singleton: false,
    supported: false,
    config_schema: SQL_SCHEMA,
  },
  {
    name: "sqlite",
    label: "SQLite",
    group: "Database",
    description: "Database service supporting SQLite connections.",
    singleton: false,
    supported: true,
    config_schema: SQL_SCHEMA,
  },
  {
    name: "system",
    label: "System Management",
    group: "System",
    description: "Service supporting management of the system.",
    singleton: true,
    supported: false,
    config_schema: null,
  },
  {
    name: "user",
    label: "User service",
    group: "User",
    description: "User service to allow user management.",
    singleton: true,
    supported: false,
    config_schema: null,
  },
];

function full(t: (typeof SERVICE_TYPES)[number]): Rec {
  return {
    name: t.name,
    label: t.label,
    description: t.description,
    group: t.group,
    singleton: t.singleton,
    dependencies_required: null,
    subscription_required: null,
    service_definition_editable: false,
    config_schema: t.config_schema,
  };
}

function pick(rec: Rec, fields: string | undefined): Rec {
  if (!fields || fields.trim() === "" || fields.trim() === "*") return rec;
  const out: Rec = {};
  for (const f of fields.split(",").map((s) => s.trim())) if (f in rec) out[f] = rec[f];
  return out;
}

/** `GET /system/service_type[/{name}]`. */
export function serviceTypeResource(
  ctx: CallContext,
  id: string | undefined,
): Response {
  const fields = ctx.option("fields");
  if (id !== undefined) {
    const t = SERVICE_TYPES.find((x) => x.name === id);
    if (!t) throw new DfError(404, `Service type '${id}' not found.`);
    return json(pick(full(t), fields));
  }
  const group = ctx.option("group");
  const list = SERVICE_TYPES.filter((t) => !group || t.group.toLowerCase() === group.toLowerCase());
  return json(wrap(list.map((t) => pick(full(t), fields))));
}
