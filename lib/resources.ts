/**
 * What dfkit knows about DreamFactory's resources: record types of every system resource, and
 * thin descriptors (path, identifying field, known relationships, secret fields) that the one
 * generic query builder works from. Also the verb and requestor bitmasks as names.
 *
 * @module
 */

/** Fields every system table row carries. */
export interface Timestamps {
  /** ISO 8601 UTC with microseconds. */
  created_date?: string;
  /** ISO 8601 UTC with microseconds. */
  last_modified_date?: string;
  /** Id of the creating user (number or numeric string, depending on the driver). */
  created_by_id?: number | string | null;
  /** Id of the last modifying user. */
  last_modified_by_id?: number | string | null;
}

/** A lookup (global variable, or a user's/role's/app's). */
export interface Lookup extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Value (private values read back masked). */
  value?: string | null;
  /** Private values read back as `**********`. */
  private?: boolean;
  /** Free-text description. */
  description?: string | null;
}

/** A user-to-app-to-role assignment. */
export interface UserAppRole {
  /** Primary key. */
  id?: number;
  /** User id. */
  user_id?: number;
  /** App id. */
  app_id: number;
  /** Role id. */
  role_id: number;
}

/** A non-admin user (`/system/user`); admins (`/system/admin`) have the same shape. */
export interface User extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Login name (defaults to the email). */
  username?: string | null;
  /** First name. */
  first_name?: string | null;
  /** Last name. */
  last_name?: string | null;
  /** Email address (unique). */
  email: string;
  /** Write-only. */
  password?: string;
  /** Whether it is active. */
  is_active?: boolean;
  /** Phone number. */
  phone?: string | null;
  /** Security question. */
  security_question?: string | null;
  /** Write-only. */
  security_answer?: string;
  /** Default app id. */
  default_app_id?: number | null;
  /** Last login, `YYYY-MM-DD HH:MM:SS`. */
  last_login_date?: string | null;
  /** Whether the account is confirmed (always returned). */
  confirmed?: boolean;
  /** Whether the confirmation expired (always returned). */
  expired?: boolean;
  /** App-role assignments (relationship). */
  user_to_app_to_role_by_user_id?: UserAppRole[];
  /** User lookups (relationship). */
  lookup_by_user_id?: Lookup[];
  /** Relationships and other fields by name. */
  [relation: string]: unknown;
}

/** A sys-admin (`/system/admin`). */
export type Admin = User;

/** One access rule of a role. */
export interface RoleServiceAccess extends Timestamps {
  /** Primary key. */
  id?: number;
  /** Role id. */
  role_id?: number | null;
  /** null = all services. */
  service_id: number | null;
  /** `""`, `*`, `_table/*`, `_table/contact/*`, `_schema/` ... */
  component: string;
  /** GET 1, POST 2, PUT 4, PATCH 8, DELETE 16 (see {@linkcode verbsToMask}). */
  verb_mask: number;
  /** API 1, SCRIPT 2 (see {@linkcode requestorToMask}); 0 never applies. */
  requestor_mask: number;
  /** Server-side row filters. */
  filters?: { name: string; operator: string; value: unknown }[];
  /** How row filters combine: `AND` or `OR`. */
  filter_op?: "AND" | "OR" | string;
}

/** A role (`/system/role`). */
export interface Role extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Free-text description. */
  description?: string | null;
  /** Whether it is active. */
  is_active?: boolean;
  /** Access rules (relationship). */
  role_service_access_by_role_id?: RoleServiceAccess[];
  /** Role lookups (relationship). */
  lookup_by_role_id?: Lookup[];
  /** User assignments (relationship). */
  user_to_app_to_role_by_role_id?: UserAppRole[];
  /** Relationships and other fields by name. */
  [relation: string]: unknown;
}

/** An app and its API key (`/system/app`). */
export interface App extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** The API key (64 hex characters). */
  api_key?: string;
  /** Free-text description. */
  description?: string | null;
  /** Whether it is active. */
  is_active?: boolean;
  /** 0 none (API key only), 1 storage service, 2 URL, 3 path, 4 git. */
  type?: number;
  /** Path. */
  path?: string | null;
  /** URL. */
  url?: string | null;
  /** Storage service id. */
  storage_service_id?: number | null;
  /** Storage folder. */
  storage_container?: string | null;
  /** Launch full screen. */
  requires_fullscreen?: boolean;
  /** Allow the full-screen toggle. */
  allow_fullscreen_toggle?: boolean;
  /** Toggle position. */
  toggle_location?: string;
  /** Role id. */
  role_id?: number | null;
  /** Computed launch URL. */
  launch_url?: string;
  /** Default role (relationship). */
  role_by_role_id?: Role | null;
  /** Relationships and other fields by name. */
  [relation: string]: unknown;
}

