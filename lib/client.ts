/**
 * The DreamFactory client: `connect()` and the {@linkcode DreamFactory} class with the system
 * resources (`df.system.*`), database services (`df.db(name)`), the session and a low-level
 * `request()`.
 *
 * @module
 */
import { AuthStore, type ConnectOptions, resolveConnectOptions, type SessionInfo } from "./auth.ts";
import { type HarRecorder, recordHar } from "./har/record.ts";
import { Query, type QueryContext } from "./query/builder.ts";
import { recordsOf } from "./query/response.ts";
import { errorFromResponse } from "./errors.ts";
import { hideSecrets } from "./display.ts";
import {
  type ResourceDescriptor,
  SYSTEM_RESOURCES,
  type SystemRecordTypes,
  tableDescriptor,
} from "./resources.ts";
import {
  type ExchangeListener,
  type RequestDescription,
  type RequestOptions,
  Transport,
  type TransportResponse,
} from "./transport.ts";

export type { ConnectOptions, ResolvedConnectOptions, SessionInfo } from "./auth.ts";
export {
  defaultProfileName,
  loadProfile,
  ProfileVariableError,
  resolveConnectOptions,
} from "./auth.ts";
export { type DeleteOptions, type Id, Query, type WriteOptions } from "./query/builder.ts";
export type { FilterInput } from "./query/filter.ts";
export type { Page } from "./query/response.ts";
export {
  type Admin,
  type App,
  type Cors,
  type EmailTemplate,
  type EventScript,
  type Limit,
  type Lookup,
  maskToRequestor,
  maskToVerbs,
  type Requestor,
  REQUESTORS,
  requestorToMask,
  type ResourceDescriptor,
  type Role,
  type RoleServiceAccess,
  type Service,
  type ServiceDoc,
  type ServiceType,
  SYSTEM_RESOURCES,
  type SystemRecordTypes,
  type Timestamps,
  type User,
  type UserAppRole,
  type Verb,
  VERBS,
  verbsToMask,
} from "./resources.ts";
export {
  API_KEY_HEADER,
  type ExchangeListener,
  type HttpExchange,
  type QueryValue,
  renderCurl,
  type RequestDescription,
  type RequestOptions,
  SESSION_HEADER,
  type TransportResponse,
} from "./transport.ts";

/** The system resources as builders, each typed with its record interface. */
export type SystemResources = {
  readonly [K in keyof SystemRecordTypes]: Query<SystemRecordTypes[K]>;
};

/** A field of a table schema (`_schema`). */
export interface FieldSchema {
  /** Column name. */
  name: string;
  /** DreamFactory simple type (`id`, `string`, `integer`, `reference`, `boolean`, ...). */
  type?: string;
  /** Native type. */
  db_type?: string;
  /** Length of string columns. */
  length?: number | null;
  /** Whether NULL is allowed. */
  allow_null?: boolean;
  /** Default value. */
  default?: unknown;
  /** Primary key flag. */
  is_primary_key?: boolean;
  /** Referenced table (foreign keys). */
  ref_table?: string | null;
  /** Referenced field (foreign keys). */
  ref_field?: string | null;
  /** Any other attribute DreamFactory knows. */
  [key: string]: unknown;
}

/** A relationship of a table schema. */
export interface RelationSchema {
  /** Relationship name, e.g. `note_by_contact_id`. */
  name: string;
  /** `belongs_to`, `has_one`, `has_many`, `many_many`. */
  type?: string;
  /** Any other attribute. */
  [key: string]: unknown;
}

/** A table description (`GET /{db}/_schema/{table}`) or a table to create. */
export interface TableSchema {
  /** Table name. */
  name: string;
  /** Label. */
  label?: string;
  /** Plural label. */
  plural?: string;
  /** Description. */
  description?: string | null;
  /** Primary key columns. */
  primary_key?: string[];
  /** Fields. */
  field?: FieldSchema[];
  /** Relationships. */
  related?: RelationSchema[];
  /** Any other attribute. */
  [key: string]: unknown;
}

