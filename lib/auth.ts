/**
 * Authentication: where connection settings come from (options, `DF_*` environment variables, a
 * profiles file), admin and user sessions, API keys, and keeping the session token alive
 * (refresh before expiry, single flight, fresh login as fallback).
 *
 * ## Profiles file
 * JSON, looked up at `options.profilesFile`, else `$DFKIT_PROFILES` (a file named either way
 * must exist), else `~/.config/dfkit/profiles.json`, else `./dfkit.profiles.json`:
 * ```json
 * {
 *   "default": "local",
 *   "profiles": {
 *     "local": { "url": "http://127.0.0.1:8080", "email": "admin@example.com",
 *                "password": "env:DF_LOCAL_PASSWORD" },
 *     "staging": { "url": "https://df.staging.example.com", "apiKey": "env:STAGING_DF_KEY",
 *                  "email": "ops@example.com", "password": "env:STAGING_DF_PASSWORD", "admin": false }
 *   }
 * }
 * ```
 * Keys are those of {@linkcode ConnectOptions} (`url`, `email`, `password`, `admin`, `apiKey`,
 * `sessionToken`, `timeout`, `retries`, `refreshBefore`). Any value may be `env:NAME`, read from
 * the environment when the profile is used, so secrets need not be written in the file (an unset
 * one throws {@linkcode ProfileVariableError}). Values
 * are checked against their key's type (`env:` text like `"2000"` or `"false"` is converted).
 * With no profile named (option or `DF_PROFILE`) and no `DF_URL`, the `"default"` profile is used.
 *
 * @module
 */
import { DreamFactoryError } from "./errors.ts";
import { fileError } from "./files.ts";
import { jsonErrorAt } from "./json.ts";
import type { CredentialSource, ExchangeListener, Transport } from "./transport.ts";
import { API_KEY_HEADER, SESSION_HEADER } from "./transport.ts";

/** Options of `connect()`. Every field is optional: see the resolution order in `connect`. */
export interface ConnectOptions {
  /** Base URL of the DreamFactory instance, e.g. `http://127.0.0.1:8080` (no `/api/v2`). */
  url?: string;
  /** Login email. */
  email?: string;
  /** Login password. */
  password?: string;
  /** `true`: admin session (`/system/admin/session`); `false`: user session (`/user/session`).
   * Default: admin, or user when an `apiKey` is given; the other endpoint is tried if the first
   * refuses the credentials. */
  admin?: boolean;
  /** App API key, sent as `X-DreamFactory-API-Key` on every call. */
  apiKey?: string;
  /** An existing session token to reuse (validated on connect). */
  sessionToken?: string;
  /** Name of a profile in the profiles file. */
  profile?: string;
  /** Path of the profiles file (default: `$DFKIT_PROFILES`, `~/.config/dfkit/profiles.json`,
   * `./dfkit.profiles.json`). */
  profilesFile?: string;
  /** Per-attempt timeout in milliseconds (default 30000; 0, Infinity or more than 2^31 - 1,
   * about 24.8 days, turn it off). */
  timeout?: number;
  /** Retries for safe cases (GET; 429/503 with `Retry-After`), default 2. */
  retries?: number;
  /** Seconds before expiry at which the token is refreshed (default: a quarter of the token's
   * lifetime, at most 60). */
  refreshBefore?: number;
  /** Called with a redacted copy of every HTTP exchange (including the login). */
  onExchange?: ExchangeListener;
  /** The `fetch` implementation (default: the global one). */
  fetch?: typeof fetch;
  /** Variables to read instead of `Deno.env` (for `DF_*`, `DFKIT_PROFILES` and `env:` refs). */
  env?: Record<string, string | undefined>;
}

/** The session as DreamFactory describes it, without the token. */
export interface SessionInfo {
  /** User id. */
  id: number;
  /** Display name. */
  name?: string;
  /** First name. */
  first_name?: string | null;
  /** Last name. */
  last_name?: string | null;
  /** Email. */
  email?: string;
  /** Whether the user is a sys-admin. */
  is_sys_admin?: boolean;
  /** Last login, `YYYY-MM-DD HH:MM:SS`. */
  last_login_date?: string | null;
  /** Server host name. */
  host?: string;
  /** Expiry reported by the server (`YYYY-MM-DD HH:MM:SS`, server time). */
  token_expiry_date?: string;
  /** Role name, when a role is in effect (user + app). */
  role?: string;
  /** Role id, when a role is in effect. */
  role_id?: number;
  /** When the current token expires (ISO 8601, from the token itself). */
  expires_at?: string;
  /** Any other field the server sent (never the token). */
  [key: string]: unknown;
}

