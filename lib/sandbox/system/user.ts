/**
 * `system/user` and `system/admin`: one descriptor factory, two scopes (non-admins and admins),
 * with DreamFactory's user rules: empty-looking values dropped on create, `name`/`username`
 * defaults, unique usernames as validation errors, hashed passwords, `confirmed`/`expired`
 * always appended, and token revocation when a password, email or activity changes.
 *
 * @module
 */
import type { SQLInputValue } from "node:sqlite";
import { DfError, invalidData, phpEmpty } from "../http.ts";
import { hashPassword } from "../auth.ts";
import type { CallContext, Rec, ResourceDescriptor, Row } from "../records.ts";
import { table } from "../tables.ts";
import { stmt } from "../statements.ts";
import { presentUser, relatedModels } from "./related.ts";

/**
 * BaseSystemResource::removeEmptyAttributes, run on user POST bodies (§8.1): a value PHP's
 * empty() holds empty ("", "0", 0, false, null, []) is dropped first; only then are the strings
 * "true"/"false"/"null" (any case) turned into true/false/null, so `"false"` is kept as false.
 */
function dropEmptyLooking(rec: Rec): Rec {
  const out: Rec = {};
  for (const [k, v] of Object.entries(rec)) {
    if (phpEmpty(v)) continue;
    let value: unknown = v;
    if (typeof v === "string") {
      const lower = v.toLowerCase();
      if (lower === "true") value = true;
      else if (lower === "false") value = false;
      else if (lower === "null") value = null;
    }
    out[k] = value;
  }
  return out;
}

/** Laravel's `required`: not null and not a blank string. */
export function filled(v: unknown): boolean {
  return v !== null && v !== undefined && !(typeof v === "string" && v.trim() === "");
}

const ATOM = "[\\p{L}\\p{N}!#$%&'*+/=?^_`{|}~-]+";
const LABEL = "[\\p{L}\\p{N}](?:[\\p{L}\\p{N}-]*[\\p{L}\\p{N}])?";
/** Laravel's `email` rule, approximated by a dot-atom address. */
export const EMAIL = new RegExp(`^${ATOM}(?:\\.${ATOM})*@${LABEL}(?:\\.${LABEL})*$`, "u");

/**
 * User's `$rules` (df-core src/Models/User.php), which BaseModel::save validates on every save
 * (Validatable::validate: 400 "Invalid data supplied. <messages>", in the rules' order):
 * `name => required|max:255`, `email => required|email|max:255`,
 * `username => min:6|unique:user,username|regex:/^\S*$/u|nullable` (the user's own row excepted
 * on update). Laravel's `email` rule (RFC validation) is approximated by a dot-atom address.
 */
export function validateUser(ctx: Pick<CallContext, "db">, attrs: Rec, selfId: unknown) {
  const context: Record<string, string[]> = {};
  const add = (field: string, message: string) => (context[field] ??= []).push(message);
  const length = (v: unknown) => [...String(v)].length;
  if (!filled(attrs.name)) add("name", "The name field is required.");
  else if (length(attrs.name) > 255) {
    add("name", "The name field must not be greater than 255 characters.");
  }
  if (!filled(attrs.email)) add("email", "The email field is required.");
  else {
    if (!EMAIL.test(String(attrs.email))) {
      add("email", "The email field must be a valid email address.");
    }
    if (length(attrs.email) > 255) {
      add("email", "The email field must not be greater than 255 characters.");
    }
  }
  const username = attrs.username;
  // `nullable`, and Laravel skips the other rules for an empty string.
  if (username !== null && username !== undefined && username !== "") {
    if (length(username) < 6) add("username", "The username field must be at least 6 characters.");
    const taken = stmt(ctx.db, `SELECT id FROM user WHERE username = ? AND id IS NOT ?`)
      .get(String(username), (selfId ?? null) as number | null);
    if (taken) add("username", "The username has already been taken.");
    if (/\s/u.test(String(username))) add("username", "The username field format is invalid.");
  }
  if (Object.keys(context).length) throw invalidData(context);
}

/** DreamFactory's `User::validatePassword` (Laravel's `min:N` rule), run before anything is saved. */
function checkPassword(ctx: CallContext, password: unknown) {
  if (password === undefined || password === null || password === "") return;
  const min = ctx.passwordMinLength;
  if (String(password).length < min) {
    throw invalidData({ password: [`The password field must be at least ${min} characters.`] });
  }
}

/**
 * User::setPasswordAttribute: a non-empty password is hashed and only clears a pending confirm
 * code (one set and not 'y'); it never confirms with 'y' (only a login does, in
 * Session::authenticate), so a user created with a password has no code at all.
 */