/** Schema operations of one database service. */
export interface SchemaApi {
  /** Table names. */
  list(): Promise<string[]>;
  /** One table's description (fields, relationships, primary key). */
  get(table: string): Promise<TableSchema>;
  /** Creates tables (an existing table is merged by DreamFactory); returns their names. */
  create(tables: TableSchema | TableSchema[]): Promise<{ name: string }[]>;
  /** Adds or alters fields of existing tables (PATCH; unlisted fields are kept). */
  update(tables: TableSchema | TableSchema[]): Promise<{ name: string }[]>;
  /** Drops a table. */
  drop(table: string): Promise<void>;
}

/** A database service (`/api/v2/{name}`). */
export interface Database {
  /** Service name. */
  readonly name: string;
  /** A builder on one table; `Row` types its records. */
  table<Row = Record<string, unknown>>(table: string, options?: { idField?: string }): Query<Row>;
  /** Schema operations. */
  readonly schema: SchemaApi;
}

const INSPECT = Symbol.for("Deno.customInspect");

/** Where a resource's schema is cached: a table's as `service/table` (the key schema writes
 * clear), a system resource's by its path. */
function schemaKey(res: ResourceDescriptor): string {
  return res.table ? `${res.table.service}/${res.table.name}` : `system:${res.path}`;
}

/**
 * A connected DreamFactory client. Create it with {@linkcode connect}.
 *
 * @example
 * ```ts
 * import { connect } from "@dfkit/dfkit";
 * const df = await connect({ url: "http://127.0.0.1:8080", email: "a@b.c", password: "pw" });
 * const roles = await df.system.role.fields("id", "name");
 * const contacts = await df.db("db").table<{ id: number; name: string }>("contact").limit(10);
 * await df.logout();
 * ```
 */
export class DreamFactory {
  /** Base URL of the instance (no secret). */
  readonly url: string;
  /** The system resources as immutable builders. */
  readonly system: SystemResources;
  readonly #transport: Transport;
  readonly #auth: AuthStore;
  readonly #ctx: QueryContext;
  readonly #schemaCache = new Map<string, Promise<TableSchema | undefined>>();

