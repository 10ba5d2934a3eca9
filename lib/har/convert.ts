/**
 * HAR -> dfkit script: turns the DreamFactory calls a browser recorded (the admin console's
 * Network tab, "Save all as HAR") into a re-runnable Deno script or notebook in dfkit's fluent
 * style, without copying any credential.
 *
 * @module
 */

import { commentText, Expr, identifier, literal, str } from "./code.ts";
import {
  forEachSecret,
  isCredentialName,
  isSecretHeader,
  isSecretMember,
  parseForm,
  REDACTED,
  redactUrl,
  SECRET_QUERY_PARAMS,
} from "../secrets.ts";
import { type CheckedEntry, checkHar, HarError } from "./validate.ts";

/** Options of {@linkcode fromHar}. */
export interface FromHarOptions {
  /** Keep only `/api/v2/system/...` calls. */
  systemOnly?: boolean;
  /** Keep reads (GET) too; by default only calls that change something are kept. */
  all?: boolean;
  /** Emit a Jupyter notebook (`.ipynb` JSON for Deno's kernel) instead of a script. */
  notebook?: boolean;
  /** Module specifier the generated code imports `connect` from (default: this dfkit's mod.ts). */
  importFrom?: string;
  /** Connect with this profile instead of the DF_* environment variables. */
  profile?: string;
}

/** System resources that have a fluent builder (`df.system.<name>`). */
const SYSTEM_RESOURCES = new Set([
  "user",
  "admin",
  "role",
  "app",
  "service",
  "service_type",
  "lookup",
  "cors",
  "email_template",
  "limit",
  "event_script",
]);

/** Foreign-key fields whose values are ids of system records created earlier. */
const FOREIGN_KEYS: Record<string, string> = {
  role_id: "system/role",
  default_role_id: "system/role",
  user_id: "system/user",
  app_id: "system/app",
  default_app_id: "system/app",
  service_id: "system/service",
  storage_service_id: "system/service",
  limit_id: "system/limit",
};

/** Response fields carrying credentials the server issued. */
const ISSUED_CREDENTIALS = new Set([
  "session_token",
  "session_id",
  "api_key",
  "access_token",
  "refresh_token",
]);

/** Session endpoints: logging in/out is `connect()`'s job, never part of the script. */
function isSessionCall(seg: string[]): boolean {
  const p = seg.join("/");
  return p === "system/admin/session" || p === "user/session" || p === "system/admin/password" ||
    p === "user/password";
}

interface Binding {
  name: string;
  count: number;
  used: boolean;
}

interface Step {
  index: number;
  title: string;
  code: string | ((binding: Binding | undefined) => string);
  binding?: Binding;
}

const envSlug = (s: string) =>
  s.replace(/[^A-Za-z0-9]+/g, "_").replace(/^_+|_+$/g, "").toUpperCase();
/** An environment variable name from words (`["appid", "weather"]` -> `APPID_WEATHER`). */
const envName = (...parts: string[]) => {
  const name = parts.map(envSlug).filter(Boolean).join("_") || "SECRET";
  return /^\d/.test(name) ? `SECRET_${name}` : name; // a shell cannot set `1PW=...`
};

