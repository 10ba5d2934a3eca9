/**
 * The handlers of database services (type `sqlite`), built from `system/service` rows through
 * the database engineer's `createSqliteService`, rebuilt when a service's row changes and
 * closed when it is deleted, deactivated or the sandbox closes.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { createSqliteService } from "./db/mod.ts";
import type { SandboxEnv, ServiceHandler, ServiceRecord } from "./types.ts";
import { stmt } from "./statements.ts";

/** Builds a handler for one service row. */
export type ServiceFactory = (service: ServiceRecord, env: SandboxEnv) => ServiceHandler;

/** Service types served by a handler of this registry. */
export const HANDLED_TYPES = new Set(["sqlite"]);

/** Reads a service row as the services see it. */
export function serviceRecord(row: Record<string, unknown>): ServiceRecord {
  let config: Record<string, unknown> = {};
  try {
    config = JSON.parse(String(row.config ?? "{}")) ?? {};
  } catch { /* keep empty */ }
  return {
    id: Number(row.id),
    name: String(row.name),
    type: String(row.type),
    is_active: !!row.is_active,
    config,
  };
}

/**
 * Live handlers keyed by service id. A handler is rebuilt only when its database changes (a
 * file-backed service whose `config` changed); renames and (de)activation update the record
 * the handler holds, so an in-memory database keeps its data. Inactive services never reach
 * their handler (the router answers 403 first).
 */
export class ServiceRegistry {
  #live = new Map<number, { key: string; record: ServiceRecord; handler: ServiceHandler }>();

  constructor(
    private readonly db: DatabaseSync,
    private readonly env: SandboxEnv,
    private readonly factory: ServiceFactory,
  ) {}

  private keyOf(row: Record<string, unknown>): string {
    return this.env.dataDir === null ? "memory" : String(row.config ?? "");
  }

  /** The handler of a service row, built or rebuilt as needed. */
  handlerFor(row: Record<string, unknown>): ServiceHandler {
    const id = Number(row.id);
    const key = this.keyOf(row);
    const live = this.#live.get(id);
    if (live && live.key === key) {
      Object.assign(live.record, serviceRecord(row));
      return live.handler;
    }
    if (live) this.close(id);
    const record = serviceRecord(row);
    const handler = this.factory(record, this.env);
    this.#live.set(id, { key, record, handler });
    return handler;
  }

  #dirty = new Set<number>();

  /** Notes that a service row changed; {@linkcode flush} acts on it once the write settled. */
  markDirty(id: number): void {
    this.#dirty.add(id);
  }

  /** Re-syncs the services marked dirty (after their transaction committed or rolled back). */
  flush(): void {
    for (const id of this.#dirty) this.changed(id);
    this.#dirty.clear();
  }

  /** Re-syncs one service after its row changed: closes its handler when it is gone. */
  changed(id: number): void {
    const live = this.#live.get(id);
    if (!live) return;
    const row = stmt(this.db, `SELECT * FROM service WHERE id = ?`).get(id) as
      | Record<string, unknown>
      | undefined;
    if (!row || this.keyOf(row) !== live.key) this.close(id);
  }

  /** Closes one handler. */
  close(id: number): void {
    const live = this.#live.get(id);
    this.#live.delete(id);
    try {
      live?.handler.close?.();
    } catch { /* already closed */ }
  }

  /** Closes every handler. */
  closeAll(): void {
    for (const id of [...this.#live.keys()]) this.close(id);
  }
}

/** The database engineer's SQLite service factory. */
export const sqliteFactory: ServiceFactory = createSqliteService;
