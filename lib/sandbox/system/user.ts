/**
 * `system/user` and `system/admin`: one descriptor factory, two scopes (non-admins and admins),
 * with DreamFactory's user rules: empty-looking values dropped on create, `name`/`username`
 * defaults, unique usernames as validation errors, hashed passwords, `confirmed`/`expired`
 * always appended, and token revocation when a password, email or activity changes.
 *
 * @module
 */
import { DfError } from "../http.ts";
import { hashPassword } from "../auth.ts";
import type { CallContext, Rec, ResourceDescriptor, Row } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { presentUser, relatedModels } from "./related.ts";

/** DreamFactory's mass-assignment cleanup of user POST bodies (§8.1). */
function dropEmptyLooking(rec: Rec): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(rec)) {
    let value = v;
    if (value === "true") value = true;
    else if (value === "false") value = false;
    else if (value === "null") value = null;
    // PHP's empty(): "", "0", 0, false, null and [] are all dropped.
    if (value === "" || value === "0" || value === 0 || value === false || value === null) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[k] = value;
  }
  return out;
}

function validation(field: string, message: string): DfError {
  return new DfError(400, `Invalid data supplied. ${message}`, { context: { [field]: [message] } });
}

function checkUsername(ctx: CallContext, username: unknown, selfId: unknown) {
  if (username === undefined || username === null) return;
  const taken = stmt(ctx.db, `SELECT id FROM user WHERE username = ? AND id IS NOT ?`)
    .get(String(username), (selfId ?? null) as number | null);
  if (taken) throw validation("username", "The username has already been taken.");
}

/** DreamFactory's `User::validatePassword` (Laravel's `min:N` rule), run before anything is saved. */
function checkPassword(ctx: CallContext, password: unknown) {
  if (password === undefined || password === null || password === "") return;
  const min = ctx.passwordMinLength;
  if (String(password).length < min) {
    throw validation("password", `The password field must be at least ${min} characters.`);
  }
}

function hashSecrets(rec: Rec) {
  if (typeof rec.password === "string" && rec.password !== "") {
    rec.password = hashPassword(rec.password);
    rec.confirm_code = "y";
  } else delete rec.password;
  if (typeof rec.security_answer === "string" && rec.security_answer !== "") {
    rec.security_answer = hashPassword(rec.security_answer);
  }
}

/** The descriptor of `system/user` (`admin: false`) or `system/admin` (`admin: true`). */
export function userDescriptor(admin: boolean): ResourceDescriptor {
  return {
    name: admin ? "admin" : "user",
    table: table("user"),
    scope: { where: `is_sys_admin = ?`, values: [admin ? 1 : 0] },
    readOnly: ["is_sys_admin", "last_login_date", "remember_token", "confirm_code"],
    appendedNames: ["confirmed", "expired"],
    // User::updateInternal/deleteInternal wrap only what is not a 400 or 403.
    wrapModelErrors: "server",
    present: presentUser,
    // User::getModelFromTable: its lookups are UserLookups.
    relatedModels: relatedModels("user_id"),
    beforeCreate(input: Rec, ctx: CallContext): Rec {
      const rec = dropEmptyLooking(input);
      if (rec.email === undefined) {
        throw new DfError(500, `Failed to create resource: Undefined array key "email"`);
      }
      if (rec.name === undefined) {
        const full = [rec.first_name, rec.last_name].filter(Boolean).join(" ");
        rec.name = full || String(rec.email).split("@")[0];
      }
      if (rec.username === undefined) rec.username = rec.email;
      checkUsername(ctx, rec.username, null);
      checkPassword(ctx, rec.password);
      hashSecrets(rec);
      if (admin) rec.is_sys_admin = true;
      return { ...rec, ...(admin ? { is_sys_admin: 1 } : {}) };
    },
    beforeUpdate(rec: Rec, old: Row, ctx: CallContext): Rec {
      if ("username" in rec) checkUsername(ctx, rec.username, old.id);
      checkPassword(ctx, rec.password);
      hashSecrets(rec);
      return rec;
    },
    intercept(engine, ctx, method, id) {
      // A user of the other kind exists under this id: DreamFactory's guard messages (§8.1).
      if (id === undefined || !["PATCH", "PUT", "DELETE"].includes(method)) return null;
      if (engine.find(ctx.db, id)) return null;
      const other = stmt(ctx.db, `SELECT id FROM user WHERE id = ? AND is_sys_admin = ?`).get(
        Number(id),
        admin ? 0 : 1,
      );
      if (!other) return null;
      const verb = method === "DELETE" ? "delete" : "update";
      if (admin) throw new DfError(400, `Cannot ${verb} a non-admin user.`);
      throw new DfError(
        403,
        `Not allowed to ${verb === "delete" ? "delete" : "change"} an admin user.`,
      );
    },
    beforeDelete(old: Row, ctx: CallContext) {
      if (ctx.userId !== null && Number(old.id) === ctx.userId) {
        throw new DfError(403, "Cannot delete your account.");
      }
    },
    afterWrite(op, row, old, ctx) {
      if (op === "create" || !old) return;
      const deactivated = op === "delete" || (!!old.is_active && !row.is_active);
      const newPassword = row.password !== old.password;
      if (deactivated || newPassword) ctx.hooks.revokeUsers([Number(old.id)]);
    },
  };
}