function parseJson(text: string | undefined): unknown {
  if (text === undefined || text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Records of a DreamFactory request/response body: `{resource:[...]}`, a bare array, or one. */
function recordsOf(body: unknown): Record<string, unknown>[] | undefined {
  if (Array.isArray(body)) return body as Record<string, unknown>[];
  if (body && typeof body === "object") {
    const r = (body as Record<string, unknown>).resource;
    if (Array.isArray(r)) return r as Record<string, unknown>[];
    return [body as Record<string, unknown>];
  }
  return undefined;
}

/** State shared across entries while converting one HAR. */
class Conversion {
  readonly steps: Step[] = [];
  readonly refs = new Map<string, { binding: Binding; position: number; owner: string }>();
  readonly names = new Set<string>(["df", "secret", "connect"]);
  /** Every credential seen in the recording, with a fallback env var name. */
  readonly secretValues = new Map<string, string>();
  /** Credentials already emitted as `secret(NAME)`, so one value always maps to one name. */
  readonly assigned = new Map<string, string>();
  readonly envVars = new Set<string>();
  /** Which value each emitted name stands for, so two different secrets never share one. */
  readonly taken = new Map<string, string>();
  skipped = { session: 0, reads: 0, failed: 0, other: 0, duplicateReads: 0 };
  readonly seenReads = new Set<string>();

  bindingName(base: string): string {
    // Table names come from the recording: only their letters and digits make the name.
    let name = identifier(base);
    if (RESERVED.has(name)) name = `${name}Record`;
    let candidate = name;
    for (let n = 2; this.names.has(candidate); n++) candidate = `${name}${n}`;
    this.names.add(candidate);
    return candidate;
  }

  /** An expression for an id, a variable when a record with that id was created earlier. */
  idExpr(refKey: string, id: unknown): unknown {
    const ref = this.refs.get(`${refKey}:${id}`);
    if (!ref) return typeof id === "string" && /^\d+$/.test(id) ? Number(id) : id;
    ref.binding.used = true;
    const code = ref.binding.count === 1
      ? `${ref.binding.name}.id`
      : `${ref.binding.name}[${ref.position}].id`;
    // Table rows are untyped (`Record<string, unknown>`): say what the recorded id was.
    if (refKey.startsWith("system/")) return new Expr(code);
    const type = typeof id === "string" && !/^\d+$/.test(id) ? "string" : "number";
    return new Expr(`${code} as ${type}`);
  }

  secretExpr(envName: string, value: string): Expr {
    if (value === REDACTED) { // already blanked (a dfkit-recorded HAR): name it, remember nothing
      this.envVars.add(envName);
      return new Expr(`secret(${str(envName)})`);
    }
    let name = this.assigned.get(value);
    if (name === undefined) {
      name = envName;
      for (let n = 2; this.taken.has(name) && this.taken.get(name) !== value; n++) {
        name = `${envName}_${n}`;
      }
    }
    this.assigned.set(value, name);
    this.taken.set(name, value);
    // Matched by value elsewhere (and in the last-line check) only when long enough to mean
    // something: a private lookup "1" must not turn every "1" into a secret, or fail the check.
    if (value.length >= MIN_SECRET_MATCH) this.secretValues.set(value, name);
    this.envVars.add(name);
    return new Expr(`secret(${str(name)})`);
  }

  /** Learns credentials seen in headers, query, bodies and session responses, so none is
   * copied. */
  learnSecrets(e: CheckedEntry): void {
    for (const [k, v] of e.headers) {
      if (isSecretHeader(k) && v) this.noteSecret(v.replace(/^Bearer\s+/i, ""));
    }
    for (const [k, v] of e.url.searchParams) {
      if (isCredentialName(k) && v) this.noteSecret(v);
    }
    // Responses describe fields too (`"password": "string"` in system/environment): only
    // credentials the server hands out count there; in requests every secret field does.
    const walk = (v: unknown, isSecret: (k: string) => boolean) => {
      if (Array.isArray(v)) v.forEach((x) => walk(x, isSecret));
      else if (v && typeof v === "object") {
        for (const [k, x] of Object.entries(v)) {
          if (isSecret(k) && typeof x === "string") this.noteSecret(x);
          else walk(x, isSecret);
        }
      }
    };
    walk(parseJson(e.responseBody), (k) => ISSUED_CREDENTIALS.has(k));
    forEachSecret(this.requestBody(e), (v) => this.noteSecret(v));
  }

  /** The request body parsed: JSON, or a form as an object of strings. */
  requestBody(e: CheckedEntry): unknown {
    return parseJson(e.body) ?? (e.body ? parseForm(e.body, e.bodyType) : undefined);
  }

  /** True when a query parameter carries a credential (by its name, or a value seen as one). */
  isSecretQuery(key: string, value: string): boolean {
    return value !== "" && (isCredentialName(key) || this.secretValues.has(value));
  }

  /** A query value ready to print: credentials (by name or value) become env lookups. */
  queryValue(key: string, value: string, owner: string): unknown {
    if (this.isSecretQuery(key, value)) {
      return this.secretExpr(envName(key, owner), value);
    }
    return value;
  }

  /** The variable a secret at `obj[key]` is read from, named after what it is and whose. */
  secretName(obj: Record<string, unknown>, key: string, owner: string): string {
    if (key === "value" && typeof obj.name === "string") {
      // A lookup or a header/parameter pair: its own name says what it is.
      const prefix = "private" in obj ? ["LOOKUP"] : [];
      return envName(...prefix, obj.name, envSlug(owner) === envSlug(obj.name) ? "" : owner);
    }
    return envName(key, owner || "VALUE");
  }

  noteSecret(value: string): void {
    if (value.length >= MIN_SECRET_MATCH && value !== REDACTED && !this.secretValues.has(value)) {
      this.secretValues.set(value, `DF_SECRET_${this.secretValues.size + 1}`);
    }
  }

  /** A body value ready to print: secrets to env lookups, earlier-created ids to variables. */
  transform(value: unknown, owner: string, inConfig = false): unknown {
    if (typeof value === "string" && this.secretValues.has(value)) {
      return this.secretExpr(this.secretValues.get(value)!, value);
    }
    if (Array.isArray(value)) return value.map((v) => this.transform(v, owner, inConfig));
    if (value && typeof value === "object") {
      const obj = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(obj)) out[k] = this.member(obj, k, owner, inConfig);
      return out;
    }
    return value;
  }

  /** `obj[key]` transformed (see {@linkcode transform}); `ownRefKey`: `obj` is such a record. */
  member(
    obj: Record<string, unknown>,
    key: string,
    owner: string,
    inConfig: boolean,
    ownRefKey?: string,
  ): unknown {
    const value = obj[key];
    if (isSecretMember(obj, key, inConfig)) {
      return this.secretExpr(this.secretName(obj, key, owner), value as string);
    }
    if (FOREIGN_KEYS[key] && (typeof value === "number" || typeof value === "string")) {
      return this.idExpr(FOREIGN_KEYS[key], value);
    }
    if (key === "id" && ownRefKey && (typeof value === "number" || typeof value === "string")) {
      return this.idExpr(ownRefKey, value);
    }
    return this.transform(value, owner, inConfig || key === "config");
  }

  /** Who a record is, for naming its secrets: its email, username or name, else `hint`. */
  ownerOf(rec: Record<string, unknown>, hint = ""): string {
    return String(rec.email ?? rec.username ?? rec.name ?? hint);
  }

  record(rec: Record<string, unknown>, refKey: string, ownerHint = ""): unknown {
    const owner = this.ownerOf(rec, ownerHint);
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(rec)) out[k] = this.member(rec, k, owner, false, refKey);
    return out;
  }
}