  /** Use {@linkcode connect} instead; this does not log in. */
  constructor(transport: Transport, auth: AuthStore) {
    this.#transport = transport;
    this.#auth = auth;
    this.url = transport.url;
    this.#ctx = {
      send: (method, path, options) => this.#transport.send(method, path, options),
      describe: (method, path, options) =>
        this.#transport.describe(method, path, options, {
          token: this.#auth.hasToken,
          apiKey: this.#auth.hasApiKey,
        }),
      tableRelationships: (service, table) => this.#tableRelationships(service, table),
      tableKey: (service, table) => this.#tableKey(service, table),
      fieldsOf: (res) => this.#fieldsOf(res),
      forgetSchema: (res) => this.#schemaCache.delete(schemaKey(res)),
    };
    const system: Record<string, Query<unknown>> = {};
    for (const [key, descriptor] of Object.entries(SYSTEM_RESOURCES)) {
      system[key] = new Query(this.#ctx, descriptor);
    }
    this.system = Object.freeze(system) as unknown as SystemResources;
  }

  /** The session (id, email, name, is_sys_admin, role, expiry...) without the token. */
  get session(): SessionInfo | undefined {
    return this.#auth.session;
  }

  /** Counts of token refreshes and logins so far. */
  get authStats(): { refreshes: number; logins: number } {
    return this.#auth.stats;
  }

  /** Refreshes the session token now (single flight; logs in again if the refresh is refused). */
  refresh(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#auth.refresh(options.signal);
  }

  /** Ends the session on the server. The client keeps working with its API key, if any. */
  logout(options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#auth.logout(options.signal);
  }

  /**
   * Subscribes to every HTTP exchange (a redacted copy: tokens, keys and passwords replaced).
   * Returns the unsubscribe function.
   */
  onExchange(listener: ExchangeListener): () => void {
    return this.#transport.onExchange(listener);
  }

  /**
   * Starts recording this client's calls as a HAR log with secrets redacted, for support and bug
   * reports; open it in browser devtools or any HAR viewer.
   *
   * @example
   * ```ts
   * import { connect } from "@dfkit/dfkit";
   * const df = await connect();
   * const har = df.recordHar();
   * await df.system.role.fields("id", "name");
   * await har.save("session.har"); // tokens, keys and passwords are "[REDACTED]"
   * har.stop();
   * ```
   */
  recordHar(): HarRecorder {
    return recordHar(this);
  }

  /**
   * Low-level call: path relative to `/api/v2`, body sent as JSON as given. Returns the parsed
   * JSON answer; throws `DreamFactoryError` on errors.
   *
   * @example
   * ```ts
   * import { connect } from "@dfkit/dfkit";
   * const df = await connect();
   * const env = await df.request("GET", "system/environment");
   * ```
   */
  async request<R = unknown>(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<R> {
    const res = await this.#transport.send(method, path, options);
    return hideSecrets(res.body) as R; // printed, a session answer shows no token
  }

  /** Like {@linkcode request} but also returns the status and headers. */
  async raw(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TransportResponse> {
    const res = await this.#transport.send(method, path, options);
    hideSecrets(res.body);
    return res;
  }

  /** The exact call `request()` would send, credentials as `$DF_...` placeholders. */
  describe(method: string, path: string, options: RequestOptions = {}): RequestDescription {
    return this.#ctx.describe(method, path, options);
  }

  /** The tables a multi-table schema call returned. DreamFactory answers 200 even when some
   * tables failed, with an `{"error": {...}}` entry in their place: that is a batch error. */
  #schemaResults(body: unknown, method: string, service: string): { name: string }[] {
    const entries = recordsOf<Record<string, unknown>>(body);
    const failed = entries.flatMap((e, i) => e && typeof e === "object" && "error" in e ? [i] : []);
    if (!failed.length) return entries as { name: string }[];
    throw errorFromResponse(400, {
      error: {
        code: 1000,
        message: `Batch Error: ${failed.length} of ${entries.length} tables failed.`,
        context: {
          error: failed,
          // Each failed table's own error, as DreamFactory lists failed records in a batch.
          resource: entries.map((e, i) =>
            failed.includes(i) ? { code: 500, ...(e.error as Record<string, unknown>) } : e
          ),
        },
      },
    }, {
      method,
      path: `/api/v2/${service}/_schema`,
      submitted: entries.length,
      redact: (t) => this.#transport.redact(t),
    });
  }

  /** A database service by name. */
  db(name: string): Database {
    tableDescriptor(name, "x"); // validates the service name
    const send = this.#ctx.send;
    const schema: SchemaApi = {
      list: async () => {
        const res = await send("GET", `${name}/_schema`, { query: { as_list: true } });
        return recordsOf<unknown>(res.body).map((r) =>
          typeof r === "string" ? r : String((r as { name: string }).name)
        );
      },
      get: async (table) => {
        const res = await send("GET", `${name}/_schema/${encodeURIComponent(table)}`, {});
        return res.body as TableSchema;
      },
      create: async (tables) => {
        const list = Array.isArray(tables) ? tables : [tables];
        const res = await send("POST", `${name}/_schema`, {
          body: { resource: list },
          submitted: list.length,
        });
        this.#schemaCache.clear();
        return this.#schemaResults(res.body, "POST", name);
      },
      update: async (tables) => {
        const list = Array.isArray(tables) ? tables : [tables];
        const res = await send("PATCH", `${name}/_schema`, {
          body: { resource: list },
          submitted: list.length,
        });
        this.#schemaCache.clear();
        return this.#schemaResults(res.body, "PATCH", name);
      },
      drop: async (table) => {
        await send("DELETE", `${name}/_schema/${encodeURIComponent(table)}`, {});
        this.#schemaCache.clear();
      },
    };
    return {
      name,
      schema,
      table: <Row>(table: string, options: { idField?: string } = {}) =>
        new Query<Row>(this.#ctx, tableDescriptor(name, table, options.idField)),
    };
  }

  /** Relationship names of a table (from `_schema`, cached), for checking `.related()`. */
  async #tableRelationships(service: string, table: string): Promise<string[] | undefined> {
    const related = (await this.#tableSchema(service, table))?.related;
    return Array.isArray(related) ? related.map((r) => String(r.name)) : undefined;
  }

  /** A resource's field names: a table's from its `_schema`, a system resource's from the
   * schema DreamFactory adds to a read with `include_schema` (both cached). */
  async #fieldsOf(res: ResourceDescriptor): Promise<string[] | undefined> {
    const schema = res.table
      ? await this.#tableSchema(res.table.service, res.table.name)
      : await this.#systemSchema(res);
    const field = (schema as { field?: unknown } | undefined)?.field;
    return Array.isArray(field) ? field.map((f) => String(f?.name)) : undefined;
  }

  /** A system resource's schema, read once per client with one record (undefined when the
   * resource has none or may not be read). */
  #systemSchema(res: ResourceDescriptor): Promise<TableSchema | undefined> {
    return this.#cachedSchema(
      schemaKey(res),
      () => this.#transport.send("GET", res.path, { query: { include_schema: true, limit: 1 } }),
      (body) => (body as { meta?: { schema?: TableSchema } } | null)?.meta?.schema,
    );
  }

  /** A table's single-column primary key (from `_schema`, cached). */
  async #tableKey(service: string, table: string): Promise<string | undefined> {
    const pk = (await this.#tableSchema(service, table) as { primary_key?: unknown } | undefined)
      ?.primary_key;
    const keys = Array.isArray(pk) ? pk : typeof pk === "string" ? [pk] : [];
    return keys.length === 1 ? String(keys[0]) : undefined;
  }

  /** A table's schema, read once per client (undefined without schema access). */
  #tableSchema(service: string, table: string): Promise<TableSchema | undefined> {
    return this.#cachedSchema(
      `${service}/${table}`,
      () => this.#transport.send("GET", `${service}/_schema/${encodeURIComponent(table)}`, {}),
      (body) => (body ?? undefined) as TableSchema | undefined,
    );
  }

  /** One schema read per key and client; a refused read is undefined (the server decides). */
  #cachedSchema(
    key: string,
    read: () => Promise<TransportResponse>,
    pick: (body: unknown) => TableSchema | undefined,
  ): Promise<TableSchema | undefined> {
    let hit = this.#schemaCache.get(key);
    if (!hit) {
      hit = read().then((res) => pick(res.body)).catch(() => undefined);
      this.#schemaCache.set(key, hit);
    }
    return hit;
  }

  /** Shows the URL and the kind of session, never a secret. */
  [INSPECT](inspect: (v: unknown, o?: unknown) => string, options?: unknown): string {
    return `DreamFactory ${inspect(this.toJSON(), options)}`;
  }

  /** URL, auth kind and session (never a secret). */
  toJSON(): Record<string, unknown> {
    return { url: this.url, auth: this.#auth.describe(), session: this.session ?? null };
  }
}

