/**
 * Who is calling and the session endpoints: resolving the API key and session token of a
 * request into a {@link SessionInfo} (with DreamFactory's token errors), login/refresh/logout
 * at `system/admin/session` and `user/session`, and the profile, password and registration
 * endpoints of the user service and its admin twin.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  blacklist,
  decodeToken,
  hashPassword,
  isBlacklisted,
  issueToken,
  subjectOf,
  type TokenClaims,
  verifyPassword,
} from "./auth.ts";
import { DfError, json, phpEmpty, sqlDateTime } from "./http.ts";
import { type LoadedRole, loadRole } from "./rbac.ts";
import type { SessionInfo } from "./types.ts";
import { stmt } from "./statements.ts";
import { EMAIL, filled, validateUser } from "./system/user.ts";
import { run } from "./db/sql.ts";
import { strval } from "../php.ts";
import type { SqlValue } from "./db/types.ts";
import { unhandledVerb } from "./verbs.ts";

type Row = Record<string, unknown>;

/** What the session code needs from the running sandbox. */
export interface AuthState {
  db: DatabaseSync;
  secret: string;
  /** Token lifetime, seconds. */
  jwtTtl: number;
  /** Refresh window from issue time, seconds. */
  jwtRefreshTtl: number;
  /** Host name reported in session payloads. */
  host: string;
}

/** The resolved caller of one request. */
export interface Caller {
  session: SessionInfo;
  /** The session token as sent (validated unless `tokenUnchecked`). */
  token?: string;
  claims?: TokenClaims;
  user?: Row;
  apiKey?: string;
  app?: Row;
  role: LoadedRole | null;
}

const SESSION_PATHS = ["/api/v2/user/session", "/api/v2/system/admin/session"];

/** True for the literal session paths whose POST ignores tokens and PUT skips validation. */
export function isSessionPath(pathname: string): boolean {
  return SESSION_PATHS.includes(pathname.replace(/\/+$/, ""));
}

/** The user's role for an app: the user-to-app-to-role assignment, else the app's default. */
export function roleIdFor(
  db: DatabaseSync,
  userId: number | null,
  app: Row | undefined,
): number | null {
  if (!app) return null;
  if (userId !== null) {
    const r = stmt(db, `SELECT role_id FROM user_to_app_to_role WHERE user_id = ? AND app_id = ?`)
      .get(userId, Number(app.id)) as { role_id: number } | undefined;
    if (r) return Number(r.role_id);
  }
  return app.role_id === null || app.role_id === undefined ? null : Number(app.role_id);
}

/** Checks a session token fully (signature, expiry, blacklist, user) and returns its user. */
export function authenticateToken(
  state: AuthState,
  token: string,
): { claims: TokenClaims; user: Row } {
  const claims = decodeToken(token, state.secret);
  const now = Math.floor(Date.now() / 1000);
  if (claims.exp <= now) {
    throw new DfError(
      401,
      "Token has expired: Session expired. Please refresh your token (if still within refresh window) or re-login.",
    );
  }
  if (isBlacklisted(state.db, claims.jti)) {
    throw new DfError(403, "The token has been blacklisted: Session terminated. Please re-login.");
  }
  const user = stmt(state.db, `SELECT * FROM user WHERE id = ?`).get(claims.user_id) as
    | Row
    | undefined;
  if (!user || subjectOf(String(user.email)) !== claims.sub) {
    throw new DfError(401, "Invalid token: User verification failed.");
  }
  if (!user.is_active) throw new DfError(403, "User is not active.");
  return { claims, user };
}