const RESERVED = new Set(
  ("break case catch class const continue debugger default delete do else enum export extends " +
    "false finally for function if import in instanceof new null return super switch this throw " +
    "true try typeof var void while with yield let static implements interface package private " +
    "protected public await async arguments eval undefined").split(" "),
);

const TRUE = new Set(["true", "1", "yes"]);

/** Query parameters split into builder calls, write options and the rest. */
function readQuery(
  c: Conversion,
  url: URL,
  tunnelled: boolean,
  owner: string,
  bodyParams?: Record<string, unknown>,
) {
  const q = new Map<string, string>();
  for (const [k, v] of url.searchParams) {
    if (SECRET_QUERY_PARAMS.has(k.toLowerCase())) continue;
    if (tunnelled && (k === "method" || k === "_method")) continue;
    q.set(k, v);
  }
  // A tunnelled read/delete may carry its parameters in the body (long id lists, filters).
  for (const [k, v] of Object.entries(bodyParams ?? {})) {
    if (k === "resource" || q.has(k) || v === null || typeof v === "object" && !Array.isArray(v)) {
      continue;
    }
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  const take = (...names: string[]) => {
    for (const n of names) {
      if (q.has(n)) {
        const v = q.get(n)!;
        q.delete(n);
        return v;
      }
    }
    return undefined;
  };
  const list = (v: string | undefined) =>
    v === undefined ? undefined : v.split(",").map((s) => s.trim()).filter(Boolean);
  return {
    filter: take("filter", "where"),
    fields: list(take("fields", "select")),
    related: list(take("related")),
    order: list(take("order", "order_by", "sort")),
    limit: take("limit", "top"),
    offset: take("offset", "skip"),
    ids: list(take("ids")),
    cont: take("continue"),
    rollback: take("rollback"),
    force: take("force"),
    countOnly: take("count_only"),
    rest: new Map([...q].map(([k, v]) => [k, c.queryValue(k, v, owner)])),
  };
}

/** Converts one kept entry into a step. */
function convertEntry(c: Conversion, e: CheckedEntry, method: string, seg: string[]): Step {
  const path = seg.join("/");
  // The title goes into a `//` comment: a line break in the recorded URL must not end it.
  const shown = [...e.url.searchParams]
    .filter(([k]) => !SECRET_QUERY_PARAMS.has(k.toLowerCase()))
    .map(([k, v]) => `${k}=${c.isSecretQuery(k, v) ? "[secret]" : v}`);
  const title = commentText(
    `#${e.index} ${method} /api/v2/${path}${shown.length ? "?" + shown.join("&") : ""}`,
  );
  const body = c.requestBody(e);
  const tunnelled = method !== e.method;
  const bodyParams =
    (method === "GET" || method === "DELETE") && body && typeof body === "object" &&
      !Array.isArray(body) && !("resource" in body)
      ? body as Record<string, unknown>
      : undefined;
  const q = readQuery(c, e.url, tunnelled, seg[0], bodyParams);
  const [service, second, third, fourth] = seg;

  let base: string | undefined;
  let refKey = "";
  let pathId: string | undefined;
  let nameBase = "";
  if (service === "system" && SYSTEM_RESOURCES.has(second) && seg.length <= 3) {
    base = `df.system.${second}`;
    refKey = `system/${second}`;
    pathId = third;
    nameBase = second;
  } else if (second === "_table" && third && seg.length <= 4) {
    base = `df.db(${str(service)}).table(${str(third)})`;
    refKey = `${service}/${third}`;
    pathId = fourth;
    nameBase = third;
  } else if (second === "_schema" && seg.length <= 3) {
    const db = `df.db(${str(service)}).schema`;
    const tables = recordsOf(body)?.map((t) => c.transform(t, String(t.name ?? service)));
    if (method === "GET") {
      return {
        index: e.index,
        title,
        code: `console.log(await ${db}.${third ? `get(${str(third)})` : "list()"});`,
      };
    }
    if (method === "DELETE" && third) {
      return { index: e.index, title, code: `await ${db}.drop(${str(third)});` };
    }
    if ((method === "POST" || method === "PATCH" || method === "PUT") && tables) {
      const fn = method === "POST" ? "create" : "update";
      return {
        index: e.index,
        title,
        code: `await ${db}.${fn}(${literal(tables.length === 1 ? tables[0] : tables)});`,
      };
    }
  }

  if (!base) return rawStep(c, e, method, path, title, body);

  let chain = base;
  const ids = pathId !== undefined ? [pathId] : q.ids;
  const idArgs = () => ids!.map((id) => literal(c.idExpr(refKey, id))).join(", ");
  if (ids) chain += `.ids(${idArgs()})`;
  if (q.filter !== undefined) chain += `.filter(${str(q.filter)})`;

  if (method === "GET") {
    if (q.fields) chain += `.fields(${q.fields.map(str).join(", ")})`;
    if (q.related) chain += `.related(${q.related.map(str).join(", ")})`;
    if (q.order) chain += `.order(${q.order.map(str).join(", ")})`;
    if (q.limit !== undefined) chain += `.limit(${Number(q.limit)})`;
    if (q.offset !== undefined) chain += `.offset(${Number(q.offset)})`;
    if (q.rest.size) chain += `.params(${literal(Object.fromEntries(q.rest))})`;
    if (q.countOnly !== undefined && TRUE.has(q.countOnly.toLowerCase())) {
      return { index: e.index, title, code: `console.log(await ${chain}.count());` };
    }
    return { index: e.index, title, code: `console.log(await ${chain});` };
  }

  const opts: Record<string, unknown> = {};
  if (q.fields) opts.fields = q.fields.length === 1 ? q.fields[0] : q.fields;
  if (q.related) opts.related = q.related;
  if (q.cont !== undefined) opts.continue = TRUE.has(q.cont.toLowerCase());
  if (q.rollback !== undefined) opts.rollback = TRUE.has(q.rollback.toLowerCase());
  if (q.rest.size) opts.params = Object.fromEntries(q.rest);
  const optArg = Object.keys(opts).length ? `, ${literal(opts)}` : "";
  const records = recordsOf(body);

  if (method === "POST") {
    if (!records?.length) return rawStep(c, e, method, path, title, body);
    const printed = records.map((r) => c.record(r, ""));
    const created = recordsOf(parseJson(e.responseBody)) ?? [];
    const binding: Binding = {
      name: c.bindingName(records.length === 1 ? nameBase : `${nameBase}s`),
      count: records.length,
      used: false,
    };
    created.forEach((rec, position) => {
      if (rec && rec.id !== undefined && rec.id !== null) {
        const owner = c.ownerOf(records[position] ?? {}, `${nameBase}_${rec.id}`);
        c.refs.set(`${refKey}:${rec.id}`, { binding, position, owner });
      }
    });
    const value = printed.length === 1 ? printed[0] : printed;
    const used = `const [${binding.name}] = await ${chain}.create(${optArg});`.length;
    const call = `await ${chain}.create(${literal(value, 0, 100 - used)}${optArg});`;
    return {
      index: e.index,
      title,
      binding,
      code: (b) =>
        !b?.used
          ? call
          : b.count === 1
          ? `const [${b.name}] = ${call}`
          : `const ${b.name} = ${call}`,
    };
  }

  if (method === "PATCH" || method === "PUT") {
    const fn = method === "PATCH" ? "update" : "replace";
    if (!records?.length) return rawStep(c, e, method, path, title, body);
    if (ids || q.filter !== undefined) {
      const patch = { ...records[0] };
      if (pathId !== undefined) delete patch.id;
      const owner = ids?.length === 1
        ? c.refs.get(`${refKey}:${ids[0]}`)?.owner ?? `${nameBase}_${ids[0]}`
        : nameBase;
      const used = `await ${chain}.${fn}(${optArg});`.length;
      return {
        index: e.index,
        title,
        code: `await ${chain}.${fn}(${
          literal(c.record(patch, "", owner), 0, 100 - used)
        }${optArg});`,
      };
    }
    if (records.every((r) => r.id !== undefined)) {
      const value = records.map((r) => c.record(r, refKey));
      const used = `await ${chain}.${fn}(${optArg});`.length;
      return {
        index: e.index,
        title,
        code: `await ${chain}.${fn}(${literal(value, 0, 100 - used)}${optArg});`,
      };
    }
    return rawStep(c, e, method, path, title, body);
  }

  if (method === "DELETE") {
    if (!ids && q.filter === undefined) {
      const withIds = records?.filter((r) => r.id !== undefined);
      if (withIds?.length) {
        chain += `.ids(${withIds.map((r) => literal(c.idExpr(refKey, r.id))).join(", ")})`;
      } else if (q.force !== undefined && TRUE.has(q.force.toLowerCase())) {
        opts.force = true;
      } else {
        return rawStep(c, e, method, path, title, body);
      }
    }
    const delOpts = Object.keys(opts).length ? literal(opts) : "";
    return { index: e.index, title, code: `await ${chain}.delete(${delOpts});` };
  }
  return rawStep(c, e, method, path, title, body);
}

/** The escape hatch for calls without a fluent equivalent: `df.request(...)`. */
function rawStep(
  c: Conversion,
  e: CheckedEntry,
  method: string,
  path: string,
  title: string,
  body: unknown,
): Step {
  const owner = path.split("/")[0];
  const query: Record<string, unknown> = {};
  for (const [k, v] of e.url.searchParams) {
    if (!SECRET_QUERY_PARAMS.has(k.toLowerCase())) query[k] = c.queryValue(k, v, owner);
  }
  const opts: Record<string, unknown> = {};
  if (Object.keys(query).length) opts.query = query;
  let note = "";
  if (body === undefined && e.body) {
    // Neither JSON nor a form: its secrets cannot be told apart, so none of it is copied.
    note = `// The recorded body (${
      commentText(e.bodyType || "no type")
    }, ${e.body.length} characters) is not copied: it may hold credentials. Add it here.\n`;
  }
  if (body !== undefined) {
    const last = path.split("/").pop() ?? "";
    const one = body && typeof body === "object" && !Array.isArray(body);
    opts.body = c.transform(body, one ? c.ownerOf(body as Record<string, unknown>, last) : last);
  }
  const head = `await df.request(${str(method)}, ${str(path)}`;
  const optText = Object.keys(opts).length ? `, ${literal(opts, 0, 100 - head.length - 16)}` : "";
  const call = `${head}${optText})`;
  return {
    index: e.index,
    title,
    code: note + (method === "GET" ? `console.log(${call});` : `${call};`),
  };
}

/** The method the server saw: DreamFactory honours `X-HTTP-Method` on POST (tunnelling). */
function effectiveMethod(e: CheckedEntry): string {
  if (e.method !== "POST") return e.method;
  const override = e.headers.get("x-http-method") ?? e.headers.get("x-method-override") ??
    e.url.searchParams.get("method") ?? e.headers.get("x-http-method-override") ??
    e.url.searchParams.get("_method");
  const verb = override?.trim().toUpperCase() || "POST";
  // Anything but a plain verb is not one DreamFactory would honour: the call stays a POST.
  if (!/^[A-Z]+$/.test(verb)) return "POST";
  return verb === "MERGE" ? "PATCH" : verb;
}

/**
 * Converts a HAR recording (a parsed object or its JSON text) of DreamFactory calls into a Deno
 * script (or, with `notebook`, `.ipynb` JSON) in dfkit's fluent style. Writes are kept, reads
 * only with `all`; logins become `connect()`; passwords, tokens and API keys become
 * `Deno.env.get(...)` lookups; ids of records created earlier in the recording become variables.
 * Throws {@linkcode HarError} naming the entry for malformed or non-DreamFactory input.
 *
 * @example
 * ```ts
 * import { fromHar } from "@dfkit/dfkit";
 * // In practice: JSON.parse(await Deno.readTextFile("console.har")) saved from the browser.
 * const har = {
 *   log: {
 *     entries: [{
 *       request: {
 *         method: "POST",
 *         url: "https://df.example.com/api/v2/system/role",
 *         headers: [{ name: "X-DreamFactory-Session-Token", value: "eyJ0eXAiOi.J9.x" }],
 *         postData: { mimeType: "application/json", text: '{"resource":[{"name":"readers"}]}' },
 *       },
 *       response: { status: 201, content: { text: '{"resource":[{"id":5}]}' } },
 *     }],
 *   },
 * };
 * console.log(fromHar(har, { systemOnly: true }));
 * // ... const df = await connect(); ... await df.system.role.create({ name: "readers" });
 * ```
 */
export function fromHar(har: unknown, options: FromHarOptions = {}): string {
  const entries = checkHar(har);
  const c = new Conversion();
  let apiCalls = 0;
  for (const e of entries) c.learnSecrets(e);
  for (const e of entries) {
    const at = e.url.pathname.indexOf("/api/v2");
    if (at < 0) continue;
    const rest = e.url.pathname.slice(at + "/api/v2".length);
    if (rest !== "" && !rest.startsWith("/")) continue;
    apiCalls++;
    let seg: string[];
    try {
      seg = rest.split("/").filter(Boolean).map(decodeURIComponent);
    } catch {
      throw new HarError(
        `request.url has a malformed percent-encoding: ${redactUrl(e.url.href)}`,
        e.index,
      );
    }
    const method = effectiveMethod(e);
    if (options.systemOnly && seg[0] !== "system") continue;
    if (method === "OPTIONS" || method === "HEAD" || seg.length === 0) {
      c.skipped.other++;
      continue;
    }
    if (isSessionCall(seg)) {
      c.skipped.session++;
      continue;
    }
    if (e.status >= 400) {
      c.skipped.failed++;
      continue;
    }
    if (method === "GET") {
      if (!options.all) {
        c.skipped.reads++;
        continue;
      }
      const key = e.url.pathname + e.url.search;
      if (c.seenReads.has(key)) {
        c.skipped.duplicateReads++;
        continue;
      }
      c.seenReads.add(key);
    }
    const step = convertEntry(c, e, method, seg);
    if (parseJson(e.body) === undefined && c.requestBody(e) !== undefined) {
      const code = step.code;
      const note = "// Recorded as a form; sent as JSON, which DreamFactory reads the same way.\n";
      step.code = typeof code === "string" ? note + code : (b) => note + code(b);
    }
    c.steps.push(step);
  }
  if (apiCalls === 0) {
    throw new HarError(
      `no DreamFactory API calls found: none of the ${entries.length} entries has a URL under ` +
        `/api/v2/ (record the admin console's Network tab, filtered on "api/v2")`,
    );
  }
  return options.notebook
    ? renderNotebook(c, entries.length, options)
    : renderScript(c, entries.length, options);
}

function header(c: Conversion, total: number, options: FromHarOptions): string[] {
  const s = c.skipped;
  const left = [
    s.reads && `${s.reads} read${s.reads > 1 ? "s" : ""} (all: true / --all keeps them)`,
    s.duplicateReads && `${s.duplicateReads} repeated read${s.duplicateReads > 1 ? "s" : ""}`,
    s.session && `${s.session} session call${s.session > 1 ? "s" : ""} (connect() logs in)`,
    s.failed && `${s.failed} failed call${s.failed > 1 ? "s" : ""} (an error in the recording)`,
    s.other && `${s.other} preflight/root call${s.other > 1 ? "s" : ""}`,
  ].filter(Boolean);
  const lines = [
    `// Generated by dfkit from a HAR recording: ${c.steps.length} of ${total} entries kept.`,
  ];
  if (left.length) lines.push(`// Left out: ${left.join(", ")}.`);
  lines.push(
    options.profile
      ? `// Credentials come from the "${
        commentText(options.profile)
      }" profile, never from the recording.`
      : "// Credentials come from DF_URL with DF_EMAIL/DF_PASSWORD, DF_API_KEY or DF_SESSION_TOKEN,",
  );
  if (!options.profile) lines.push("// never from the recording.");
  if (c.envVars.size) {
    lines.push(`// Secrets this script needs in the environment: ${[...c.envVars].join(", ")}.`);
  }
  // Not wrapped: the command is meant to be copied whole.
  return [...lines.flatMap((l) => wrapComment(l)), ...runHint(options)];
}

/**
 * How to run the output. Imported from this checkout, dfkit's own imports are bare npm names
 * mapped in its deno.json, which Deno finds only from inside the checkout: elsewhere the script
 * needs `--config` (and a notebook a kernel started where that deno.json is found).
 */
function runHint(options: FromHarOptions): string[] {
  const perms = `--allow-net --allow-env${options.profile ? " --allow-read" : ""}`;
  const here = new URL("../../deno.json", import.meta.url);
  if (options.importFrom !== undefined || here.protocol !== "file:") {
    return options.notebook ? [] : [`// Run it with: deno run ${perms} <this file>`];
  }
  const config = commentText(shellWord(decodeURIComponent(here.pathname)));
  if (options.notebook) {
    return [
      `// dfkit's imports are mapped in ${config}: keep this notebook in that folder or below,`,
      "// where the Deno kernel finds it.",
    ];
  }
  return [`// Run it with: deno run --config ${config} ${perms} <this file>`];
}

/** A path as one shell word (quoted when it has anything but safe characters). */
function shellWord(s: string): string {
  return /^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replaceAll("'", `'\\''`)}'`;
}

