/**
 * `system/lookup`: global lookups (no app, role or user). Private values read back masked and
 * writing the mask back keeps the stored value; names are unique among global lookups.
 *
 * @module
 */
import { DfError } from "../http.ts";
import type { CallContext, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { lookupPresenter, SECRET_MASK } from "./related.ts";

function checkName(ctx: CallContext, name: unknown, selfId: unknown) {
  if (name === undefined) return;
  const dup = stmt(
    ctx.db,
    `SELECT id FROM lookup WHERE name = ? AND app_id IS NULL AND role_id IS NULL AND user_id IS NULL AND id IS NOT ?`,
  ).get(String(name), (selfId ?? null) as number | null);
  if (dup) throw new DfError(400, "Lookup name can not be modified to one that already exists.");
}

/** The descriptor of `system/lookup`. */
export const lookupDescriptor: ResourceDescriptor = {
  name: "lookup",
  table: table("lookup"),
  scope: { where: "app_id IS NULL AND role_id IS NULL AND user_id IS NULL", values: [] },
  hidden: ["app_id", "role_id", "user_id"],
  readOnly: ["app_id", "role_id", "user_id"],
  required: ["name"],
  appendedNames: [],
  present: lookupPresenter(null),
  beforeCreate(rec, ctx) {
    checkName(ctx, rec.name, null);
    return rec;
  },
  beforeUpdate(rec, old, ctx) {
    if ("name" in rec) checkName(ctx, rec.name, old.id);
    if (rec.value === SECRET_MASK) delete rec.value;
    return rec;
  },
};