/** Builds the caller of a request from its (already extracted) credentials. */
export function resolveCaller(
  state: AuthState,
  creds: { token?: string; apiKey?: string; basic?: { email: string; password: string } },
  checkToken: boolean,
): Caller {
  let user: Row | undefined;
  let claims: TokenClaims | undefined;
  if (creds.token && checkToken) {
    ({ claims, user } = authenticateToken(state, creds.token));
  } else if (!creds.token && creds.basic) {
    const u = stmt(state.db, `SELECT * FROM user WHERE email = ? AND is_active = 1`).get(
      creds.basic.email,
    ) as Row | undefined;
    if (!u || !verifyPassword(creds.basic.password, u.password)) {
      throw new DfError(401, "Invalid credentials supplied.");
    }
    user = u;
  }
  let app: Row | undefined;
  if (creds.apiKey) {
    app = stmt(state.db, `SELECT * FROM app WHERE api_key = ?`).get(creds.apiKey) as
      | Row
      | undefined;
    if (app && !app.is_active) throw new DfError(403, "App is not active.");
  }
  const userId = user ? Number(user.id) : null;
  const assignments = userId === null ? 0 : Number(
    (stmt(state.db, `SELECT COUNT(*) AS n FROM user_to_app_to_role WHERE user_id = ?`).get(
      userId,
    ) as {
      n: number;
    }).n,
  );
  const isSysAdmin = !!user?.is_sys_admin && assignments === 0;
  const roleId = isSysAdmin ? null : roleIdFor(state.db, userId, app);
  const role = roleId === null ? null : loadRole(state.db, roleId);
  return {
    session: {
      userId,
      user: user ? publicUser(user) : null,
      isSysAdmin,
      appId: app ? Number(app.id) : null,
      roleId: role ? role.id : null,
      roleName: role ? role.name : null,
    },
    token: creds.token,
    claims,
    user,
    apiKey: creds.apiKey,
    app,
    role,
  };
}

function publicUser(u: Row): Row {
  return {
    id: Number(u.id),
    name: u.name,
    first_name: u.first_name,
    last_name: u.last_name,
    email: u.email,
    username: u.username,
    is_sys_admin: !!u.is_sys_admin,
    is_active: !!u.is_active,
  };
}

function payload(
  state: AuthState,
  user: Row,
  token: string,
  role: LoadedRole | null,
  exp?: number,
): Row {
  const out: Row = {
    session_token: token,
    session_id: token,
    id: Number(user.id),
    name: user.name,
    first_name: user.first_name,
    last_name: user.last_name,
    email: user.email,
    is_sys_admin: !!user.is_sys_admin,
    last_login_date: user.last_login_date ?? null,
    host: state.host,
    // Login and refresh report the new token's expiry; GET reports now + TTL, as DreamFactory.
    token_expiry_date: sqlDateTime(new Date(exp ? exp * 1000 : Date.now() + state.jwtTtl * 1000)),
  };
  if (role) {
    out.role = role.name;
    out.role_id = role.id;
  }
  return out;
}

function field(body: unknown, name: string): unknown {
  return body && typeof body === "object" ? (body as Row)[name] : undefined;
}

/**
 * `system/admin/session` (`admin: true`) and `user/session`: POST login, GET current session,
 * PUT refresh, DELETE logout.
 */
