/**
 * The sandbox's HTTP front: URL layout, verb tunnelling, CORS, credentials and token errors
 * (before any routing), role checks, limits, then dispatch to the system resources, the user
 * service or a database service handler.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { checkLimits, limitCacheResource, LimitExceededError } from "./limits.ts";
import {
  cleanQuery,
  DfError,
  errorResponse,
  json,
  NO_RECORDS_MESSAGE,
  phpEmpty,
  readPayload,
  toBool,
  wrap,
} from "./http.ts";
import { type CallContext, RecordEngine, type SandboxHooks } from "./records.ts";
import { accessDenied, componentOf, grantFor, touchesService, VERB_BITS } from "./rbac.ts";
import { revokeUserTokens } from "./auth.ts";
import {
  type AuthState,
  type Caller,
  isSessionPath,
  passwordResource,
  profileResource,
  registerResource,
  resolveCaller,
  sessionResource,
} from "./session.ts";
import { HANDLED_TYPES, serviceRecord, type ServiceRegistry } from "./services.ts";
import { maskToVerbs } from "./system/cors.ts";
import { userDescriptor } from "./system/user.ts";
import { roleDescriptor } from "./system/role.ts";
import { appDescriptor } from "./system/app.ts";
import { serviceDescriptor } from "./system/service.ts";
import { lookupDescriptor } from "./system/lookup.ts";
import { corsDescriptor } from "./system/cors.ts";
import { emailTemplateDescriptor } from "./system/email_template.ts";
import { limitDescriptor } from "./system/limit.ts";
import { eventScriptDescriptor } from "./system/event_script.ts";
import { customDescriptor } from "./system/custom.ts";
import { SERVICE_TYPES, serviceTypeResource } from "./system/service_type.ts";
import { environmentResource } from "./system/environment.ts";
import type { AccessGrant, RequestContext } from "./types.ts";
import { stmt } from "./statements.ts";
import { strval } from "../php.ts";
import { checkVerb, REST_VERBS } from "./verbs.ts";

type Row = Record<string, unknown>;

/** System resources served by the generic record engine. */
const ENGINES: Record<string, RecordEngine> = Object.fromEntries(
  [
    userDescriptor(true),
    userDescriptor(false),
    roleDescriptor,
    appDescriptor,
    serviceDescriptor,
    lookupDescriptor,
    corsDescriptor,
    emailTemplateDescriptor,
    limitDescriptor,
    eventScriptDescriptor,
    customDescriptor,
  ].map((d) => [d.name, new RecordEngine(d)]),
);

/** Names listed by `GET /api/v2/system`: what the sandbox serves under `system/`. */
const SYSTEM_RESOURCES = [
  "admin",
  "admin/password",
  "admin/profile",
  "admin/session",
  "app",
  "cache",
  "constant",
  "cors",
  "custom",
  "email_template",
  "environment",
  "event",
  "event_script",
  "limit",
  "limit_cache",
  "lookup",
  "role",
  "service",
  "service_type",
  "user",
];
const USER_RESOURCES = ["password", "profile", "register", "session"];
const ADMIN_RESOURCES = new Set(["session", "profile", "password"]);

/** Calls every role may make without a grant (service type, component, verbs). */
const ACCESS_EXCEPTIONS: [string, string, string[] | "*"][] = [
  ["system", "environment", ["GET"]],
  ["system", "admin/session", "*"],
  ["system", "admin/password", ["POST", "PUT", "PATCH"]],
  ["user", "session", "*"],
  ["user", "password", ["POST", "PUT", "PATCH"]],
  ["user", "register", ["POST", "PUT", "PATCH"]],
  ["user", "profile", ["GET", "POST", "PUT", "PATCH"]],
];

// DreamFactory's Session::getServicePermissions gives admins GET|POST|PUT|PATCH|DELETE only.
const ALL_VERBS = 31;