/**
 * Connects to DreamFactory and returns a client.
 *
 * - `{ url, email, password }`: admin session (`POST /api/v2/system/admin/session`);
 *   with `admin: false` or an `apiKey`, a user session (`/api/v2/user/session`).
 * - `{ url, apiKey }`: API-key calls, no session.
 * - `{ url, sessionToken }`: reuses a session (validated now).
 * - `{ profile: "staging" }`: settings from the profiles file (see `ConnectOptions.profilesFile`).
 * - no `url`: reads `DF_URL`, `DF_API_KEY`, `DF_EMAIL`, `DF_PASSWORD`, `DF_SESSION_TOKEN`
 *   (or `DF_PROFILE`).
 *
 * The session token is refreshed before it expires (one refresh at a time), and if the server
 * refuses the refresh a fresh login is made when the email and password are known.
 *
 * @example
 * ```ts
 * import { connect } from "@dfkit/dfkit";
 * const df = await connect({ url: "http://127.0.0.1:8080", email: "admin@example.com",
 *   password: "Passw0rd123" });
 * console.log(df.session?.email);
 * ```
 */
export async function connect(options: ConnectOptions = {}): Promise<DreamFactory> {
  const resolved = await resolveConnectOptions(options);
  const transport = new Transport({
    url: resolved.url,
    timeout: resolved.timeout,
    retries: resolved.retries,
    fetch: resolved.fetch,
  });
  const auth = new AuthStore(transport, resolved);
  transport.setCredentials(auth);
  const df = new DreamFactory(transport, auth);
  if (resolved.onExchange) df.onExchange(resolved.onExchange);
  await auth.start();
  return df;
}