export function sessionResource(
  state: AuthState,
  admin: boolean,
  method: string,
  body: unknown,
  caller: Caller,
  iss: string,
  serviceParam?: string,
): Response {
  const db = state.db;
  // UserSessionResource::getOAuthServiceName: `service` in the body, else the query, names an
  // OAuth or LDAP login service. The sandbox has none: an unknown name is ServiceManager's 404,
  // any other service the resource's 400. (The admin login never looks; its GET only after the
  // session checks.)
  const oauth = () => {
    const name = field(body, "service") ?? serviceParam;
    if (phpEmpty(name)) return;
    if (!stmt(db, `SELECT 1 FROM service WHERE name = ?`).get(String(name))) {
      throw new DfError(404, `Could not find a service for ${name}`);
    }
    throw new DfError(
      400,
      method === "GET"
        ? "Invalid login service provided. Please use an OAuth service."
        : "Invalid login service provided. Please use an OAuth or AD/Ldap service.",
    );
  };
  if (!admin && (method === "POST" || method === "GET")) oauth();
  if (method === "POST") {
    const email = field(body, "email");
    const password = field(body, "password");
    // UserSessionResource::handleLogin tests both with PHP's empty() ("0" and 0 included).
    if (phpEmpty(email)) throw new DfError(400, "Login request is missing required email.");
    if (phpEmpty(password)) throw new DfError(400, "Login request is missing required password.");
    const user = stmt(
      db,
      `SELECT * FROM user WHERE email = ? AND is_sys_admin = ? AND is_active = 1`,
    ).get(String(email), admin ? 1 : 0) as Row | undefined;
    if (!user || !verifyPassword(String(password), user.password)) {
      throw new DfError(401, "Invalid credentials supplied.");
    }
    const roleId = roleIdFor(db, Number(user.id), caller.app);
    const role = roleId === null ? null : loadRole(db, roleId);
    if (role && !role.isActive) throw new DfError(403, "Role is not active.");
    const now = sqlDateTime();
    // Session::authenticate: a login confirms the account with confirm_code 'y'.
    stmt(
      db,
      `UPDATE user SET last_login_date = ?, last_modified_date = ?, confirm_code = 'y' WHERE id = ?`,
    ).run(now, now, Number(user.id));
    user.last_login_date = now;
    const { token, claims: issued } = issueToken(
      db,
      state.secret,
      { id: Number(user.id), email: String(user.email) },
      state.jwtTtl,
      iss,
    );
    const isAdmin = !!user.is_sys_admin &&
      !stmt(db, `SELECT 1 FROM user_to_app_to_role WHERE user_id = ?`).get(Number(user.id));
    return json(payload(state, user, token, isAdmin ? null : role, issued.exp));
  }
  if (method === "GET") {
    if (!caller.user || !caller.token) {
      if (admin) throw new DfError(404, "No user session found.");
      throw new DfError(401, "There is no valid session for the current request.");
    }
    if (admin && !caller.user.is_sys_admin) {
      throw new DfError(401, "You are not authorized to perform this action.");
    }
    if (admin) oauth();
    return json(payload(state, caller.user, caller.token, caller.role));
  }
  if (method === "PUT") {
    // JWTUtilities::refreshToken: JWTAuth::setToken(Session::getSessionToken()) builds a Token
    // first, whose TokenValidator counts explode('.', $token) segments (a null token has one);
    // the JWTException becomes 401 'Token refresh failed. <message>'.
    if (!caller.token || caller.token.split(".").length !== 3) {
      throw new DfError(401, "Token refresh failed. Wrong number of segments");
    }
    let claims: TokenClaims;
    try {
      claims = decodeToken(caller.token, state.secret);
    } catch (e) {
      throw new DfError(
        401,
        `Token refresh failed. ${(e as Error).message.replace(/^Invalid token: /, "")}`,
      );
    }
    const now = Math.floor(Date.now() / 1000);
    if (isBlacklisted(db, claims.jti)) {
      throw new DfError(401, "Token refresh failed. The token has been blacklisted");
    }
    if (claims.iat + state.jwtRefreshTtl < now) {
      throw new DfError(
        401,
        "Token refresh failed. Token has expired and can no longer be refreshed",
      );
    }
    const user = stmt(db, `SELECT * FROM user WHERE id = ?`).get(claims.user_id) as
      | Row
      | undefined;
    if (!user || subjectOf(String(user.email)) !== claims.sub) {
      throw new DfError(401, "Token refresh failed. User verification failed.");
    }
    if (!user.is_active) throw new DfError(403, "User is not active.");
    blacklist(db, claims.jti, claims.iat + state.jwtRefreshTtl);
    const { token, claims: fresh } = issueToken(
      db,
      state.secret,
      { id: Number(user.id), email: String(user.email) },
      state.jwtTtl,
      iss,
      claims.iat,
    );
    const roleId = roleIdFor(db, Number(user.id), caller.app);
    const isAdmin = !!user.is_sys_admin &&
      !stmt(db, `SELECT 1 FROM user_to_app_to_role WHERE user_id = ?`).get(Number(user.id));
    return json(
      payload(
        state,
        user,
        token,
        isAdmin || roleId === null ? null : loadRole(db, roleId),
        fresh.exp,
      ),
    );
  }
  if (method !== "DELETE") throw unhandledVerb(method);
  if (caller.token) {
    try {
      const claims = decodeToken(caller.token, state.secret);
      blacklist(db, claims.jti, claims.iat + state.jwtRefreshTtl);
    } catch { /* an unreadable token is simply gone */ }
  }
  return json({ success: true });
}

const PROFILE_FIELDS = [
  "username",
  "first_name",
  "last_name",
  "name",
  "email",
  "phone",
  "security_question",
  "default_app_id",
];