/** Settings of a running sandbox core. */
export interface CoreOptions {
  db: DatabaseSync;
  auth: AuthState;
  registry: ServiceRegistry;
  /** Record cap of system resources. */
  maxRecords: number;
  /** Shortest password accepted on user and admin records. */
  passwordMinLength: number;
  /** Base URL, once listening. */
  origin: () => string;
}

/** Answers HTTP requests like DreamFactory 7. */
export class SandboxCore {
  readonly hooks: SandboxHooks;

  constructor(private readonly o: CoreOptions) {
    this.hooks = {
      revokeUsers: (ids) => revokeUserTokens(o.db, ids, o.auth.jwtRefreshTtl),
      serviceChanged: (id) => o.registry.markDirty(id),
    };
  }

  /** Handles one request; never throws. */
  async handle(req: Request, remote = "127.0.0.1"): Promise<Response> {
    // Query values as Laravel's TrimStrings middleware leaves them for DreamFactory.
    const url = cleanQuery(new URL(req.url));
    let res: Response;
    try {
      res = await this.route(req, url, remote);
    } catch (e) {
      res = errorResponse(e);
    }
    return this.withCors(req, url, res);
  }

  private corsRule(req: Request, url: URL): Row | undefined {
    const origin = req.headers.get("origin");
    if (!origin) return undefined;
    const rules = stmt(this.o.db, `SELECT * FROM cors_config WHERE enabled = 1 ORDER BY id`)
      .all() as Row[];
    const path = url.pathname.replace(/^\/+/, "");
    return rules.find((r) => {
      const p = String(r.path).replace(/^\/+/, "");
      const pathOk = p === "*" || p === path ||
        (p.endsWith("*") && path.startsWith(p.slice(0, -1)));
      const origins = String(r.origin).split(",").map((s) => s.trim());
      return pathOk && (origins.includes("*") || origins.includes(origin));
    });
  }

  private withCors(req: Request, url: URL, res: Response): Response {
    const rule = this.corsRule(req, url);
    if (!rule) return res;
    const h = new Headers(res.headers);
    h.set(
      "Access-Control-Allow-Origin",
      String(rule.origin) === "*" ? "*" : req.headers.get("origin")!,
    );
    h.set("Access-Control-Allow-Methods", maskToVerbs(rule.method).join(", "));
    if (rule.header) h.set("Access-Control-Allow-Headers", String(rule.header));
    if (rule.exposed_header) h.set("Access-Control-Expose-Headers", String(rule.exposed_header));
    h.set("Access-Control-Max-Age", String(rule.max_age ?? 3600));
    if (rule.supports_credentials) h.set("Access-Control-Allow-Credentials", "true");
    h.append("Vary", "Origin");
    return new Response(res.body, { status: res.status, headers: h });
  }

