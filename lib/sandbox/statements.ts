/**
 * A cache of prepared statements per database: the sandbox runs the same few dozen SQL texts
 * on every request, and preparing them once saves most of the SQLite overhead.
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";

const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();
/** Distinct SQL texts kept per database (filters and id lists vary; the cache stays bounded). */
const LIMIT = 500;

/** The prepared statement for `sql` on `db`, prepared on first use. */
export function stmt(db: DatabaseSync, sql: string): StatementSync {
  let cache = caches.get(db);
  if (!cache) caches.set(db, cache = new Map());
  let s = cache.get(sql);
  if (!s) {
    if (cache.size >= LIMIT) cache.clear();
    s = db.prepare(sql);
    cache.set(sql, s);
  }
  return s;
}