/** `user/profile` and `system/admin/profile`: GET and POST/PUT/PATCH of the caller's profile. */
export function profileResource(
  state: AuthState,
  method: string,
  body: unknown,
  caller: Caller,
  iss: string,
): Response {
  const user = caller.user;
  if (method === "GET") {
    if (!user) throw new DfError(401, "There is no valid session for the current request.");
    const out: Row = {};
    for (const f of PROFILE_FIELDS) {
      out[f] = f === "default_app_id" && user[f] !== null ? Number(user[f]) : user[f] ?? null;
    }
    out.oauth_provider = "";
    out.adldap = "";
    return json(out);
  }
  if (
    body === null || body === undefined || body === "" ||
    (typeof body === "object" && Object.keys(body as object).length === 0)
  ) {
    throw new DfError(400, "No data supplied for operation.");
  }
  if (!user) throw new DfError(404, "No user session found.");
  // UserProfileResource::handlePOST: the listed fields that are not null, then $user->update()
  // (User's $rules; a new email needs the current password first).
  const b = (body && typeof body === "object" && !Array.isArray(body) ? body : {}) as Row;
  const changes: Row = {};
  for (const f of [...PROFILE_FIELDS, "security_answer"]) {
    if (b[f] !== undefined && b[f] !== null) changes[f] = b[f];
  }
  const email = changes.email;
  const emailChanged = !phpEmpty(email) && email !== user.email;
  if (emailChanged) {
    if (phpEmpty(b.current_password)) {
      throw new DfError(400, "Current Password required to change email");
    }
    if (!verifyPassword(String(b.current_password), user.password)) {
      throw new DfError(400, "The password supplied does not match.");
    }
  }
  const attrs: Row = { ...user, ...changes };
  // User::save: an empty username is the email (login attribute `email`).
  if (attrs.username === null || attrs.username === undefined || attrs.username === "") {
    changes.username = attrs.username = attrs.email;
  }
  validateUser({ db: state.db }, attrs, user.id);
  if ("security_answer" in changes) {
    changes.security_answer = hashPassword(String(changes.security_answer));
  }
  const values = (v: unknown) =>
    (typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "object" ? JSON.stringify(v) : v) as
      | string
      | number;
  const keys = Object.keys(changes);
  if (keys.length) {
    const sql = `update "user" set ${
      keys.map((k) => `"${k}" = ?`).join(", ")
    }, "last_modified_date" = ?, "last_modified_by_id" = ? where "id" = ?`;
    const args = [
      ...keys.map((k) => values(changes[k])),
      sqlDateTime(),
      Number(user.id),
      Number(user.id),
    ];
    run(state.db, sql, args as SqlValue[]); // SQLite errors become DreamFactory's
  }
  return success(
    state,
    iss,
    emailChanged ? { id: Number(user.id), email: String(changes.email) } : undefined,
  );
}

/** A confirmation code like DreamFactory's (32 letters and digits). */
function confirmationCode(): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (x) => alphabet[x % alphabet.length]).join("");
}

/**
 * `user/password` and `system/admin/password`, in the order of df-system's
 * UserPasswordResource::handlePOST: change with `old_password` (signed in), else `reset=true`,
 * else a confirmation `code`, else a `security_answer`.
 */