  private async route(req: Request, url: URL, remote: string): Promise<Response> {
    const segments = url.pathname.split("/").map(decodeSegment).filter((s) =>
      s !== "" && s !== ".."
    );
    if (segments[0] !== "api") return notFoundPage();
    let rest = segments.slice(1);
    if (rest[0] && /^v[0-9.]+$/.test(rest[0])) rest = rest.slice(1);
    else if (segments.length === 1) rest = [];

    // Verb tunnelling (POST only), then MERGE -> PATCH.
    let method = req.method.toUpperCase();
    if (method === "POST") {
      const over = req.headers.get("x-http-method") ?? req.headers.get("x-method-override") ??
        url.searchParams.get("method") ?? req.headers.get("x-http-method-override") ??
        url.searchParams.get("_method");
      if (over) method = over.toUpperCase();
    }
    if (method === "MERGE") method = "PATCH";
    if (method === "OPTIONS") {
      if (this.corsRule(req, url)) return new Response(null, { status: 200 });
      return new Response("Method not allowed", {
        status: 405,
        headers: { "Content-Type": "text/html; charset=UTF-8" },
      });
    }
    const head = method === "HEAD";
    if (head) method = "GET";
    if (!REST_VERBS.includes(method)) {
      throw new DfError(405, `The ${method} method is not supported.`);
    }

    const payload = req.body ? await readPayload(req) : undefined;
    const bodyField = (name: string): unknown =>
      payload && typeof payload === "object" && !Array.isArray(payload)
        ? (payload as Row)[name]
        : undefined;
    const serviceName = (rest[0] ?? "").toLowerCase();
    const resource = rest.slice(1).join("/");

    // Credentials, and token errors before any routing.
    const q = url.searchParams;
    const h = req.headers;
    const isAppPath = url.pathname.includes("system/app");
    const apiKey = q.get("api_key") ?? h.get("x-dreamfactory-api-key") ??
      (isAppPath ? undefined : strOrUndef(bodyField("api_key"))) ?? undefined;
    const auth = h.get("authorization") ?? "";
    let token = auth.includes("Bearer") ? auth.slice(7).trim() : undefined;
    token ??= h.get("x-dreamfactory-session-token") ?? q.get("session_token") ??
      strOrUndef(bodyField("session_token"));
    const sessionPath = isSessionPath(url.pathname);
    if (sessionPath && method === "POST") token = undefined;
    let basic: { email: string; password: string } | undefined;
    if (!token && /^basic /i.test(auth)) {
      let decoded = "";
      try {
        decoded = atob(auth.slice(6).trim());
      } catch {
        throw new DfError(401, "Invalid credentials supplied.");
      }
      const [email, ...pw] = decoded.split(":");
      basic = { email, password: pw.join(":") };
    }
    const caller = resolveCaller(
      this.o.auth,
      { token: token || undefined, apiKey: apiKey || undefined, basic },
      !(sessionPath && (method === "PUT" || method === "PATCH")),
    );

    const option = (name: string, ...aliases: string[]): string | undefined => {
      for (const n of [name, ...aliases]) {
        const v = q.get(n);
        if (v !== null) return v;
      }
      for (const n of [name, ...aliases]) {
        const v = bodyField(n);
        if (v !== undefined && v !== null) {
          return typeof v === "object" ? JSON.stringify(v) : String(v);
        }
      }
      return undefined;
    };
    const flag = (name: string, ...aliases: string[]) => toBool(option(name, ...aliases));

    if (!serviceName) {
      checkVerb("", method);
      return this.rootListing(caller, option);
    }

    const service = stmt(this.o.db, `SELECT * FROM service WHERE name = ?`).get(serviceName) as
      | Row
      | undefined;
    const component = componentOf(resource);

    // Role check (sys-admins bypass), then limits.
    if (!caller.session.isSysAdmin) {
      const allowed = service && this.allowed(caller, service, component, method);
      if (!allowed) {
        throw accessDenied(
          caller.session,
          caller.role,
          !!caller.apiKey,
          !!caller.token,
          method,
          serviceName,
          component,
        );
      }
      const limited = checkLimits(this.o.db, {
        session: caller.session,
        service: serviceName,
        resource,
        method,
        now: Date.now(),
      });
      if (limited) {
        return limited instanceof LimitExceededError
          ? limited.toResponse()
          : errorResponse(limited);
      }
    }
    if (!service) throw new DfError(404, `Could not find a service for ${serviceName}`);
    if (!service.is_active) throw new DfError(403, `Service ${service.name} is deactivated.`);

    let lookups: Record<string, string> | undefined;
    const computeLookups = () => lookups ??= this.lookups(caller);
    const ctx: CallContext = {
      db: this.o.db,
      userId: caller.session.userId,
      option,
      flag,
      maxRecords: this.o.maxRecords,
      passwordMinLength: this.o.passwordMinLength,
      // Computed on first use: most requests carry no filter.
      get lookups() {
        return computeLookups();
      },
      origin: this.o.origin(),
      hooks: this.hooks,
    };
    const iss = this.o.origin() + url.pathname;
    let res: Response;
    if (service.type === "system") {
      try {
        res = this.system(ctx, caller, method, rest.slice(1), payload, iss, url, remote, req);
      } finally {
        // Service handlers follow their rows only once the write committed or rolled back.
        this.o.registry.flush();
      }
      const [name, id] = rest.slice(1);
      if (
        (name === "user" || name === "admin") && ["POST", "PUT", "PATCH"].includes(method) &&
        res.status < 300 && ctx.flag("send_invite")
      ) {
        res = await sendInvites(ctx.db, res, name === "admin", method === "POST", id !== undefined);
      }
    } else if (service.type === "user") {
      res = this.userService(ctx, caller, method, rest.slice(1), payload, iss);
    } else if (HANDLED_TYPES.has(String(service.type))) {
      res = await this.dbService(req, url, ctx, caller, method, service, resource, payload);
    } else if (SERVICE_TYPES.some((t) => t.name === service.type)) {
      throw new DfError(501, `Service type '${service.type}' is not implemented by the sandbox.`);
    } else {
      // ServiceManager::makeService: no type registered under the stored name.
      throw new DfError(500, `Unsupported service type '${service.type}'.`);
    }
    return head ? new Response(null, { status: res.status, headers: res.headers }) : res;
  }

