/**
 * `system/role`: roles and their `role_service_access_by_role_id` rules. Deactivating or
 * deleting a role leaves its users' tokens valid: Role's saved/deleted hooks call
 * JWTUtilities::invalidateTokenByRoleId, which only acts when `is_array()` of an Eloquent
 * Collection, never true. The role check refuses those users instead.
 *
 * @module
 */
import type { ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";
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
};