/** A service's API document. */
export interface ServiceDoc {
  /** Service id. */
  service_id?: number;
  /** 0 Swagger JSON, 1 Swagger YAML, 2 RAML, 3 API Blueprint, 4 IO Docs. */
  format: number;
  /** Content. */
  content: string;
}

/** A service (`/system/service`). Secret config values read back as `**********`. */
export interface Service extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Display label. */
  label?: string;
  /** Free-text description. */
  description?: string | null;
  /** Whether it is active. */
  is_active?: boolean;
  /** Type. */
  type: string;
  /** Whether it may be changed. */
  mutable?: boolean;
  /** Whether it may be deleted. */
  deletable?: boolean;
  /** Type-specific configuration (secrets masked). */
  config?: Record<string, unknown>;
  /** API document (relationship). */
  service_doc_by_service_id?: ServiceDoc | null;
  /** Relationships and other fields by name. */
  [relation: string]: unknown;
}

/** A service type (`/system/service_type`, read-only). */
export interface ServiceType {
  /** Name (unique). */
  name: string;
  /** Display label. */
  label: string;
  /** Free-text description. */
  description?: string;
  /** Service type group. */
  group: string;
  /** Only one service of this type. */
  singleton?: boolean;
  /** Required dependencies. */
  dependencies_required?: unknown;
  /** Required subscription level. */
  subscription_required?: unknown;
  /** Whether the API definition is editable. */
  service_definition_editable?: boolean;
  /** Configuration fields. */
  config_schema?: unknown[];
}

/** A CORS entry (`/system/cors`). */
export interface Cors extends Timestamps {
  /** Primary key. */
  id: number;
  /** Path. */
  path: string;
  /** Free-text description. */
  description?: string | null;
  /** Allowed origins. */
  origin: string;
  /** Allowed headers. */
  header?: string;
  /** Exposed headers. */
  exposed_header?: string | null;
  /** Verbs as names (written as names or a mask). */
  method?: string[] | number;
  /** Preflight cache seconds. */
  max_age?: number;
  /** Allow credentials. */
  supports_credentials?: boolean;
  /** Whether it is enabled. */
  enabled?: boolean;
}

/** An email template (`/system/email_template`). */
export interface EmailTemplate extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Free-text description. */
  description?: string | null;
  /** Recipients. */
  to?: string[] | string | null;
  /** Copy recipients. */
  cc?: string[] | string | null;
  /** Blind copy recipients. */
  bcc?: string[] | string | null;
  /** Subject line. */
  subject?: string | null;
  /** Attachments. */
  attachment?: unknown;
  /** Plain-text body. */
  body_text?: string | null;
  /** HTML body. */
  body_html?: string | null;
  /** Sender name. */
  from_name?: string | null;
  /** Sender email. */
  from_email?: string | null;
  /** Reply-to name. */
  reply_to_name?: string | null;
  /** Reply-to email. */
  reply_to_email?: string | null;
  /** Default values (read-only). */
  defaults?: unknown;
}

/** A rate limit (`/system/limit`). */
export interface Limit extends Timestamps {
  /** Primary key. */
  id: number;
  /** Name (unique). */
  name: string;
  /** Type. */
  type: string;
  /** Computed unique key. */
  key_text?: string;
  /** Allowed calls per period. */
  rate: number;
  /** `minute`, `hour`, `day`, `7-day`, `30-day` (written as name or 0..4). */
  period: string | number;
  /** User id. */
  user_id?: number | null;
  /** Role id. */
  role_id?: number | null;
  /** Service id. */
  service_id?: number | null;
  /** Endpoint path. */
  endpoint?: string | null;
  /** HTTP verb, or null for all. */
  verb?: string | null;
  /** Free-text description. */
  description?: string | null;
  /** Whether it is active. */
  is_active?: boolean;
  /** Relationships and other fields by name. */
  [relation: string]: unknown;
}

/** An event script (`/system/event_script`); identified by its event name. */
export interface EventScript extends Timestamps {
  /** Name (unique). */
  name: string;
  /** Type. */
  type: string;
  /** Content. */
  content?: string | null;
  /** Type-specific configuration (secrets masked). */
  config?: string | null;
  /** Storage service id. */
  storage_service_id?: number | null;
  /** Storage path. */
  storage_path?: string | null;
  /** Source control reference. */
  scm_reference?: string | null;
  /** Source control repository. */
  scm_repository?: string | null;
  /** Whether it is active. */
  is_active?: boolean;
  /** Whether the script may modify the event. */
  allow_event_modification?: boolean;
}