  /** True when the caller's role (or an access exception) allows the call. */
  private allowed(caller: Caller, service: Row, component: string, method: string): boolean {
    for (const [type, comp, verbs] of ACCESS_EXCEPTIONS) {
      if (
        service.type === type && component === comp && (verbs === "*" || verbs.includes(method))
      ) {
        return true;
      }
    }
    const role = caller.role;
    if (!role || !role.isActive) return false;
    const bit = VERB_BITS[method] ?? 0;
    const grant = grantFor(role.rules, Number(service.id), component);
    if (grant && (grant.verbMask & bit)) return true;
    // df-core's AccessCheck falls back for the schema listing only, not for `_schema/<table>`.
    if (method === "GET" && component === "_schema") {
      return role.rules.some((r) => r.serviceId === Number(service.id) && (r.verbMask & 1));
    }
    return false;
  }

  private grant(
    caller: Caller,
    serviceId: number,
    component: string,
    method: string,
  ): AccessGrant | null {
    if (caller.session.isSysAdmin) return { verbMask: ALL_VERBS, filters: [], filterOp: "AND" };
    if (!caller.role || !caller.role.isActive) return null;
    return grantFor(caller.role.rules, serviceId, componentOf(component), method);
  }

  private lookups(caller: Caller): Record<string, string> {
    const out: Record<string, string> = {};
    const db = this.o.db;
    const add = (rows: Row[]) => {
      for (const r of rows) out[String(r.name)] = String(r.value ?? "");
    };
    add(
      stmt(
        db,
        `SELECT name, value FROM lookup WHERE app_id IS NULL AND role_id IS NULL AND user_id IS NULL`,
      ).all() as Row[],
    );
    if (caller.app) {
      add(
        stmt(db, `SELECT name, value FROM lookup WHERE app_id = ?`).all(
          Number(caller.app.id),
        ) as Row[],
      );
    }
    if (caller.role) {
      add(
        stmt(db, `SELECT name, value FROM lookup WHERE role_id = ?`).all(caller.role.id) as Row[],
      );
    }
    const u = caller.user;
    if (u) {
      add(
        stmt(db, `SELECT name, value FROM lookup WHERE user_id = ?`).all(Number(u.id)) as Row[],
      );
      for (const k of ["id", "name", "username", "first_name", "last_name", "email", "phone"]) {
        out[`user.${k}`] = u[k] === null || u[k] === undefined ? "" : String(u[k]);
      }
      out["user.is_sys_admin"] = u.is_sys_admin ? "1" : "0";
    }
    if (caller.role) {
      out["role.id"] = String(caller.role.id);
      out["role.name"] = caller.role.name;
    }
    if (caller.app) {
      out["app.id"] = String(caller.app.id);
      out["app.name"] = String(caller.app.name);
      out["app.api_key"] = String(caller.app.api_key);
    }
    if (caller.token) out["session.token"] = caller.token;
    out["df.version"] = "7.0.0";
    return out;
  }