/** Splits a `// ...` comment line at word boundaries to fit 100 columns. */
function wrapComment(line: string, width = 100): string[] {
  const out: string[] = [];
  let current = "//";
  for (const word of line.slice(3).split(" ")) {
    if (current.length + 1 + word.length > width && current !== "//") {
      out.push(current);
      current = "//";
    }
    current += " " + word;
  }
  out.push(current);
  return out;
}

function setupCode(c: Conversion, options: FromHarOptions): string {
  const from = options.importFrom ?? new URL("../../mod.ts", import.meta.url).href;
  const lines = [`import { connect } from ${str(from)};`, ""];
  if (c.envVars.size) {
    lines.push(
      "// Every secret is read before the first request: a missing one stops the script before it",
      "// changes anything.",
      `const secrets = readSecrets(${literal([...c.envVars], 28)});`,
      "",
    );
  }
  lines.push(
    options.profile
      ? `const df = await connect({ profile: ${str(options.profile)} });`
      : "const df = await connect();",
  );
  if (c.envVars.size) {
    // A notebook's kernel must not exit: there the setup cell fails with the message instead.
    const stop = options.notebook
      ? ["    throw new Error(message);"]
      : ["    console.error(message);", "    Deno.exit(1);"];
    lines.push(
      "",
      "/** The secrets from the environment (the recording's values are deliberately not copied),",
      " * all checked at once: every missing variable is named. */",
      "function readSecrets(names: string[]): Record<string, string> {",
      "  const missing = names.filter((name) => !Deno.env.get(name));",
      "  if (missing.length) {",
      '    const message = `Set the environment variable(s) ${missing.join(", ")} ` +',
      "      `before running this script (nothing was changed).`;",
      ...stop,
      "  }",
      "  return Object.fromEntries(names.map((name) => [name, Deno.env.get(name)!]));",
      "}",
      "",
      "/** A secret read by readSecrets. */",
      "function secret(name: string): string {",
      "  return secrets[name];",
      "}",
    );
  }
  return lines.join("\n");
}

