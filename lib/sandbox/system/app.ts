/**
 * `system/app`: applications and their API keys (generated on create when absent or taken),
 * with the always-present `launch_url`. Deactivating or deleting an app revokes the tokens of
 * users assigned a role through it.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import { DfError } from "../http.ts";
import type { CallContext, Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";

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
  if (errors.length) {
    throw new DfError(400, `Invalid data supplied. ${errors.join(" ")}`, {
      context: { api_key: errors },
    });
  }
}

/** App::createInternal: a missing, blank or taken key is replaced by a generated one. */
function ensureKey(rec: Rec, ctx: CallContext) {
  const key = rec.api_key;
  const taken = typeof key === "string" && key !== "" &&
    stmt(ctx.db, `SELECT id FROM app WHERE api_key = ?`).get(key);
  if (typeof key !== "string" || key === "" || taken) rec.api_key = newKey(rec.name);
}

/** The descriptor of `system/app`. */
export const appDescriptor: ResourceDescriptor = {
  name: "app",
  table: table("app"),
  required: ["name"],
  appendedNames: ["launch_url"],
  present(_row, out) {
    out.launch_url = "";
  },
  beforeCreate(rec, ctx) {
    checkKey(rec);
    ensureKey(rec, ctx);
    return rec;
  },
  beforeUpdate(rec, old, ctx) {
    // Only creating checks that a key is unused; an update stores the key it is given.
    if (ctx.flag("regenerate")) rec.api_key = newKey(old.name);
    else checkKey(rec);
    return rec;
  },
  afterWrite(op, row, old, ctx) {
    if (!old || (op === "update" && (!old.is_active || row.is_active))) return;
    const users = stmt(ctx.db, `SELECT DISTINCT user_id FROM user_to_app_to_role WHERE app_id = ?`)
      .all(Number(old.id)) as { user_id: number }[];
    ctx.hooks.revokeUsers(users.map((u) => u.user_id));
  },
};