  /** Services the caller's role reaches (null for sys-admins: all of them). */
  private visibleServiceIds(caller: Caller): number[] | null {
    if (caller.session.isSysAdmin) return null;
    const role = caller.role;
    if (!role || !role.isActive) return [];
    const rows = stmt(this.o.db, `SELECT id FROM service ORDER BY id`).all() as Row[];
    return rows.map((r) => Number(r.id)).filter((id) => touchesService(role.rules, id));
  }

  private rootListing(caller: Caller, option: (n: string) => string | undefined): Response {
    const rows = stmt(this.o.db, `SELECT * FROM service WHERE is_active = 1 ORDER BY id`)
      .all() as Row[];
    const group = option("group")?.toLowerCase();
    const type = option("type")?.toLowerCase();
    const types = SERVICE_TYPES.filter((t) =>
      (!group || t.group.toLowerCase() === group) && (!type || t.name === type)
    );
    const typeNames = new Set(types.map((t) => t.name));
    const visible = this.visibleServiceIds(caller);
    const listed = rows.filter((r) => {
      if (!typeNames.has(String(r.type))) return false;
      return visible === null || visible.includes(Number(r.id));
    });
    const allowed = ["id", "name", "label", "description", "type"];
    const fieldsRaw = option("fields");
    const fields = fieldsRaw && fieldsRaw !== "*"
      ? fieldsRaw.split(",").map((s) => s.trim()).filter((f) => allowed.includes(f))
      : allowed;
    return json({
      services: listed.map((r) =>
        Object.fromEntries(fields.map((f) => [f, f === "id" ? Number(r.id) : r[f]]))
      ),
      service_types: types.map((t) => ({
        name: t.name,
        label: t.label,
        group: t.group,
        description: t.description,
      })),
    });
  }

  private serviceRoot(
    names: string[],
    components: string[],
    option: (n: string) => string | undefined,
  ): Response {
    if (toBool(option("as_access_list"))) return json(wrap(components));
    if (toBool(option("as_list"))) return json(wrap(names));
    return json(wrap(names.map((name) => ({ name }))));
  }

  private system(
    ctx: CallContext,
    caller: Caller,
    method: string,
    path: string[],
    payload: unknown,
    iss: string,
    url: URL,
    remote: string,
    req: Request,
  ): Response {
    const [name, id, ...more] = path;
    // system/admin/{session,profile,password} take no record id (nor 404 on a longer path).
    const adminResource = name === "admin" && ADMIN_RESOURCES.has(id ?? "");
    if (name && !adminResource && more.length) {
      throw new DfError(404, `Resource '${path.join("/")}' not found for service 'system'.`);
    }
    checkVerb(adminResource ? `system/admin/${id}` : name ? `system/${name}` : "system", method);
    if (!name) {
      return this.serviceRoot(
        SYSTEM_RESOURCES,
        ["", "*", ...SYSTEM_RESOURCES.flatMap((n) => [`${n}/`, `${n}/*`])],
        ctx.option,
      );
    }
    const state = this.o.auth;
    if (name === "admin" && id === "session") {
      return sessionResource(state, true, method, payload, caller, iss, ctx.option("service"));
    }
    if (name === "admin" && id === "profile") {
      return profileResource(state, method, payload, caller, iss);
    }
    if (name === "admin" && id === "password") {
      return passwordResource(
        state,
        true,
        payload,
        caller,
        ctx.flag("login"),
        ctx.flag("reset"),
        iss,
        this.hooks.revokeUsers,
      );
    }
    const engine = ENGINES[name];
    if (engine) return engine.handle(ctx, method, id, payload);
    switch (name) {
      case "service_type":
        return serviceTypeResource(ctx, id);
      case "environment":
        if (method !== "GET") throw environmentWrite(ctx, method, id, payload);
        return environmentResource(ctx, caller, req.headers.get("user-agent") ?? "", remote);
      case "limit_cache":
        return limitCacheResource(ctx.db, method, id, url.searchParams);
      case "cache":
        return this.cache(ctx, caller, method, id);
      case "constant":
      case "event":
        return json(wrap([]));
    }
    throw new DfError(404, `Resource '${name}' not found for service 'system'.`);
  }