function hashSecrets(rec: Rec, old: Row | null) {
  const pw = rec.password;
  if ((typeof pw === "string" && pw !== "" && pw !== "0") || (typeof pw === "number" && pw !== 0)) {
    rec.password = hashPassword(String(pw));
    if (old && old.confirm_code !== null && old.confirm_code !== "y") rec.confirm_code = null;
  } else delete rec.password;
  if (typeof rec.security_answer === "string" && rec.security_answer !== "") {
    rec.security_answer = hashPassword(rec.security_answer);
  }
}

/**
 * User::updateInternal/deleteInternal find the row by id alone (by id and in bulk alike: only
 * selectById is scoped in NonAdminUser/AdminUser), then refuse the other kind of user before
 * anything else: system/user (no `admin` parameter) an admin with 403 "Not allowed to change
 * an admin user." / "...to delete an admin user.", system/admin a non-admin with 400 "Cannot
 * update a non-admin user." / "Cannot delete a non-admin user.".
 */
function kindGuard(admin: boolean, old: Row, verb: "update" | "delete") {
  const isAdmin = !!old.is_sys_admin;
  if (isAdmin && !admin) {
    throw new DfError(
      403,
      `Not allowed to ${verb === "delete" ? "delete" : "change"} an admin user.`,
    );
  }
  if (admin && !isAdmin) throw new DfError(400, `Cannot ${verb} a non-admin user.`);
}

/** The descriptor of `system/user` (`admin: false`) or `system/admin` (`admin: true`). */
export function userDescriptor(admin: boolean): ResourceDescriptor {
  return {
    name: admin ? "admin" : "user",
    table: table("user"),
    scope: { where: `is_sys_admin = ?`, values: [admin ? 1 : 0] },
    readOnly: ["is_sys_admin", "last_login_date", "remember_token", "confirm_code"],
    // User::createInternal/updateInternal/deleteInternal wrap only what is not a 400 or 403.
    wrapModelErrors: "server",
    wrapCreateErrors: true,
    present: presentUser,
    // User::getModelFromTable: its lookups are UserLookups.
    relatedModels: relatedModels("user_id"),
    beforeCreate(input: Rec, ctx: CallContext): Rec {
      const rec = dropEmptyLooking(input);
      if (rec.email === undefined) throw new Error(`Undefined array key "email"`);
      // User::createInternal: first and last name, else the part of the email before an `@`
      // that is not its first character (strpos() truthy), else "" (then `required` fails).
      // (isset(): a name the cleanup turned into null is computed too, in its place.)
      if (rec.name === undefined || rec.name === null) {
        const full = [rec.first_name, rec.last_name].filter(Boolean).join(" ");
        const email = String(rec.email);
        rec.name = full || (email.indexOf("@") > 0 ? email.slice(0, email.indexOf("@")) : "");
      }
      // The password is checked before the model exists, the model's rules when it is saved.
      checkPassword(ctx, rec.password);
      // User::save: an empty username is the email (login attribute `email`), set in its place
      // or, when none is given, after created_by_id (splitInsert); the rules see it.
      if ("username" in rec && phpEmpty(rec.username)) rec.username = rec.email;
      validateUser(ctx, { ...rec, username: rec.username ?? rec.email }, null);
      hashSecrets(rec, null);
      if (admin) rec.is_sys_admin = true;
      return { ...rec, ...(admin ? { is_sys_admin: 1 } : {}) };
    },
    // User::createInternal: create() inserts the fillable fields as given, then created_by_id,
    // the username User::save fills in and the timestamps; the password (and for an admin
    // is_sys_admin) are set on the model afterwards and saved by a second save().
    splitInsert(cols) {
      const insert: Record<string, SQLInputValue> = {};
      const after: Record<string, SQLInputValue> = {};
      for (const [k, v] of Object.entries(cols)) {
        if (k === "password" || k === "is_sys_admin") {
          after[k] = v;
          continue;
        }
        if (k === "last_modified_date" && !("username" in insert)) insert.username = cols.email;
        insert[k] = v;
      }
      return { insert, after };
    },
    beforeUpdate(rec: Rec, old: Row, ctx: CallContext): Rec {
      kindGuard(admin, old, "update");
      checkPassword(ctx, rec.password);
      const attrs = { ...old, ...rec };
      if (attrs.username === null || attrs.username === undefined || attrs.username === "") {
        rec.username = attrs.username = attrs.email;
      }
      validateUser(ctx, attrs, old.id);
      hashSecrets(rec, old);
      return rec;
    },
    // AdminUser::bulkUpdate's fixRecords sets is_sys_admin = 1 in every record first: an empty
    // one (or null, false) becomes a record without a key; a scalar is PHP's "Cannot use a
    // scalar value as an array", a bare 500 before anything is written.
    fixUpdateRecord: admin
      ? (record) => {
        if (record === null || record === false || typeof record === "object") {
          return { ...(record as Rec | null), is_sys_admin: 1 };
        }
        throw new DfError(500, "Server Error", { bare: true });
      }
      : undefined,
    beforeDelete(old: Row, ctx: CallContext) {
      kindGuard(admin, old, "delete");
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