function stepCode(step: Step): string {
  const code = typeof step.code === "string" ? step.code : step.code(step.binding);
  return `// ${step.title}\n${code}`;
}

function renderScript(c: Conversion, total: number, options: FromHarOptions): string {
  const body = c.steps.map(stepCode);
  const text = [
    header(c, total, options).join("\n"),
    setupCode(c, options),
    ...body,
    "await df.logout();",
  ].join("\n\n") + "\n";
  return assertNoSecrets(c, text);
}

function renderNotebook(c: Conversion, total: number, options: FromHarOptions): string {
  const cell = (cell_type: "code" | "markdown", text: string) => ({
    cell_type,
    metadata: {},
    source: text.split("\n").map((l, i, a) => (i < a.length - 1 ? l + "\n" : l)),
    ...(cell_type === "code" ? { execution_count: null, outputs: [] } : {}),
  });
  const intro = header(c, total, options).map((l) => l.replace(/^\/\/ ?/, "")).join("\n");
  const nb = {
    cells: [
      cell("markdown", `# Replay of a DreamFactory recording\n\n${intro}`),
      cell("code", setupCode(c, options)),
      ...c.steps.map((s) => cell("code", stepCode(s))),
      cell("code", "await df.logout();"),
    ],
    metadata: {
      kernelspec: { display_name: "Deno", language: "typescript", name: "deno" },
      language_info: {
        codemirror_mode: "typescript",
        file_extension: ".ts",
        mimetype: "text/x.typescript",
        name: "typescript",
        nbconvert_exporter: "script",
        pygments_lexer: "typescript",
        version: "5",
      },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
  return assertNoSecrets(c, JSON.stringify(nb, null, 1) + "\n");
}

/** Shorter secret values are replaced where their field says so, but not searched for as text. */
const MIN_SECRET_MATCH = 8;

/** Last line of defence: a credential seen in the recording must not appear in the output. */
function assertNoSecrets(c: Conversion, text: string): string {
  for (const value of c.secretValues.keys()) {
    if (text.includes(value)) {
      throw new HarError(
        "internal: a credential from the recording would have been copied into the script; " +
          "please report this with the HAR's shape (not its secrets)",
      );
    }
  }
  return text;
}