  private cache(
    ctx: CallContext,
    caller: Caller,
    method: string,
    id: string | undefined,
  ): Response {
    if (method === "GET") {
      const rows = stmt(ctx.db, `SELECT id, name FROM service WHERE is_active = 1 ORDER BY id`)
        .all() as Row[];
      const visible = this.visibleServiceIds(caller);
      const names = rows.filter((r) => visible === null || visible.includes(Number(r.id)))
        .map((r) => ({ name: r.name }));
      return json(wrap(names));
    }
    // DELETE: verbs.ts lets no other verb through.
    if (id !== undefined && id !== "_event") {
      const svc = stmt(ctx.db, `SELECT id FROM service WHERE name = ?`).get(id.toLowerCase());
      if (!svc) throw new DfError(404, `Could not find a service for ${id}`);
    }
    return json({ success: true });
  }

  private userService(
    ctx: CallContext,
    caller: Caller,
    method: string,
    path: string[],
    payload: unknown,
    iss: string,
  ): Response {
    const [name, ...more] = path;
    const state = this.o.auth;
    if (name && more.length) {
      throw new DfError(404, `Resource '${path.join("/")}' not found for service 'user'.`);
    }
    checkVerb(name ? `user/${name}` : "user", method);
    if (!name) {
      return this.serviceRoot(USER_RESOURCES, [
        "",
        "*",
        ...USER_RESOURCES.flatMap((n) => [`${n}/`, `${n}/*`]),
      ], ctx.option);
    }
    switch (name) {
      case "session":
        return sessionResource(state, false, method, payload, caller, iss, ctx.option("service"));
      case "profile":
        return profileResource(state, method, payload, caller, iss);
      case "password":
        return passwordResource(
          state,
          false,
          payload,
          caller,
          ctx.flag("login"),
          ctx.flag("reset"),
          iss,
          this.hooks.revokeUsers,
        );
      case "register":
        return registerResource(
          state,
          payload,
          ctx.flag("login"),
          iss,
          this.o.passwordMinLength,
        );
    }
    throw new DfError(404, `Resource '${name}' not found for service 'user'.`);
  }

  private async dbService(
    req: Request,
    url: URL,
    ctx: CallContext,
    caller: Caller,
    method: string,
    service: Row,
    resource: string,
    payload: unknown,
  ): Promise<Response> {
    const handler = this.o.registry.handlerFor(service);
    const record = serviceRecord(service);
    if (
      !resource && method === "GET" && handler.accessComponents &&
      (toBool(ctx.option("as_access_list")))
    ) {
      return json(wrap(handler.accessComponents()));
    }
    const rc: RequestContext = {
      method,
      url,
      headers: req.headers,
      payload,
      service: record,
      resource: resource.replace(/\/+$/, ""),
      option: ctx.option,
      flag: ctx.flag,
      session: caller.session,
      access: (component: string) => this.grant(caller, record.id, component, method),
      get lookups() {
        return ctx.lookups;
      },
    };
    return await handler.handle(rc);
  }
}

function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

function strOrUndef(v: unknown): string | undefined {
  return typeof v === "string" && v !== "" ? v : undefined;
}

/**
 * df-system's Environment extends BaseSystemResource with no model (static::$model is null):
 * POST, PATCH (PUT is its alias) and DELETE run BaseSystemResource's handlers, which refuse what
 * they can before calling a method on the null class name, a PHP Error that Laravel answers
 * with its bare 500.
 */