export function passwordResource(
  state: AuthState,
  admin: boolean,
  body: unknown,
  caller: Caller,
  login: boolean,
  reset: boolean,
  iss: string,
  revokeUsers: (ids: number[]) => void,
): Response {
  const b = (body && typeof body === "object" ? body : {}) as Row;
  const db = state.db;
  const allowed = (user: Row) => {
    if (!!user.is_sys_admin !== admin) {
      throw new DfError(
        401,
        `You are not authorized to reset/change password for the account ${user.email}`,
      );
    }
  };
  const byEmail = (email: unknown) =>
    stmt(db, `SELECT * FROM user WHERE email = ?`).get(String(email)) as Row | undefined;
  const done = (user: Row, next: string) => {
    // User::setPasswordAttribute clears a pending code (set and not 'y'); login=true then goes
    // through Session::authenticate, which stamps the login and confirms with 'y'.
    const pending = user.confirm_code !== null && user.confirm_code !== "y";
    const now = sqlDateTime();
    stmt(
      db,
      `UPDATE user SET password = ?, last_modified_date = ?${
        pending ? ", confirm_code = NULL" : ""
      } WHERE id = ?`,
    ).run(hashPassword(next), now, Number(user.id));
    if (login) {
      stmt(db, `UPDATE user SET last_login_date = ?, confirm_code = 'y' WHERE id = ?`)
        .run(now, Number(user.id));
    }
    revokeUsers([Number(user.id)]);
    return success(
      state,
      iss,
      login ? { id: Number(user.id), email: String(user.email) } : undefined,
    );
  };
  const noEmail = "Missing required email for password reset confirmation.";

  if (!phpEmpty(b.old_password) && caller.user) {
    const user = caller.user;
    allowed(user);
    if (phpEmpty(b.new_password)) {
      throw new DfError(400, "Both old and new password are required to change the password.");
    }
    if (!verifyPassword(String(b.old_password), user.password)) {
      throw new DfError(400, "The password supplied does not match.");
    }
    return done(user, String(b.new_password));
  }
  if (reset) {
    if (phpEmpty(b.email)) throw new DfError(400, noEmail);
    const user = byEmail(b.email);
    // DreamFactory answers an unknown address like a known one (no account discovery).
    if (!user) return json({ success: true });
    allowed(user);
    if (user.security_question) return json({ security_question: user.security_question });
    // passwordReset: `$user->confirm_code = ...; $user->save()`, which stamps
    // last_modified_date (the code's age, as isConfirmationExpired reads it).
    stmt(db, `UPDATE user SET confirm_code = ?, last_modified_date = ? WHERE id = ?`).run(
      confirmationCode(),
      sqlDateTime(),
      Number(user.id),
    );
    // The code would go out by e-mail; no email service is configured (as on a fresh install).
    throw new DfError(
      500,
      "No security question found or email confirmation available for this user. Please contact your administrator.",
    );
  }
  if (!phpEmpty(b.code)) {
    if (phpEmpty(b.email)) throw new DfError(400, noEmail);
    if (phpEmpty(b.new_password)) throw new DfError(400, "Missing new password for reset.");
    const code = String(b.code);
    if (code === "y") throw new DfError(400, "Invalid confirmation code.");
    if (!/^[\x20-\x7e]+$/.test(code) || code.length !== 32) {
      throw new DfError(400, "Invalid confirmation code format.");
    }
    const user = byEmail(b.email);
    if (!user || user.confirm_code !== code) {
      throw new DfError(
        404,
        "The supplied email and/or confirmation code were not found in the system.",
      );
    }
    allowed(user);
    // changePasswordByCode sets confirm_code to null before the password.
    user.confirm_code = null;
    stmt(db, `UPDATE user SET confirm_code = NULL WHERE id = ?`).run(Number(user.id));
    return done(user, String(b.new_password));
  }
  if (!phpEmpty(b.security_answer)) {
    if (phpEmpty(b.email)) throw new DfError(400, noEmail);
    if (phpEmpty(b.new_password)) throw new DfError(400, "Missing new password for reset.");
    const user = byEmail(b.email);
    if (!user) {
      throw new DfError(
        404,
        "The supplied email and confirmation code were not found in the system.",
      );
    }
    allowed(user);
    if (!user.security_answer || !verifyPassword(String(b.security_answer), user.security_answer)) {
      throw new DfError(400, "The answer supplied does not match.");
    }
    return done(user, String(b.new_password));
  }
  throw new DfError(400, "Not enough information provided to change password.");
}

/** A value as PHP's string conversion shows it where a string argument is required: an array
 * (JSON object or list) is a TypeError, which DreamFactory answers as a 500. */
function phpString(v: unknown, fn: string): string {
  if (v !== null && typeof v === "object") {
    throw new DfError(
      500,
      `${fn}(): Argument #2 ($string) must be of type string, array given`,
    );
  }
  return strval(v);
}

/**
 * `user/register`, as df-user Resources/Register::handlePOST and df-core Registrar do: names are
 * derived from the email (a PHP warning, 500, when it has no "@" and no first name is given),
 * Registrar::validator runs before the open-registration check, then User::create and the
 * password (no confirm code), the open-registration role for every app, and with login=true a
 * session token.
 */
