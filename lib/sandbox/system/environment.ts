/**
 * `system/environment` (GET, public): how to log in and which apps exist; with a session or an
 * app role also the platform, client and configuration sections.
 *
 * @module
 */
import { json } from "../http.ts";
import type { CallContext } from "../records.ts";
import type { Caller } from "../session.ts";
import { stmt } from "../statements.ts";
import { presentApp } from "./related.ts";

type Row = Record<string, unknown>;

/** Environment::makeAppInfo's `url`: the app's `launch_url` (App::getLaunchUrlAttribute). */
function launchUrl(ctx: CallContext, a: Row): unknown {
  const out: Row = {
    type: Number(a.type),
    path: a.path,
    url: a.url,
    storage_service_id: a.storage_service_id,
    storage_container: a.storage_container,
  };
  presentApp(a, out, ctx);
  return out.launch_url;
}

/** The environment document as DreamFactory 7 shows it. */
export function environmentResource(
  ctx: CallContext,
  caller: Caller,
  userAgent: string,
  remote: string,
): Response {
  const userSvc = stmt(ctx.db, `SELECT config FROM service WHERE name = 'user'`).get() as
    | Row
    | undefined;
  let userConfig: Row = {};
  try {
    userConfig = JSON.parse(String(userSvc?.config ?? "{}")) ?? {};
  } catch { /* none */ }
  const login = (path: string) => ({
    path,
    verb: "POST",
    payload: { email: "string", password: "string", remember_me: "bool" },
  });
  // Environment::getApps: active apps of a type other than "none"; an admin sees all of them,
  // a user those assigned to them or with a default role, anyone else only those with a role.
  const user = caller.user;
  const admin = !!user?.is_sys_admin;
  const assigned = user && !admin
    ? (stmt(
      ctx.db,
      `SELECT app_id FROM user_to_app_to_role WHERE user_id = ? AND role_id IS NOT NULL`,
    ).all(Number(user.id)) as Row[]).map((r) => Number(r.app_id))
    : [];
  const defaultAppId = user?.default_app_id ?? null;
  const apps = (stmt(ctx.db, `SELECT * FROM app WHERE is_active = 1 AND type != 0 ORDER BY id`)
    .all() as Row[])
    .filter((a) => (user && admin) || Number(a.role_id) > 0 || assigned.includes(Number(a.id)))
    .map((a) => ({
      id: Number(a.id),
      name: a.name,
      description: a.description,
      url: launchUrl(ctx, a),
      is_default: defaultAppId !== null && Number(defaultAppId) === Number(a.id),
      allow_fullscreen_toggle: !!a.allow_fullscreen_toggle,
      requires_fullscreen: !!a.requires_fullscreen,
      toggle_location: a.toggle_location,
    }));
  const out: Row = {
    authentication: {
      admin: login("system/admin/session"),
      user: login("user/session"),
      oauth: [],
      adldap: [],
      saml: [],
      allow_open_registration: !!userConfig.allow_open_registration,
      open_reg_email_service_id: userConfig.open_reg_email_service_id ?? null,
      allow_forever_sessions: false,
      login_attribute: "email",
    },
    apps,
  };
  if (caller.user || caller.role) {
    out.platform = {
      version: "6.3.0",
      bitnami_demo: false,
      is_hosted: false,
      is_trial: false,
      license: "OPEN SOURCE",
      secured_package_export: true,
      license_key: false,
    };
    // Administrator-only details (the recorded install's paths, log and cache settings are not
    // reproduced).
    if (admin) Object.assign(out.platform as Row, { db_driver: "sqlite", app_debug: false });
    out.client = { user_agent: userAgent, ip_address: remote, locale: "en" };
    out.config = {
      always_wrap_resources: true,
      resources_wrapper: "resource",
      db: {
        max_records_returned: ctx.maxRecords,
        time_format: null,
        date_format: null,
        datetime_format: null,
        timestamp_format: null,
      },
    };
  }
  return json(out);
}
