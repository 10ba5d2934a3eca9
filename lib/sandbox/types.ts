/**
 * The contract between the sandbox's core (router, sessions, RBAC, system resources) and the
 * services it dispatches to (SQLite database services, limits). Nothing here does work: it is
 * the shape each side may rely on.
 *
 * @module
 */

/** Who is calling, resolved from the session token and/or API key before dispatch. */
export interface SessionInfo {
  /** The logged-in user's id, or null for API-key-only or anonymous calls. */
  userId: number | null;
  /** The logged-in user's record (no secrets), or null. */
  user: Record<string, unknown> | null;
  /** True for a sys-admin without role assignments: every verb on everything, no role checks. */
  isSysAdmin: boolean;
  /** The app resolved from the API key, or null. */
  appId: number | null;
  /** The role in effect (user-to-app-to-role assignment, else the app's default role), or null. */
  roleId: number | null;
  /** The role's name, when a role is in effect. */
  roleName: string | null;
}

/** One server-side row filter of a role access rule (`role_service_access.filters`). */
export interface RoleFilter {
  name: string;
  operator: string;
  value: unknown;
}

/** What a role grants on one component of one service (rules of the winning category merged). */
export interface AccessGrant {
  /** OR of the verb masks of the winning rules (GET 1, POST 2, PUT 4, PATCH 8, DELETE 16). */
  verbMask: number;
  /** Row filters of the winning rules, to be ANDed onto table queries and checked on writes. */
  filters: RoleFilter[];
  /** How the row filters combine: "AND" or "OR". */
  filterOp: "AND" | "OR";
}

/** A service row as stored in `system/service` (config unmasked: the sandbox's own view). */
export interface ServiceRecord {
  id: number;
  name: string;
  type: string;
  is_active: boolean;
  config: Record<string, unknown>;
}

/** Where and how the sandbox keeps data, as the services need to know it. */
export interface SandboxEnv {
  /** Folder where database services keep their files, or null when the sandbox is in memory. */
  dataDir: string | null;
  /** The per-request record cap (the sandbox's `maxRecords` option). */
  maxRecords: number;
}

/** A request after authentication, verb tunnelling and the role check, as a service sees it. */
export interface RequestContext {
  /** The effective verb, upper-case, after method tunnelling (MERGE already turned into PATCH). */
  method: string;
  /** The full request URL. */
  url: URL;
  /** Request headers (names case-insensitive, as `Headers` are). */
  headers: Headers;
  /** The parsed JSON body; undefined when empty or malformed (DreamFactory treats both alike). */
  payload: unknown;
  /** The service being called. */
  service: ServiceRecord;
  /** The resource path after the service, without leading/trailing slashes (`_table/contact/5`). */
  resource: string;
  /** A query option by name (then its aliases), falling back to a top-level body field. */
  option(name: string, ...aliases: string[]): string | undefined;
  /** The same option read as DreamFactory reads booleans. */
  flag(name: string, ...aliases: string[]): boolean;
  /** The caller. */
  session: SessionInfo;
  /**
   * The caller's grant on a component of this service (`_table/contact`, `_schema/note`, ...), or
   * null when the role grants nothing there. Sys-admins get every verb and no filters.
   */
  access(component: string): AccessGrant | null;
  /** Values for `{user.id}`-style lookups in filters (`user.id`, `user.email`, `role.id`, ...). */
  lookups: Record<string, string>;
}

/** A service the router dispatches to (a database service, for now). */
export interface ServiceHandler {
  /** Answers one request. Throw a `DfError` for DreamFactory-shaped errors. */
  handle(ctx: RequestContext): Response | Promise<Response>;
  /** The component strings of `?as_access_list=true` (`""`, `"*"`, `"_table/"`, ...). */
  accessComponents?(): string[];
  /** Releases files and connections when the service is deleted or the sandbox closes. */
  close?(): void;
}