/** How the builder talks to one kind of resource. Resources differ by this data only. */
export interface ResourceDescriptor {
  /** Display name (`user`, `db.contact`). */
  readonly name: string;
  /** Path under `/api/v2` (`system/user`, `db/_table/contact`). */
  readonly path: string;
  /** Identifying field (`id`, `name`). */
  readonly idField: string;
  /** `system` resources cannot update/delete by filter (dfkit resolves ids first) and refuse
   * unknown relationships; `table` resources take filters on writes. */
  readonly kind: "system" | "table";
  /** Relationship names the server accepts, when known (used to reject typos locally). */
  readonly relationships?: readonly string[];
  /** Write-only fields that must never be displayed. */
  readonly secretFields?: readonly string[];
  /** True when the resource cannot be written. */
  readonly readOnly?: boolean;
  /** For tables: the database service and the table name. */
  readonly table?: { readonly service: string; readonly name: string };
}

const AUDIT = ["user_by_created_by_id", "user_by_last_modified_by_id"] as const;
const USER_RELATIONS = [
  "app_by_user_to_app_to_role",
  "lookup_by_user_id",
  "role_by_user_to_app_to_role",
  "user_custom_by_user_id",
  "user_to_app_to_role_by_user_id",
  ...AUDIT,
] as const;

/**
 * Descriptors of the system resources, keyed as `df.system.<key>`.
 *
 * @example
 * ```ts
 * import { SYSTEM_RESOURCES } from "@dfkit/dfkit";
 * SYSTEM_RESOURCES.user.relationships; // ["app_by_user_to_app_to_role", ...]
 * ```
 */
export const SYSTEM_RESOURCES = {
  user: {
    name: "user",
    path: "system/user",
    idField: "id",
    kind: "system",
    relationships: USER_RELATIONS,
    secretFields: ["password", "security_answer"],
  },
  admin: {
    name: "admin",
    path: "system/admin",
    idField: "id",
    kind: "system",
    relationships: USER_RELATIONS,
    secretFields: ["password", "security_answer"],
  },
  role: {
    name: "role",
    path: "system/role",
    idField: "id",
    kind: "system",
    relationships: [
      "app_by_role_id",
      "app_by_user_to_app_to_role",
      "lookup_by_role_id",
      "role_service_access_by_role_id",
      "service_by_role_service_access",
      "user_by_user_to_app_to_role",
      "user_to_app_to_role_by_role_id",
      ...AUDIT,
    ],
  },
  app: {
    name: "app",
    path: "system/app",
    idField: "id",
    kind: "system",
    relationships: [
      "lookup_by_app_id",
      "role_by_role_id",
      "service_by_storage_service_id",
      "user_to_app_to_role_by_app_id",
      ...AUDIT,
    ],
    secretFields: ["api_key"],
  },
  service: {
    name: "service",
    path: "system/service",
    idField: "id",
    kind: "system",
    relationships: [
      "app_by_storage_service_id",
      "role_by_role_service_access",
      "role_service_access_by_service_id",
      "service_doc_by_service_id",
      ...AUDIT,
    ],
  },
  service_type: {
    name: "service_type",
    path: "system/service_type",
    idField: "name",
    kind: "system",
    relationships: [],
    readOnly: true,
  },
  lookup: { name: "lookup", path: "system/lookup", idField: "id", kind: "system" },
  cors: { name: "cors", path: "system/cors", idField: "id", kind: "system" },
  email_template: {
    name: "email_template",
    path: "system/email_template",
    idField: "id",
    kind: "system",
  },
  limit: {
    name: "limit",
    path: "system/limit",
    idField: "id",
    kind: "system",
    relationships: [
      "limit_cache_by_limit_id",
      "role_by_role_id",
      "service_by_service_id",
      "user_by_user_id",
      ...AUDIT,
    ],
  },
  event_script: {
    name: "event_script",
    path: "system/event_script",
    idField: "name",
    kind: "system",
  },
} as const satisfies Record<string, ResourceDescriptor>;

/** Record type of each system resource, keyed like {@linkcode SYSTEM_RESOURCES}. */
export interface SystemRecordTypes {
  /** User. */
  user: User;
  /** Admin. */
  admin: Admin;
  /** Role. */
  role: Role;
  /** App. */
  app: App;
  /** Service. */
  service: Service;
  /** Service type. */
  service_type: ServiceType;
  /** Lookup. */
  lookup: Lookup;
  /** Cors. */
  cors: Cors;
  /** Email template. */
  email_template: EmailTemplate;
  /** Limit. */
  limit: Limit;
  /** Event script. */
  event_script: EventScript;
}

