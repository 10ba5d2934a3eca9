/**
 * `system/lookup`: lists global lookups (no app, role or user); by id it reads, changes and
 * deletes any lookup, as df-core's Lookup model does. Private values read back masked and
 * writing the mask back keeps the stored value; names are unique among global lookups.
 *
 * @module
 */
import { DfError } from "../http.ts";
import type { CallContext, Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { lookupPresenter } from "./related.ts";
import { MASK } from "../../secrets.ts";

/**
 * Lookup::fill: a name given that differs (case-insensitively) from the record's own may not be
 * the name of an existing global lookup (a null name matches none: `name IS NULL`).
 */
function checkName(ctx: CallContext, rec: Rec, current: unknown) {
  if (!("name" in rec)) return;
  const name = rec.name === null || rec.name === undefined ? null : String(rec.name);
  const own = current === null || current === undefined ? "" : String(current);
  if (name === null || own.toLowerCase() === name.toLowerCase()) return;
  const dup = stmt(
    ctx.db,
    `SELECT id FROM lookup WHERE name = ? AND app_id IS NULL AND role_id IS NULL AND user_id IS NULL`,
  ).get(name);
  if (dup) throw new DfError(400, "Lookup name can not be modified to one that already exists.");
}

/** The descriptor of `system/lookup`. */
export const lookupDescriptor: ResourceDescriptor = {
  name: "lookup",
  table: table("lookup"),
  // Lookup::selectByRequest alone adds "(app_id IS NULL) AND (role_id IS NULL) AND (user_id IS
  // NULL)": lists and `ids` see global lookups only; countByRequest, selectById and the writes'
  // find($id) see every lookup (shown through Lookup's $hidden owner columns and mask).
  scope: {
    where: "app_id IS NULL AND role_id IS NULL AND user_id IS NULL",
    values: [],
    listsOnly: true,
  },
  hidden: ["app_id", "role_id", "user_id"],
  readOnly: ["app_id", "role_id", "user_id"],
  // Lookup has no $rules: a missing name is the table's NOT NULL error.
  // BaseSystemLookup::cleanFields: a list not starting with `*` also loads `private` (the mask
  // reads it), at the end unless it is named.
  cleanFields: (fields) =>
    fields[0] === "*" || fields.includes("private") ? fields : [...fields, "private"],
  present: lookupPresenter(null),
  beforeCreate(rec, ctx) {
    checkName(ctx, rec, null);
    // BaseSystemLookup::setAttribute ignores the mask, on create as on update.
    if (rec.value === MASK) delete rec.value;
    return rec;
  },
  beforeUpdate(rec, old, ctx) {
    checkName(ctx, rec, old.name);
    if (rec.value === MASK) delete rec.value;
    return rec;
  },
};
