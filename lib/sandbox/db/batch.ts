/**
 * DreamFactory's record-loop semantics for multi-record writes and id reads: stop at the first
 * failure (earlier records stay), `continue=true` (process all), `rollback=true` (one transaction,
 * all undone on failure), reported as a batch error (HTTP 400, code 1000).
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { batchError, type BatchVerb, DfError, toDfError } from "../http.ts";
import { inSavepoint } from "./sql.ts";

/** How a batch treats failures. */
export interface BatchMode {
  continueOnError: boolean;
  rollback: boolean;
}

/** Rejects `continue` together with `rollback`, as DreamFactory does on db tables. */
export function batchMode(continueOnError: boolean, rollback: boolean): BatchMode {
  if (continueOnError && rollback) {
    throw new DfError(
      400,
      "Rollback and continue operations can not be requested at the same time.",
    );
  }
  return { continueOnError, rollback };
}

/**
 * Runs `fn` for every item; returns the results, or throws DreamFactory's batch error listing the
 * failed indexes with, per processed index, the result or the error entry.
 */
export function runBatch<T>(
  db: DatabaseSync,
  items: T[],
  verb: BatchVerb,
  mode: BatchMode,
  fn: (item: T, index: number) => unknown,
): unknown[] {
  const results: unknown[] = [];
  const failed: number[] = [];
  // One transaction around the whole loop (much faster than one commit per record); without
  // `rollback` the records that succeeded before a failure are still committed, as in DF.
  const own = !db.isTransaction;
  if (own) db.exec("BEGIN");
  try {
    for (let i = 0; i < items.length; i++) {
      try {
        results.push(inSavepoint(db, () => fn(items[i], i)));
      } catch (e) {
        failed.push(i);
        results.push(toDfError(e).toBatchEntry());
        if (!mode.continueOnError) break;
      }
    }
    if (failed.length > 0) {
      if (own) db.exec(mode.rollback ? "ROLLBACK" : "COMMIT");
      throw batchError(verb, failed, results, mode.rollback);
    }
    if (own) db.exec("COMMIT");
    return results;
  } catch (e) {
    if (own && db.isTransaction) db.exec("ROLLBACK");
    throw e;
  }
}
