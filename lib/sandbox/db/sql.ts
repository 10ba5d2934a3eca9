/**
 * Small SQL helpers shared by the schema and record resources: identifier quoting (only for
 * names already validated against the schema), running statements with every value bound, and
 * turning SQLite errors into the errors DreamFactory shows (Laravel's
 * `SQLSTATE[...]: ... (SQL: ...)` with the bindings spliced in, as in transcript 102).
 *
 * @module
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { DfError } from "../http.ts";
import { numberIfSafe, type SqlValue } from "./types.ts";

/** Quotes an identifier for SQLite (double quotes, embedded quotes doubled). */
export function q(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** Laravel's rendering of a failed statement: each `?` replaced by its binding, unquoted
 * (Str::replaceArray: a null binding, or a missing one, leaves the `?`). */
export function renderSql(sql: string, params: readonly SqlValue[]): string {
  let i = 0;
  return sql.replace(/\?/g, () => {
    const v = params[i++];
    if (v === null || v === undefined) return "?";
    if (v instanceof Uint8Array) return "<binary>";
    return String(v);
  });
}

interface SqliteError extends Error {
  errcode?: number;
  errstr?: string;
}

/**
 * An error DreamFactory gets as a plain PHP exception from Laravel or the database (a
 * QueryException, an InvalidArgumentException) rather than as one of its own RestExceptions. On
 * its own it is answered in the short `{code,message}` shape; the df-sqldb methods that catch
 * `\Exception` wrap it in a 500 naming the operation ({@link wrapFailure}).
 */
export class QueryFailure extends DfError {
  constructor(message: string, code: number | string = "HY000") {
    super(500, message, { code, short: true });
    this.name = "QueryFailure";
  }
}

/**
 * What df-sqldb's Table::retrieveRecordsByFilter, updateRecordsByFilter and
 * deleteRecordsByFilter do with an exception that is not a RestException: an
 * InternalServerErrorException("<what>\n<message>"), the full envelope. Other errors pass.
 */
export function wrapFailure(e: unknown, what: string): unknown {
  return e instanceof QueryFailure ? new DfError(500, `${what}\n${e.message}`) : e;
}

/** SQLSTATE and Laravel-style message for a SQLite error thrown while running `sql`. */
export function sqlError(e: unknown, sql: string, params: readonly SqlValue[]): DfError {
  if (e instanceof DfError) return e;
  const err = e as SqliteError;
  const text = err?.message ?? String(e);
  const primary = (err?.errcode ?? 1) & 0xff;
  const rendered = `(SQL: ${renderSql(sql, params)})`;
  if (primary === 19) {
    return new QueryFailure(
      `SQLSTATE[23000]: Integrity constraint violation: 19 ${text} ${rendered}`,
      "23000",
    );
  }
  return new QueryFailure(`SQLSTATE[HY000]: General error: ${primary} ${text} ${rendered}`);
}

const CACHE_SIZE = 256;
const caches = new WeakMap<DatabaseSync, Map<string, StatementSync>>();

/**
 * A prepared statement from a small per-connection cache (record loops reuse the same SQL).
 * Not for `iterate`: a cached statement must not be re-entered while it is being read.
 */
function prepared(db: DatabaseSync, sql: string): StatementSync {
  let cache = caches.get(db);
  if (!cache) caches.set(db, cache = new Map());
  let stmt = cache.get(sql);
  if (stmt) {
    cache.delete(sql);
    cache.set(sql, stmt);
    return stmt;
  }
  stmt = db.prepare(sql);
  cache.set(sql, stmt);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return stmt;
}

/** Forgets cached statements (after DDL, so that none refers to a dropped table). */
export function clearStatements(db: DatabaseSync): void {
  caches.delete(db);
}

/** Runs a write statement with bound values; SQLite errors become DreamFactory's. */
export function run(
  db: DatabaseSync,
  sql: string,
  params: SqlValue[] = [],
): { changes: number; lastInsertRowid: number } {
  try {
    const r = prepared(db, sql).run(...params);
    return { changes: Number(r.changes), lastInsertRowid: Number(r.lastInsertRowid) };
  } catch (e) {
    throw sqlError(e, sql, params);
  }
}

/** Runs a query and returns every row (use only for small, bounded results). */
export function all(
  db: DatabaseSync,
  sql: string,
  params: SqlValue[] = [],
): Record<string, unknown>[] {
  try {
    return prepared(db, sql).all(...params) as Record<string, unknown>[];
  } catch (e) {
    // An integer beyond 2^53 cannot be read as a number: read that result as BigInts.
    if (!(e instanceof RangeError)) throw sqlError(e, sql, params);
  }
  try {
    const stmt = db.prepare(sql);
    stmt.setReadBigInts(true);
    return (stmt.all(...params) as Record<string, unknown>[]).map(numbersWhereSafe);
  } catch (e) {
    throw sqlError(e, sql, params);
  }
}

/** Integers read as BigInts back to numbers, except those a number cannot hold exactly. */
function numbersWhereSafe(row: Record<string, unknown>): Record<string, unknown> {
  for (const k in row) row[k] = numberIfSafe(row[k]);
  return row;
}

/** Runs a query and iterates its rows without materialising them. */
export function* iterate(
  db: DatabaseSync,
  sql: string,
  params: SqlValue[] = [],
): Generator<Record<string, unknown>> {
  let it: Iterator<unknown>;
  try {
    const stmt = db.prepare(sql);
    // Read integers as BigInts: node:sqlite's iterator otherwise ends silently (no error) at an
    // integer beyond 2^53, which would truncate a page without a word.
    stmt.setReadBigInts(true);
    it = stmt.iterate(...params);
  } catch (e) {
    throw sqlError(e, sql, params);
  }
  while (true) {
    let r: IteratorResult<unknown>;
    try {
      r = it.next();
    } catch (e) {
      throw sqlError(e, sql, params);
    }
    if (r.done) return;
    yield r.value as Record<string, unknown>; // fromSqlValue turns the BigInts back into numbers
  }
}

/** Runs a query returning one scalar. */
export function scalar(db: DatabaseSync, sql: string, params: SqlValue[] = []): unknown {
  try {
    const row = prepared(db, sql).get(...params) as Record<string, unknown> | undefined;
    return row ? Object.values(row)[0] : undefined;
  } catch (e) {
    throw sqlError(e, sql, params);
  }
}

let savepointSeq = 0;

/**
 * Runs `fn` inside a savepoint: its changes stay only when it returns. Savepoints nest, so this
 * works both inside a batch transaction (`rollback=true`) and on its own.
 */
export function inSavepoint<T>(db: DatabaseSync, fn: () => T): T {
  const name = `sp${++savepointSeq}`;
  db.exec(`SAVEPOINT ${name}`);
  try {
    const out = fn();
    db.exec(`RELEASE ${name}`);
    return out;
  } catch (e) {
    db.exec(`ROLLBACK TO ${name}`);
    db.exec(`RELEASE ${name}`);
    throw e;
  }
}