export function registerResource(
  state: AuthState,
  body: unknown,
  login: boolean,
  iss: string,
  minPassword: number,
): Response {
  const db = state.db;
  const svc = stmt(db, `SELECT config FROM service WHERE name = 'user'`).get() as Row | undefined;
  let config: Row = {};
  try {
    config = JSON.parse(String(svc?.config ?? "{}")) ?? {};
  } catch { /* none */ }
  const b = (body && typeof body === "object" && !Array.isArray(body) ? body : {}) as Row;
  const get = (k: string) => (k in b ? b[k] : null);
  const password = "new_password" in b ? b.new_password : get("password");
  const data: Row = {
    first_name: get("first_name"),
    last_name: get("last_name"),
    name: get("name"),
    email: get("email"),
    phone: get("phone"),
    security_question: get("security_question"),
    security_answer: get("security_answer"),
    password,
    password_confirmation: "password_confirmation" in b ? b.password_confirmation : password,
  };
  if (phpEmpty(data.first_name)) {
    // list($username, $domain) = explode('@', $email): no "@" is an "Undefined array key 1"
    // warning, which Laravel turns into an exception.
    const parts = phpString(data.email, "explode").split("@");
    if (parts.length < 2) throw new DfError(500, "Undefined array key 1");
    data.first_name = parts[0];
  }
  if (phpEmpty(data.last_name)) {
    const names = phpString(data.first_name, "explode").split(".");
    if (names.length > 1) {
      data.last_name = names[1];
      data.first_name = names[0];
    } else data.last_name = names[0];
  }
  if (phpEmpty(data.name)) {
    data.name = `${phpString(data.first_name, "explode")} ${phpString(data.last_name, "explode")}`;
  }
  for (const k of Object.keys(data)) if (data[k] === null) delete data[k];

  // Registrar::validator, with Laravel's messages; a failed `required` stops that attribute.
  const errors: Record<string, string[]> = {};
  const add = (k: string, m: string) => (errors[k] ??= []).push(m);
  const present = (v: unknown) =>
    v !== undefined && v !== null && !(typeof v === "string" && v === "");
  const text = (v: unknown) => [...String(v)].length;
  for (const k of ["name", "first_name", "last_name"]) {
    if (!filled(data[k])) add(k, `The ${k.replace("_", " ")} field is required.`);
    else if (k === "name" && text(data.name) > 255) {
      add(k, "The name field must not be greater than 255 characters.");
    }
  }
  if (!filled(data.email)) add("email", "The email field is required.");
  else {
    const email = String(data.email);
    if (typeof data.email !== "string" || !EMAIL.test(email)) {
      add("email", "The email field must be a valid email address.");
    }
    if (text(email) > 255) add("email", "The email field must not be greater than 255 characters.");
    if (stmt(db, `SELECT 1 FROM user WHERE email = ?`).get(email)) {
      add("email", "The email has already been taken.");
    }
  }
  if (!config.open_reg_email_service_id) {
    if (!filled(data.password)) add("password", "The password field is required.");
    else {
      if (!present(data.password_confirmation) || data.password_confirmation !== data.password) {
        add("password", "The password field confirmation does not match.");
      }
      if (text(data.password) < minPassword) {
        add("password", `The password field must be at least ${minPassword} characters.`);
      }
    }
  }
  if (Object.keys(errors).length) throw new DfError(400, "Validation failed", { context: errors });

  if (!config.allow_open_registration) throw new DfError(403, "Open Registration is not enabled.");
  const now = sqlDateTime();
  const str = (v: unknown) => (v === undefined ? null : String(v));
  // Registrar::create: User::create, then the password (no confirm code: not 'y' either).
  const res = stmt(
    db,
    `INSERT INTO user (name, first_name, last_name, email, username, phone, security_question, security_answer, password, is_active, confirm_code, created_date, last_modified_date)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 1, NULL, ?, ?)`,
  ).run(
    String(data.name),
    str(data.first_name),
    str(data.last_name),
    String(data.email),
    String(data.email),
    str(data.phone),
    str(data.security_question),
    phpEmpty(data.security_answer) ? null : hashPassword(String(data.security_answer)),
    phpEmpty(data.password) ? null : hashPassword(String(data.password)),
    now,
    now,
  );
  const userId = Number(res.lastInsertRowid);
  const roleId = config.open_reg_role_id;
  if (roleId) {
    // User::applyDefaultUserAppRole: every app the user has no row for yet.
    for (const app of stmt(db, `SELECT id FROM app`).all() as Row[]) {
      stmt(db, `INSERT INTO user_to_app_to_role (user_id, app_id, role_id) VALUES (?, ?, ?)`)
        .run(userId, Number(app.id), Number(roleId));
    }
  }
  return success(state, iss, login ? { id: userId, email: String(data.email) } : undefined);
}

/** `{"success": true}`, with a new session token for `user` when one is given (`login=true`, or
 * an email change, which DreamFactory answers with a token for the new address). */
function success(state: AuthState, iss: string, user?: { id: number; email: string }): Response {
  if (!user) return json({ success: true });
  const { token } = issueToken(state.db, state.secret, user, state.jwtTtl, iss);
  return json({ success: true, session_token: token });
}
