/**
 * `system/app`: applications and their API keys (generated on create when absent or taken),
 * with the always-present `launch_url`. Deactivating or deleting an app revokes the tokens of
 * users assigned a role through it.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { SQLInputValue } from "node:sqlite";
import { DfError, invalidData, phpEmpty, sqlDateTime } from "../http.ts";
import type { CallContext, Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { presentApp, relatedModels } from "./related.ts";

function newKey(name: unknown): string {
  return createHash("sha256").update(`${name}${Date.now()}${randomBytes(16).toString("hex")}`)
    .digest("hex");
}

/**
 * App's rule `api_key => min:64|alpha_num` (Laravel: a blank string is not checked, null is),
 * checked on create and on every update.
 */
function checkKey(rec: Rec) {
  if (!("api_key" in rec)) return;
  const key = rec.api_key;
  if (typeof key === "string" && key.trim() === "") return;
  const text = typeof key === "string" || typeof key === "number" ? String(key) : "";
  const errors: string[] = [];
  if (text.length < 64) errors.push("The api key field must be at least 64 characters.");
  if (!/^[\p{L}\p{M}\p{N}]+$/u.test(text)) {
    errors.push("The api key field must only contain letters and numbers.");
  }
  if (errors.length) throw invalidData({ api_key: errors });
}

/**
 * App::createInternal: create() inserts the record as given (with an api_key only when one is
 * sent); then an empty key, or one isApiKeyUnique found taken before the insert, is replaced by
 * a generated one and saved.
 */
function keyAfterInsert(
  cols: Record<string, SQLInputValue>,
  ctx: CallContext,
): { insert: Record<string, SQLInputValue>; after?: Record<string, SQLInputValue> } {
  const key = cols.api_key;
  const taken = typeof key === "string" && key !== "" &&
    stmt(ctx.db, `SELECT id FROM app WHERE api_key = ?`).get(key);
  if (phpEmpty(key) || taken) return { insert: cols, after: { api_key: newKey(cols.name) } };
  return { insert: cols };
}

/**
 * df-system App::handlePATCH with `regenerate=true` on a by-id PATCH (PUT is its alias):
 * `$appClass::find($this->resource)->first()` calls `first()` on the found model, which Eloquent
 * forwards to a fresh query without the id, so the key regenerated and saved is the one of the
 * first app row, before (and whatever the outcome of) the update of the app named. An unknown id
 * makes `find()` null and `->first()` a PHP error (Laravel's bare 500). The list forms
 * (`PATCH /system/app`, with or without `ids`) never regenerate.
 */
function regenerateFirstApp(ctx: CallContext, id: string) {
  const named = Number.isFinite(Number(id)) &&
    stmt(ctx.db, `SELECT id FROM app WHERE id = ?`).get(Number(id));
  if (!named) throw new DfError(500, "Server Error", { bare: true });
  const first = stmt(ctx.db, `SELECT id, name FROM app ORDER BY id LIMIT 1`).get() as Rec;
  // Model::save(): the timestamps, not last_modified_by_id (only BaseModel::update sets that).
  stmt(ctx.db, `UPDATE app SET api_key = ?, last_modified_date = ? WHERE id = ?`)
    .run(newKey(first.name), sqlDateTime(), Number(first.id));
}

/** Requests already given App::handleDELETE's fields. */
const storageDeletes = new WeakSet<CallContext>();

/**
 * df-system App::handleDELETE with `delete_storage=true`: the answer must carry what deleting the
 * app's files needs, so `fields` becomes "id,storage_service_id,storage_container" when empty,
 * or gets those appended when missing (unless it is "*"). The answer's records then show them,
 * with App's appended `launch_url` (computed from the fields read: "" without `type`). The
 * sandbox has no storage services, so no files are deleted.
 */
function storageFields(given: string | undefined): string {
  if (phpEmpty(given)) return "id,storage_service_id,storage_container";
  if (given === "*") return given;
  const fields = given!.split(",");
  for (const f of ["id", "storage_service_id", "storage_container"]) {
    if (!fields.includes(f)) fields.push(f);
  }
  return fields.join(",");
}

/** The descriptor of `system/app`. */
export const appDescriptor: ResourceDescriptor = {
  name: "app",
  table: table("app"),
  // App::$rules has only the api_key rule: a missing name is the table's NOT NULL error.
  present: presentApp,
  // App::getModelFromTable: its lookups are AppLookups.
  relatedModels: relatedModels("app_id"),
  beforeCreate(rec) {
    checkKey(rec);
    return rec;
  },
  splitInsert: keyAfterInsert,
  intercept(engine, ctx, method, id, payload) {
    if (method === "DELETE" && !storageDeletes.has(ctx) && ctx.flag("delete_storage")) {
      const fields = storageFields(ctx.option("fields"));
      // The request as App::handleDELETE hands it on (the lookups stay computed on demand).
      const inner: CallContext = Object.create(ctx, {
        option: {
          value: (name: string, ...aliases: string[]) =>
            name === "fields" ? fields : ctx.option(name, ...aliases),
        },
      });
      storageDeletes.add(inner);
      return engine.handle(inner, method, id, payload);
    }
    if (id !== undefined && (method === "PATCH" || method === "PUT") && ctx.flag("regenerate")) {
      regenerateFirstApp(ctx, id);
    }
    return null;
  },
  beforeUpdate(rec) {
    // Only creating checks that a key is unused; an update stores the key it is given.
    checkKey(rec);
    return rec;
  },
  // No token revocation on deactivation or delete: App's hooks call
  // JWTUtilities::invalidateTokenByAppId, a no-op (it tests is_array() of a Collection).
};