/** Descriptor of a database table (`/{service}/_table/{table}`). */
export function tableDescriptor(
  service: string,
  table: string,
  idField = "id",
): ResourceDescriptor {
  if (!/^[\w.-]+$/.test(service)) {
    throw new TypeError(
      `Invalid service name ${JSON.stringify(service)}: use letters, digits, "_", "-" or ".".`,
    );
  }
  if (!table || /[/?#]/.test(table)) {
    throw new TypeError(`Invalid table name ${JSON.stringify(table)}: it may not contain / ? #.`);
  }
  return {
    name: `${service}.${table}`,
    path: `${service}/_table/${encodeURIComponent(table)}`,
    idField,
    kind: "table",
    table: { service, name: table },
  };
}

/**
 * DreamFactory's verb bits, by name.
 *
 * @example
 * ```ts
 * import { VERBS } from "@dfkit/dfkit";
 * VERBS.GET | VERBS.POST; // 3
 * ```
 */
export const VERBS = {
  GET: 1,
  POST: 2,
  PUT: 4,
  PATCH: 8,
  DELETE: 16,
  OPTIONS: 32,
  HEAD: 64,
  COPY: 128,
  TRACE: 256,
  CONNECT: 512,
} as const;

/** A verb name. */
export type Verb = keyof typeof VERBS;

/**
 * Requestor bits: calls from the API (1), from scripts (2).
 *
 * @example
 * ```ts
 * import { REQUESTORS } from "@dfkit/dfkit";
 * REQUESTORS.API; // 1
 * ```
 */
export const REQUESTORS = { API: 1, SCRIPT: 2 } as const;

/** A requestor name. */
export type Requestor = keyof typeof REQUESTORS;

function toMask<K extends string>(
  names: readonly string[],
  table: Record<K, number>,
  what: string,
): number {
  let mask = 0;
  for (const n of names) {
    const key = String(n).toUpperCase() as K;
    if (!(key in table)) {
      throw new TypeError(
        `Unknown ${what} ${JSON.stringify(n)}; use ${Object.keys(table).join(", ")}`,
      );
    }
    mask |= table[key];
  }
  return mask;
}

function fromMask<K extends string>(mask: number, table: Record<K, number>, what: string): K[] {
  if (!Number.isInteger(mask) || mask < 0) {
    throw new TypeError(`A ${what} mask must be a non-negative integer, got ${mask}`);
  }
  const out: K[] = [];
  let rest = mask;
  for (const [name, bit] of Object.entries(table) as [K, number][]) {
    if (mask & bit) out.push(name);
    rest &= ~bit;
  }
  if (rest) throw new TypeError(`The ${what} mask ${mask} has unknown bits (${rest})`);
  return out;
}

/**
 * Verb names to DreamFactory's `verb_mask`.
 *
 * @example
 * ```ts
 * import { verbsToMask } from "@dfkit/dfkit";
 * verbsToMask(["GET", "POST"]); // 3
 * ```
 */
export function verbsToMask(verbs: readonly (Verb | Lowercase<Verb>)[]): number {
  return toMask(verbs, VERBS, "verb");
}

/**
 * A `verb_mask` to verb names, in DreamFactory's bit order.
 *
 * @example
 * ```ts
 * import { maskToVerbs } from "@dfkit/dfkit";
 * maskToVerbs(31); // ["GET", "POST", "PUT", "PATCH", "DELETE"]
 * ```
 */
export function maskToVerbs(mask: number): Verb[] {
  return fromMask(mask, VERBS, "verb");
}

/**
 * Requestor names (`"API"`, `"SCRIPT"`) to `requestor_mask`.
 *
 * @example
 * ```ts
 * import { requestorToMask } from "@dfkit/dfkit";
 * requestorToMask(["API", "SCRIPT"]); // 3
 * ```
 */
export function requestorToMask(requestors: readonly (Requestor | Lowercase<Requestor>)[]): number {
  return toMask(requestors, REQUESTORS, "requestor");
}

/**
 * A `requestor_mask` to names.
 *
 * @example
 * ```ts
 * import { maskToRequestor } from "@dfkit/dfkit";
 * maskToRequestor(1); // ["API"]
 * ```
 */
export function maskToRequestor(mask: number): Requestor[] {
  return fromMask(mask, REQUESTORS, "requestor");
}