/** Settings after options, profile and environment are merged. */
export interface ResolvedConnectOptions extends ConnectOptions {
  /** Base URL (always known after resolution). */
  url: string;
}

function readEnv(env: ConnectOptions["env"], name: string): string | undefined {
  if (env) return env[name];
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // no --allow-env: behave as unset
  }
}

/** A URL as messages may show it: without any `user:password@` part (the password may itself
 * hold `@` or `/`, so the host is what follows the last `@`). */
function withoutCredentials(url: string): string {
  if (!hasAt(url)) return url;
  // Not through the URL parser: "user:12/34@host" parses as host "user:12" and a path, and a
  // password may hold "/", "?" or "#" too. The host follows the last "@".
  const scheme = url.match(/^[a-z][a-z0-9+.-]*:\/\//i)?.[0] ?? "";
  return scheme + url.slice(url.lastIndexOf("@") + 1).split(/[/?#]/)[0];
}

/** Whether a URL holds an `@` anywhere: taken as a `user:password@` part, however it parses (a
 * DreamFactory base URL has no other use for one). */
function hasAt(url: string): boolean {
  return url.includes("@");
}

/** Whether this process may read an environment variable (`--allow-env`). */
function mayRead(name: string): boolean {
  return Deno.permissions.querySync({ name: "env", variable: name }).state === "granted";
}

/** Profile keys whose values are secrets: they belong in the environment, not in the file. */
const SECRET_PROFILE_KEYS = new Set([
  "password",
  "apiKey",
  "api_key",
  "sessionToken",
  "session_token",
]);

/**
 * A profile value `env:NAME` whose variable is not set (or empty). The CLI catches it to ask for a
 * password on the terminal instead.
 */
export class ProfileVariableError extends Error {
  /** The profile's name. */
  readonly profile: string;
  /** The key as written in the file, e.g. `"password"`. */
  readonly key: string;
  /** The environment variable the value refers to. */
  readonly variable: string;
  /** The profiles file. */
  readonly path: string;

  /** Builds the error; the message says which variable to set. */
  constructor(profile: string, key: string, variable: string, path: string, empty = false) {
    // A secret stays out of the file: the fix is setting the variable, never writing the value.
    const fix = SECRET_PROFILE_KEYS.has(key)
      ? `Set it (export ${variable}=...); secrets stay out of the profiles file as env:NAME ` +
        "references."
      : `Set it (export ${variable}=...) or put the value in the profile.`;
    super(
      `Profile "${profile}" key "${key}" in ${path} refers to environment variable ${variable}, ` +
        `which is ${empty ? "empty" : "not set"}. ${fix}`,
    );
    this.name = "ProfileVariableError";
    this.profile = profile;
    this.key = key;
    this.variable = variable;
    this.path = path;
  }
}

/** Resolves `env:NAME` references in a profile value. */
function deref(
  value: unknown,
  env: ConnectOptions["env"],
  at: { profile: string; key: string; path: string },
): unknown {
  if (typeof value !== "string" || !value.startsWith("env:")) return value;
  const name = value.slice(4);
  const got = readEnv(env, name);
  if (got === undefined || got === "") {
    throw new ProfileVariableError(at.profile, at.key, name, at.path, got === "");
  }
  return got;
}

async function readProfilesFile(opts: ConnectOptions): Promise<{ path: string; data: unknown }>;
async function readProfilesFile(
  opts: ConnectOptions,
  ifAny: "if any",
): Promise<{ path: string; data: unknown } | undefined>;
async function readProfilesFile(
  opts: ConnectOptions,
  ifAny?: "if any",
): Promise<{ path: string; data: unknown } | undefined> {
  const home = readEnv(opts.env, "HOME");
  // A file named explicitly (option or DFKIT_PROFILES) must exist: falling back to another
  // file could connect to another server under the same profile name.
  const named = opts.profilesFile ?? (readEnv(opts.env, "DFKIT_PROFILES") || undefined);
  const candidates = named ? [named] : [
    home ? `${home}/.config/dfkit/profiles.json` : undefined,
    "./dfkit.profiles.json",
  ].filter((p): p is string => !!p);
  for (const path of candidates) {
    let text: string;
    try {
      text = await Deno.readTextFile(path);
    } catch (err) {
      if (!named && err instanceof Deno.errors.NotFound) continue;
      // Looking for a default profile only: a file we may not read (no --allow-read) is none.
      const denied = err instanceof Deno.errors.NotCapable ||
        err instanceof Deno.errors.PermissionDenied;
      if (!named && ifAny && denied) continue;
      const source = named && !opts.profilesFile ? " (named by DFKIT_PROFILES)" : "";
      if (err instanceof Deno.errors.NotCapable) {
        // Deno's text says which flag to add.
        throw new Error(`Could not read the dfkit profiles file ${path}${source}: ${err.message}`);
      }
      // One sentence naming the file ("... does not exist", "...: it is a folder").
      throw new Error(fileError(err, path, "read", "dfkit profiles file").message + source);
    }
    try {
      return { path, data: JSON.parse(text) };
    } catch {
      // JSON.parse's message quotes the text around the mistake, which may be a password:
      // say where it is instead.
      throw new Error(
        `The dfkit profiles file ${path} is not valid JSON (${jsonErrorAt(text)}). ` +
          `Check quotes (JSON needs "double quotes"), commas and braces there.`,
      );
    }
  }
  if (ifAny) return undefined;
  throw new Error(
    `No dfkit profiles file found (looked at ${candidates.join(", ")}). ` +
      `Create one, e.g. {"profiles": {"staging": {"url": "...", "email": "...", "password": "env:VAR"}}}`,
  );
}

/** The type each profile key must have once `env:` references are resolved. */
const PROFILE_TYPES: Record<string, "string" | "boolean" | "number"> = {
  url: "string",
  email: "string",
  password: "string",
  admin: "boolean",
  apiKey: "string",
  sessionToken: "string",
  timeout: "number",
  retries: "number",
  refreshBefore: "number",
};

/** A profile value of the key's type (`env:` values are text: "true", "2000" are converted). */
function profileValue(key: keyof ConnectOptions, value: unknown, where: string): unknown {
  const type = PROFILE_TYPES[key];
  if (type === "string" && typeof value === "string" && value !== "") return value;
  if (type === "boolean") {
    if (typeof value === "boolean") return value;
    if (value === "true" || value === "false") return value === "true";
  }
  if (type === "number") {
    const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
    if (typeof n === "number" && Number.isFinite(n) && n >= 0) return n;
  }
  const expected = type === "string"
    ? "a non-empty string"
    : type === "boolean"
    ? "true or false"
    : key === "timeout"
    ? "a number of milliseconds (e.g. 30000)"
    : key === "refreshBefore"
    ? "a number of seconds (e.g. 60)"
    : "a number (e.g. 2)";
  throw new Error(`${where} must be ${expected}, got ${JSON.stringify(value)}`);
}

const PROFILE_KEYS: Record<string, keyof ConnectOptions> = {
  url: "url",
  email: "email",
  password: "password",
  admin: "admin",
  apiKey: "apiKey",
  api_key: "apiKey",
  sessionToken: "sessionToken",
  session_token: "sessionToken",
  timeout: "timeout",
  retries: "retries",
  refreshBefore: "refreshBefore",
};

/**
 * Reads one profile from the profiles file (format in this module's docs), `env:` references
 * resolved. Without a name, the file's `"default"` profile.
 *
 * @example
 * ```ts
 * import { loadProfile } from "@dfkit/dfkit";
 * const staging = await loadProfile("staging"); // { url, email, password, ... }
 * ```
 */
export async function loadProfile(name: string | undefined, opts: ConnectOptions = {}): Promise<
  ConnectOptions
> {
  const { path, data } = await readProfilesFile(opts);
  return profileFrom(path, data, name, opts);
}

/**
 * The path of the profiles file `connect()` reads when none is named (no `profilesFile`, no
 * `DFKIT_PROFILES`): the first of `~/.config/dfkit/profiles.json` and `./dfkit.profiles.json`
 * that exists, else undefined. Where `dfkit login --save` adds a profile.
 */
export async function existingProfilesFile(
  opts: Pick<ConnectOptions, "env"> = {},
): Promise<string | undefined> {
  const env = { HOME: readEnv(opts.env, "HOME") }; // not DFKIT_PROFILES: none named
  return (await readProfilesFile({ env }, "if any"))?.path;
}

/**
 * The name the profiles file's `"default"` gives, or undefined when there is no profiles file or
 * it names no default. What `connect()` falls back to with no profile named and no `DF_URL`.
 *
 * @example
 * ```ts
 * import { defaultProfileName, loadProfile } from "@dfkit/dfkit";
 * const name = await defaultProfileName(); // e.g. "local"
 * if (name) console.log(await loadProfile(name));
 * ```
 */
export async function defaultProfileName(
  opts: ConnectOptions = {},
): Promise<string | undefined> {
  const root = (await readProfilesFile(opts, "if any"))?.data as
    | Record<string, unknown>
    | undefined;
  return typeof root?.default === "string" ? root.default : undefined;
}

/** The profiles file's `"default"` profile, when there is a file and it names one. */
async function defaultProfile(opts: ConnectOptions): Promise<ConnectOptions | undefined> {
  const file = await readProfilesFile(opts, "if any");
  const root = file?.data as Record<string, unknown> | undefined;
  if (!file || typeof root?.default !== "string") return undefined;
  return profileFrom(file.path, file.data, undefined, opts);
}

function profileFrom(
  path: string,
  data: unknown,
  name: string | undefined,
  opts: ConnectOptions,
): ConnectOptions {
  const root = (data ?? {}) as Record<string, unknown>;
  const profiles = (root.profiles ?? root) as Record<string, unknown>;
  const chosen = name ?? (typeof root.default === "string" ? root.default : undefined);
  const names = Object.keys(profiles).filter((k) => k !== "default");
  if (!chosen) {
    throw new Error(`No profile named and no "default" in ${path}; profiles: ${names.join(", ")}`);
  }
  const raw = profiles[chosen];
  if (!raw || typeof raw !== "object") {
    throw new Error(
      `Profile "${chosen}" not found in ${path}. Known profiles: ${names.join(", ") || "(none)"}`,
    );
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = PROFILE_KEYS[k];
    if (!key) {
      throw new Error(
        `Profile "${chosen}" in ${path} has an unknown key "${k}". Known keys: ${
          Object.keys(PROFILE_KEYS).join(", ")
        }`,
      );
    }
    const where = `Profile "${chosen}" key "${k}" in ${path}`;
    out[key] = profileValue(key, deref(v, opts.env, { profile: chosen, key: k, path }), where);
  }
  return out as ConnectOptions;
}

/**
 * Merges options, the named profile and the environment. Explicit options win over the profile;
 * the environment (`DF_URL`, `DF_API_KEY`, `DF_EMAIL`, `DF_PASSWORD`, `DF_SESSION_TOKEN`,
 * `DF_PROFILE`) is read only when neither a `url` nor a `profile` is given.
 *
 * @example
 * ```ts
 * import { resolveConnectOptions } from "@dfkit/dfkit";
 * const opts = await resolveConnectOptions({ env: { DF_URL: "http://127.0.0.1:8080" } });
 * opts.url; // "http://127.0.0.1:8080"
 * ```
 */
export async function resolveConnectOptions(
  options: ConnectOptions = {},
): Promise<ResolvedConnectOptions> {
  let base: ConnectOptions = {};
  const profile = options.profile ?? (options.url ? undefined : readEnv(options.env, "DF_PROFILE"));
  if (profile) {
    base = await loadProfile(profile, options);
  } else if (!options.url) {
    const e = (n: string) => readEnv(options.env, n) || undefined;
    base = {
      url: e("DF_URL"),
      apiKey: e("DF_API_KEY"),
      email: e("DF_EMAIL"),
      password: e("DF_PASSWORD"),
      sessionToken: e("DF_SESSION_TOKEN"),
    };
    // Nothing in the environment either: the profiles file's "default", if it names one.
    if (!base.url) base = (await defaultProfile(options)) ?? base;
  }
  const merged: ConnectOptions = { ...base };
  for (const [k, v] of Object.entries(options)) {
    if (v !== undefined) (merged as Record<string, unknown>)[k] = v;
  }
  if (!merged.url) {
    if (!options.env && !mayRead("DF_URL")) {
      throw new Error(
        "connect() cannot read DF_URL: this script may not read environment variables. Run it " +
          "with --allow-env (or --allow-env=DF_URL,DF_EMAIL,DF_PASSWORD,DF_API_KEY), or pass { url }.",
      );
    }
    throw new Error(
      "connect() needs a DreamFactory URL: pass { url }, set DF_URL (with DF_EMAIL/DF_PASSWORD, " +
        'DF_API_KEY or DF_SESSION_TOKEN), or name a profile ({ profile: "staging" } or DF_PROFILE).',
    );
  }
  let parsed: URL | undefined;
  try {
    parsed = new URL(merged.url);
  } catch { /* reported below */ }
  const shown = withoutCredentials(merged.url);
  if (parsed?.protocol !== "http:" && parsed?.protocol !== "https:") {
    throw new Error(
      `connect(): url ${JSON.stringify(shown)} is not an http(s) URL; ` +
        `write it with its scheme, e.g. "http://${shown.replace(/^\w+:\/\//, "")}"`,
    );
  }
  if (parsed.username || parsed.password || hasAt(merged.url)) {
    throw new Error(
      `connect(): the url holds a user name or password (user:...@${
        shown.replace(/^\w+:\/\//, "")
      }), ` +
        "which fetch refuses. Give the credentials as email/password or apiKey (DF_EMAIL/" +
        `DF_PASSWORD, DF_API_KEY) and the url as ${JSON.stringify(shown)}.`,
    );
  }
  if ((merged.email === undefined) !== (merged.password === undefined)) {
    throw new Error(
      `connect(): ${merged.email === undefined ? "email" : "password"} is missing; ` +
        "give both email and password to log in, or neither.",
    );
  }
  return merged as ResolvedConnectOptions;
}

interface JwtTimes {
  exp?: number;
  /** Issue time of this token (`nbf`, else `iat`; a refreshed token keeps its first `iat`). */
  issued?: number;
}

function jwtTimes(token: string): JwtTimes {
  const part = token.split(".")[1];
  if (!part) return {};
  try {
    const json = atob(
      part.replace(/-/g, "+").replace(/_/g, "/").padEnd(
        part.length + ((4 - (part.length % 4)) % 4),
        "=",
      ),
    );
    const claims = JSON.parse(json) as Record<string, unknown>;
    const num = (v: unknown) => (typeof v === "number" ? v : undefined);
    return { exp: num(claims.exp), issued: num(claims.nbf) ?? num(claims.iat) };
  } catch {
    return {};
  }
}

/** A message ending in a full stop, so another sentence can follow it. */
function sentence(text: string): string {
  return text.replace(/\.?\s*$/, ".");
}

/** The session token in a session answer (`session_token`, or the older `session_id`). */
function tokenIn(body: unknown): string | undefined {
  const payload = (body ?? {}) as Record<string, unknown>;
  const token = payload.session_token ?? payload.session_id;
  return typeof token === "string" && token ? token : undefined;
}

/** Waits for a shared promise, but only as long as the caller's signal allows. */
function waitFor<T>(shared: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    shared.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

const ADMIN_SESSION = "system/admin/session";
/** A login answered with a 404, or not by DreamFactory (an HTML page, say): the URL is likely
 * wrong (a base path too many or missing, another server on that port). */
function loginHint(status: number, _message: string, dreamFactory: boolean): string | undefined {
  if (dreamFactory && status !== 404) return undefined;
  return "no DreamFactory login answered at this URL. Check the instance URL (DF_URL, --url or " +
    "the profile's url): it is the base URL DreamFactory serves, e.g. https://df.example.com, " +
    "without /api/v2.";
}

/** DreamFactory's refusals of a call made with an API key and no session (no role to go by). */
const KEY_ONLY_REFUSAL =
  /No session token \(JWT\) provided|No API Key provided|Role not found|role .*is not active/i;
const USER_SESSION = "user/session";

/**
 * Holds the credentials of one client and keeps its session alive. Implements the transport's
 * {@linkcode CredentialSource}; never exposes the token through inspection or JSON.
 */
export class AuthStore implements CredentialSource {
  readonly #transport: Transport;
  readonly #email?: string;
  readonly #password?: string;
  readonly #apiKey?: string;
  readonly #refreshBefore?: number;
  #admin?: boolean;
  #token?: string;
  #expiresAt?: number; // local clock, ms
  #refreshAt?: number; // local clock, ms
  #session?: SessionInfo;
  #inflight?: Promise<void>;
  /** Bumped by logout(): a refresh or login that started before it must not revive the session. */
  #epoch = 0;
  #retired: string[] = []; // recent tokens, still redacted if the server echoes one
  #refreshCount = 0;
  #loginCount = 0;

  constructor(transport: Transport, options: ResolvedConnectOptions) {
    this.#transport = transport;
    this.#email = options.email;
    this.#password = options.password;
    this.#apiKey = options.apiKey;
    this.#admin = options.admin;
    this.#token = options.sessionToken;
    this.#refreshBefore = options.refreshBefore;
  }

  /** The session (no token), or undefined for API-key-only clients. */
  get session(): SessionInfo | undefined {
    return this.#session;
  }

  /** True when a session token is held. */
  get hasToken(): boolean {
    return this.#token !== undefined;
  }

  /** True when an API key is used. */
  get hasApiKey(): boolean {
    return this.#apiKey !== undefined;
  }

  /** Whether the session is an admin session (undefined when unknown). */
  get admin(): boolean | undefined {
    return this.#admin;
  }

  /** How many refreshes and logins happened (for diagnostics and tests). */
  get stats(): { refreshes: number; logins: number } {
    return { refreshes: this.#refreshCount, logins: this.#loginCount };
  }

  /** What kind of credentials this is, for display. */
  describe(): string {
    const who = this.#session?.email ? ` as ${this.#session.email}` : "";
    if (this.#token) return `${this.#admin ? "admin" : "user"} session${who}`;
    if (this.#apiKey) return "API key";
    return "anonymous";
  }

  /** Sets up the session: logs in, or validates a given token. */
  async start(signal?: AbortSignal): Promise<void> {
    if (this.#email !== undefined && this.#password !== undefined) {
      await this.login(signal);
    } else if (this.#token) {
      await this.#adoptToken(signal);
    }
  }

  #sessionPath(): string {
    return this.#admin === false ? USER_SESSION : ADMIN_SESSION;
  }

  #keyHeaders(): Record<string, string> {
    return this.#apiKey ? { [API_KEY_HEADER]: this.#apiKey } : {};
  }

  /** Keeps a session answer. `serverDate`: its Date header; `fresh`: the token was just issued
   * (login, refresh), so its issue time is the server's "now". */
  #store(body: unknown, serverDate?: string | null, fresh = false): void {
    const payload = (body ?? {}) as Record<string, unknown>;
    const token = tokenIn(body);
    if (!token) {
      throw new DreamFactoryError({
        status: 200,
        code: "NO_TOKEN",
        message: "The server's session answer carried no session_token.",
        method: "POST",
        // The path as sent, with any base path of the URL (`/df/api/v2/...`).
        path: `${
          new URL(this.#transport.url).pathname.replace(/\/$/, "")
        }/api/v2/${this.#sessionPath()}`,
        hint: loginHint(200, "", false),
      });
    }
    this.#retire(this.#token);
    this.#token = token;
    const { exp, issued } = jwtTimes(token);
    if (exp) {
      // `exp` is on the server's clock. How far ours is from it: a fresh token's issue time is
      // the server's now; else the answer's Date header (either ignored within 2 s).
      const server = fresh && issued !== undefined
        ? issued * 1000
        : serverDate
        ? Date.parse(serverDate)
        : NaN;
      const skew = Number.isFinite(server) && Math.abs(server - Date.now()) > 2000
        ? server - Date.now()
        : 0;
      this.#expiresAt = exp * 1000 - skew;
      // Margin from the token's nominal lifetime: a quarter of it (at most a minute), but at
      // least half of it up to a second, so a call never races the expiry on short lifetimes.
      // A margin asked for is kept below half the lifetime: more would refresh on every call.
      const lifetime = issued !== undefined ? (exp - issued) * 1000 : 0;
      const before = this.#refreshBefore !== undefined
        ? (lifetime > 0
          ? Math.min(this.#refreshBefore * 1000, lifetime / 2)
          : this.#refreshBefore * 1000)
        : Math.min(60_000, Math.max(lifetime / 4, Math.min(lifetime / 2, 1000)));
      this.#refreshAt = this.#expiresAt - before;
    } else {
      this.#expiresAt = this.#refreshAt = undefined;
    }
    const info: SessionInfo = { id: Number(payload.id) };
    for (const [k, v] of Object.entries(payload)) {
      if (k !== "session_token" && k !== "session_id") info[k] = v;
    }
    if (this.#expiresAt) info.expires_at = new Date(this.#expiresAt).toISOString();
    this.#session = Object.freeze(info);
  }

  /** Logs in with the stored email and password (admin or user endpoint). */
  async login(signal?: AbortSignal): Promise<void> {
    if (this.#email === undefined || this.#password === undefined) {
      throw new Error("Cannot log in: this client was not given an email and password.");
    }
    const epoch = this.#epoch;
    const order = this.#admin === true
      ? [true]
      : this.#admin === false
      ? [false]
      : this.#apiKey
      ? [false, true]
      : [true, false];
    let firstError: unknown;
    for (const admin of order) {
      try {
        const res = await this.#transport.send("POST", admin ? ADMIN_SESSION : USER_SESSION, {
          anonymous: true,
          headers: this.#keyHeaders(),
          body: { email: this.#email, password: this.#password },
          signal,
          retries: 0,
          hint: loginHint,
        });
        await this.#unlessLoggedOut(epoch, res.body, admin);
        this.#admin = admin;
        this.#loginCount++;
        this.#store(res.body, res.headers.get("date"), true);
        return;
      } catch (err) {
        firstError ??= err;
        if (!(err instanceof DreamFactoryError && err.status === 401)) throw err;
      }
    }
    throw firstError;
  }

  /** A call on a session endpoint with a given token (validate, refresh, end). */
  #withToken(
    method: string,
    path: string,
    token: string,
    options: { signal?: AbortSignal; retries?: number } = {},
  ) {
    return this.#transport.send(method, path, {
      ...options,
      anonymous: true,
      headers: { ...this.#keyHeaders(), [SESSION_HEADER]: token },
    });
  }

  /** A session answer that arrived after logout() is ended at once instead of being kept. */
  async #unlessLoggedOut(epoch: number, body: unknown, admin: boolean): Promise<void> {
    if (epoch === this.#epoch) return;
    const token = tokenIn(body);
    if (token) {
      this.#retire(token);
      // best effort: the token is forgotten either way
      await this.#withToken("DELETE", admin ? ADMIN_SESSION : USER_SESSION, token).catch(() => {});
    }
    throw new Error("The client logged out while this session refresh or login was running.");
  }

  async #adoptToken(signal?: AbortSignal, renewed = false): Promise<void> {
    const order = this.#admin === undefined ? [true, false] : [this.#admin];
    let firstError: unknown;
    for (const admin of order) {
      try {
        const path = admin ? ADMIN_SESSION : USER_SESSION;
        const res = await this.#withToken("GET", path, this.#token!, { signal });
        this.#admin = admin;
        this.#store(
          { ...(res.body as object), session_token: this.#token },
          res.headers.get("date"),
        );
        return;
      } catch (err) {
        firstError ??= err;
        if (!(err instanceof DreamFactoryError) || err.status === 0) throw err;
      }
    }
    // An expired token may still be inside its refresh window: renew it, then adopt the new one.
    const expired = firstError instanceof DreamFactoryError && firstError.status === 401 &&
      /expired/i.test(firstError.message);
    if (expired && !renewed) {
      for (const admin of order) {
        try {
          const path = admin ? ADMIN_SESSION : USER_SESSION;
          const res = await this.#withToken("PUT", path, this.#token!, { signal, retries: 0 });
          const token = tokenIn(res.body);
          if (!token) break;
          this.#retire(this.#token);
          this.#token = token;
          this.#refreshCount++;
          return await this.#adoptToken(signal, true);
        } catch (err) {
          if (!(err instanceof DreamFactoryError) || err.status === 0) throw err;
        }
      }
    }
    throw firstError;
  }

  /**
   * Refreshes the token now (`PUT` on the session path). Concurrent callers share one refresh.
   * If the server refuses (refresh window over, token blacklisted) and an email and password are
   * known, logs in again instead.
   */
  refresh(signal?: AbortSignal): Promise<void> {
    // The shared refresh never takes a caller's signal: one caller giving up must not cut it
    // short for the others (an aborted PUT may still have blacklisted the old token). A caller
    // with a signal only stops waiting.
    this.#inflight ??= this.#doRefresh().finally(() => {
      this.#inflight = undefined;
    });
    return waitFor(this.#inflight, signal);
  }

  async #doRefresh(): Promise<void> {
    const canLogin = this.#email !== undefined && this.#password !== undefined;
    if (!this.#token) {
      if (canLogin) return await this.login();
      throw new Error(
        "Cannot refresh: this client has no session (it logged out, or uses an API key only).",
      );
    }
    const epoch = this.#epoch;
    try {
      const res = await this.#withToken("PUT", this.#sessionPath(), this.#token, { retries: 0 });
      await this.#unlessLoggedOut(epoch, res.body, this.#admin !== false);
      this.#refreshCount++;
      this.#store(res.body, res.headers.get("date"), true);
    } catch (err) {
      if (epoch !== this.#epoch) throw err;
      if (!canLogin || !(err instanceof DreamFactoryError) || err.status === 0) {
        if (err instanceof DreamFactoryError && !canLogin) {
          throw new DreamFactoryError({
            status: err.status,
            code: err.code,
            message: `${sentence(err.message)} The session cannot be renewed: this client was ` +
              "given a session token but no email and password to log in again.",
            context: err.context,
            method: err.method,
            path: err.path,
            cause: err,
          });
        }
        throw err;
      }
      await this.login();
    }
  }

  /** Ends the session on the server and forgets the token. */
  async logout(signal?: AbortSignal): Promise<void> {
    // A refresh or login still running is ended as soon as it answers (see #unlessLoggedOut).
    this.#epoch++;
    const token = this.#token;
    if (!token) return;
    const kept = {
      session: this.#session,
      expiresAt: this.#expiresAt,
      refreshAt: this.#refreshAt,
    };
    this.#retire(token);
    this.#token = undefined;
    this.#session = undefined;
    this.#expiresAt = this.#refreshAt = undefined;
    try {
      await this.#withToken("DELETE", this.#sessionPath(), token, { signal });
    } catch (err) {
      // An expired or already blacklisted token is as logged out as it gets.
      if (err instanceof DreamFactoryError && (err.status === 401 || err.status === 403)) return;
      // Otherwise the session is still alive on the server: keep the token, so the client
      // still works and a second logout() can try again.
      if (this.#token === undefined) {
        this.#token = token;
        this.#session = kept.session;
        this.#expiresAt = kept.expiresAt;
        this.#refreshAt = kept.refreshAt;
      }
      throw err;
    }
  }

  /** Headers for the next request, refreshing first when the token is about to expire. */
  async authHeaders(signal?: AbortSignal): Promise<Readonly<Record<string, string>>> {
    if (this.#token && this.#refreshAt !== undefined && Date.now() >= this.#refreshAt) {
      const token = this.#token;
      try {
        await this.refresh(signal);
      } catch (err) {
        // An early refresh that failed while the token is still valid must not fail the call:
        // send it with the current token (an expiry answer still refreshes, and reports),
        // and try again in a second rather than on every call.
        const valid = this.#token === token && this.#expiresAt !== undefined &&
          Date.now() < this.#expiresAt && !signal?.aborted;
        if (!valid) throw err;
        this.#refreshAt = Math.min(this.#expiresAt!, Date.now() + 1000);
      }
    } else if (this.#inflight) {
      await waitFor(this.#inflight, signal);
    }
    return this.#headers();
  }

  /** The headers right now, or undefined when a refresh is due or running. */
  currentHeaders(): Readonly<Record<string, string>> | undefined {
    if (this.#inflight) return undefined;
    if (this.#token && this.#refreshAt !== undefined && Date.now() >= this.#refreshAt) {
      return undefined;
    }
    return this.#headers();
  }

  // One frozen header object per token: every request reads it, so it is built only when the
  // token changes.
  #headersCache?: { token: string | undefined; headers: Readonly<Record<string, string>> };

  #headers(): Readonly<Record<string, string>> {
    const cache = this.#headersCache;
    if (cache && cache.token === this.#token) return cache.headers;
    const h = this.#keyHeaders();
    if (this.#token) h[SESSION_HEADER] = this.#token;
    this.#headersCache = { token: this.#token, headers: Object.freeze(h) };
    return this.#headersCache.headers;
  }

  /** The server said the token expired: refresh once (shared), unless another call already did. */
  async onExpired(failedToken: string | undefined, signal?: AbortSignal): Promise<boolean> {
    if (failedToken !== undefined && failedToken !== this.#token) return true;
    const canLogin = this.#email !== undefined && this.#password !== undefined;
    if (!this.#token && !canLogin) return false;
    await this.refresh(signal);
    return true;
  }

  /**
   * A hint for an error answer an API key used alone probably caused: DreamFactory answers an
   * unknown key, or a key whose app has no default role, with "No session token (JWT) provided"
   * (or a role error), which never names the key.
   */
  hint(status: number, message: string): string | undefined {
    if (!this.#apiKey || this.#token || this.#email !== undefined) return undefined; // a login
    if (status < 400 || status > 403) return undefined;
    if (!KEY_ONLY_REFUSAL.test(message)) return undefined;
    return "this client sends an API key and no session. The key is probably unknown, or its " +
      "app has no default role (or an inactive one); to use a user's role instead, log in as " +
      "that user with the key (email and password, e.g. DF_EMAIL/DF_PASSWORD, with the API key).";
  }

  #retire(token: string | undefined): void {
    if (!token) return;
    this.#retired.push(token);
    if (this.#retired.length > 8) this.#retired.shift();
  }

  /** Every secret this store knows, for redaction. */
  secrets(): string[] {
    const out: string[] = [...this.#retired];
    if (this.#token) out.push(this.#token);
    if (this.#apiKey) out.push(this.#apiKey);
    if (this.#password) out.push(this.#password);
    return out;
  }

  /** Never shows secrets. */
  [Symbol.for("Deno.customInspect")](): string {
    return `AuthStore { ${this.describe()} }`;
  }

  /** Never shows secrets. */
  toJSON(): Record<string, unknown> {
    return { auth: this.describe() };
  }
}