function environmentWrite(
  ctx: CallContext,
  method: string,
  id: string | undefined,
  payload: unknown,
): DfError {
  const phpError = new DfError(500, "Server Error", { bare: true });
  // ResourcesWrapper::unwrapResources, then PHP's empty().
  const records = payload && typeof payload === "object" && !Array.isArray(payload) &&
      "resource" in payload
    ? (payload as Record<string, unknown>).resource
    : payload;
  const none = phpEmpty(records);
  const given = (k: string) => {
    const v = ctx.option(k);
    return v !== undefined && v !== "" && v !== "0";
  };
  switch (method) {
    case "POST":
      if (id) return new DfError(400, "Create record by identifier not currently supported.");
      return none ? new DfError(400, NO_RECORDS_MESSAGE) : phpError;
    case "PUT":
    case "PATCH":
      // updateById, or bulkUpdate/updateByIds/updateByFilter once records are there.
      return id || !none ? phpError : new DfError(400, NO_RECORDS_MESSAGE);
    default:
      // DELETE: deleteById, deleteByIds, bulkDelete, deleteByFilter or truncate (force).
      if (id || given("ids") || !none || given("filter") || ctx.flag("force")) return phpError;
      return new DfError(400, "No filter or records given for delete request.");
  }
}

function notFoundPage(): Response {
  return new Response("Not Found", {
    status: 404,
    headers: { "Content-Type": "text/html; charset=UTF-8" },
  });
}

/**
 * `send_invite=true` on system/user and system/admin, as df-system's
 * BaseUserResource::handleInvitation and sendInvite do after the write: an account already
 * confirmed is a 400; otherwise the invite needs an email service, which a fresh install (and
 * the sandbox, which sends no mail) does not have: 500, and on POST the new user is deleted.
 */
async function sendInvites(
  db: DatabaseSync,
  res: Response,
  admin: boolean,
  created: boolean,
  single: boolean,
): Promise<Response> {
  const body = await res.json() as Row | unknown[];
  // handleInvitation: a list (wrapped or not; `as_list` items are no records, so no id), else
  // the by-id record, which must carry its id.
  const list: unknown[] = Array.isArray(body)
    ? body
    : Array.isArray(body.resource)
    ? body.resource
    : single
    ? [body]
    : [];
  if (!Array.isArray(body) && single && phpEmpty(body.id)) {
    throw new DfError(500, "Invalid user id in response.");
  }
  const svc = stmt(db, `SELECT config FROM service WHERE name = ?`).get(
    admin ? "system" : "user",
  ) as Row | undefined;
  let config: Row = {};
  try {
    config = JSON.parse(String(svc?.config ?? "{}")) ?? {};
  } catch { /* none */ }
  const invite = (id: unknown): DfError => {
    const user = stmt(db, `SELECT id, confirm_code FROM user WHERE id = ?`).get(Number(id)) as
      | Row
      | undefined;
    if (!user) return new DfError(404, `User not found with id ${strval(id)}.`);
    if (String(user.confirm_code ?? "").toLowerCase() === "y") {
      return new DfError(400, "User with this identifier has already confirmed this account.");
    }
    const reason = !config.invite_email_service_id
      ? "No email service configured for user invite."
      : !config.invite_email_template_id
      ? "No default email template for user invite."
      : "The dfkit sandbox sends no email.";
    if (created) stmt(db, `DELETE FROM user WHERE id = ?`).run(Number(user.id));
    return new DfError(500, `Error processing user invite. ${reason}`);
  };
  const errors = list.map((r) => invite(r && typeof r === "object" ? (r as Row).id : null));
  if (errors.length === 1) throw errors[0];
  if (errors.length) {
    throw new DfError(500, "Not all users were created successfully. Check log for more details.");
  }
  return json(body, res.status);
}
