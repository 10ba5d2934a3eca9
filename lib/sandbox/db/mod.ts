/**
 * SQLite database services of the sandbox (`type: "sqlite"`): the seeded `db` service and any
 * service created through `POST /api/v2/system/service`. The core router authenticates, checks
 * the role at component level, then hands every `/api/v2/{service}/...` request to the handler
 * made here.
 *
 * @example
 * ```ts
 * import { createSqliteService } from "./mod.ts";
 * const handler = createSqliteService(
 *   { id: 2, name: "db", type: "sqlite", is_active: true, config: { database: "db.sqlite" } },
 *   { dataDir: null, maxRecords: 1000 },
 * );
 * // router: return await handler.handle(ctx);  ... on service delete: handler.close?.();
 * ```
 *
 * @module
 */
import { DatabaseSync } from "node:sqlite";
import { basename, join } from "node:path";
import { DfError, json, toBool, wrap } from "../http.ts";
import { checkVerb } from "../verbs.ts";
import type { RequestContext, SandboxEnv, ServiceHandler, ServiceRecord } from "../types.ts";
import { accessList, Catalog } from "./catalog.ts";
import { cleanResources, type DbEnv, handleTable, listTables } from "./records.ts";
import { handleSchema } from "./schema.ts";

export type {
  AccessGrant,
  RequestContext,
  RoleFilter,
  SandboxEnv,
  ServiceHandler,
  ServiceRecord,
  SessionInfo,
} from "../types.ts";

/** Resolves `config.database` to a file inside `dataDir` (no path traversal), or memory. */
export function databasePath(service: ServiceRecord, dataDir: string | null): string {
  if (dataDir === null) return ":memory:";
  const raw = service.config?.database;
  const name = typeof raw === "string" && raw.trim() !== "" ? raw.trim() : `${service.name}.sqlite`;
  const base = basename(name.replace(/\\/g, "/"));
  if (
    name.includes("\0") || base !== name.replace(/^\.\//, "") || base === "." || base === ".." ||
    base === "" || base.startsWith(".")
  ) {
    throw new DfError(
      400,
      `Invalid database '${name}' for service '${service.name}': give a plain file name (e.g. "${service.name}.sqlite"); files live in the sandbox's data folder.`,
    );
  }
  return join(dataDir, base);
}

/**
 * Creates the handler of one SQLite service. The database opens immediately (foreign keys on,
 * WAL for files) and stays open until `close()`.
 */
export function createSqliteService(service: ServiceRecord, env: SandboxEnv): ServiceHandler {
  const path = databasePath(service, env.dataDir);
  const db = new DatabaseSync(path);
  db.exec("PRAGMA foreign_keys = ON");
  if (path !== ":memory:") db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  const catalog = new Catalog(db);
  const dbEnv: DbEnv = {
    db,
    catalog,
    serviceId: service.id,
    serviceName: service.name,
    maxRecords: service.config?.max_records && Number(service.config.max_records) > 0
      ? Math.min(Number(service.config.max_records), env.maxRecords)
      : env.maxRecords,
  };
  let closed = false;
  return {
    handle(ctx: RequestContext): Response {
      if (closed) throw new DfError(404, `Could not find a service for ${service.name}`);
      // Another connection (or a rebuild) may have changed the schema between requests.
      if (ctx.flag("refresh")) catalog.invalidate();
      const parts = ctx.resource.split("/").filter((p) => p !== "").map(decodeSegment);
      if (parts.length === 0) {
        checkVerb("{db}", ctx.method, service.name);
        return serviceRoot(dbEnv, ctx);
      }
      const [head, ...rest] = parts;
      if (head === "_table") {
        if (rest.length === 0) {
          checkVerb("{db}/_table", ctx.method);
          return listTables(dbEnv, ctx);
        }
        if (rest.length > 2) {
          throw new DfError(
            404,
            `Resource '${parts.join("/")}' not found for service '${service.name}'.`,
          );
        }
        return handleTable(dbEnv, ctx, rest[0], rest[1]);
      }
      if (head === "_schema") return handleSchema(dbEnv, ctx, rest);
      throw new DfError(404, `Resource '${head}' not found for service '${service.name}'.`);
    },
    accessComponents(): string[] {
      return accessList(catalog);
    },
    close(): void {
      if (closed) return;
      closed = true;
      try {
        db.close();
      } catch { /* already closed */ }
    },
  };
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * The resources df-sqldb's SqlDb service declares (static::$resources; `_proc`/`_func` only where
 * the driver has routines, not SQLite), as RestHandler::handleGET lists them: the raw entries,
 * class names included.
 */
const RESOURCES: Record<string, unknown>[] = [
  { name: "_schema", class_name: "DreamFactory\\Core\\SqlDb\\Resources\\Schema", label: "Schema" },
  { name: "_table", class_name: "DreamFactory\\Core\\SqlDb\\Resources\\Table", label: "Tables" },
];

/** `GET /api/v2/{service}`: its resources, or the role components with `as_access_list`. */
function serviceRoot(env: DbEnv, ctx: RequestContext): Response {
  if (toBool(ctx.option("as_access_list"))) return json(wrap(accessList(env.catalog)));
  if (toBool(ctx.option("as_list"))) return json(wrap(RESOURCES.map((r) => r.name)));
  return json(wrap(cleanResources(RESOURCES, ctx.option("fields", "select"))));
}
