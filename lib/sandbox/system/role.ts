/**
 * `system/role`: roles and their `role_service_access_by_role_id` rules. Deactivating or
 * deleting a role revokes the tokens of the users assigned to it.
 *
 * @module
 */
import type { ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { relatedModels } from "./related.ts";

/** The descriptor of `system/role`. */
export const roleDescriptor: ResourceDescriptor = {
  name: "role",
  table: table("role"),
  required: ["name"],
  requiredOnUpdate: true,
  // Role::getModelFromTable: its lookups are RoleLookups.
  relatedModels: relatedModels("role_id"),
  beforeCreate(rec) {
    if (typeof rec.description === "string") rec.description = rec.description.slice(0, 255);
    return rec;
  },
  beforeUpdate(rec) {
    if (typeof rec.description === "string") rec.description = rec.description.slice(0, 255);
    return rec;
  },
  afterWrite(op, row, old, ctx) {
    if (!old || (op === "update" && (!old.is_active || row.is_active))) return;
    const users = stmt(ctx.db, `SELECT DISTINCT user_id FROM user_to_app_to_role WHERE role_id = ?`)
      .all(Number(old.id)) as { user_id: number }[];
    ctx.hooks.revokeUsers(users.map((u) => u.user_id));
  },
};
