/**
 * `system/app`: applications and their API keys (generated on create when absent or taken),
 * with the always-present `launch_url`. Deactivating or deleting an app revokes the tokens of
 * users assigned a role through it.
 *
 * @module
 */
import { createHash, randomBytes } from "node:crypto";
import type { CallContext, Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";

function newKey(name: unknown): string {
  return createHash("sha256").update(`${name}${Date.now()}${randomBytes(16).toString("hex")}`)
    .digest("hex");
}

function ensureKey(rec: Rec, ctx: CallContext, selfId: unknown) {
  if (!("api_key" in rec) && selfId !== null) return;
  const key = rec.api_key;
  const taken = typeof key === "string" && key !== "" &&
    stmt(ctx.db, `SELECT id FROM app WHERE api_key = ? AND id IS NOT ?`).get(
      key,
      (selfId ?? null) as number | null,
    );
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
    ensureKey(rec, ctx, null);
    return rec;
  },
  beforeUpdate(rec, old, ctx) {
    if (ctx.flag("regenerate")) rec.api_key = newKey(old.name);
    else ensureKey(rec, ctx, old.id);
    return rec;
  },
  afterWrite(op, row, old, ctx) {
    if (!old || (op === "update" && (!old.is_active || row.is_active))) return;
    const users = stmt(ctx.db, `SELECT DISTINCT user_id FROM user_to_app_to_role WHERE app_id = ?`)
      .all(Number(old.id)) as { user_id: number }[];
    ctx.hooks.revokeUsers(users.map((u) => u.user_id));
  },
};
