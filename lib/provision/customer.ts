/**
 * The server side of a customer: reading its role, app and limit by name, and the few writes the
 * recipes make. Every call goes through the dfkit client, so it is logged, redacted and retried
 * like any other.
 *
 * @module
 */
import type { DreamFactory } from "../client.ts";
import { f } from "../filter/mod.ts";
import type {
  App,
  Limit,
  Role,
  RoleServiceAccess,
  Service,
  User,
  UserAppRole,
} from "../resources.ts";
import { ProvisionError } from "./run.ts";
import {
  customerDescription,
  type CustomerNames,
  customerNames,
  readDescription,
  userLookupFilter,
} from "./spec.ts";

/** Relations read with the customer's role. */
export const ROLE_RELATIONS = ["role_service_access_by_role_id", "user_to_app_to_role_by_role_id"];

/** A customer's records as found on the server (any of them may be missing). */
export interface CustomerState {
  names: CustomerNames;
  role: Role | null;
  app: App | null;
  /** The limit counting the customer's key (`per: "key"`). */
  limit: Limit | null;
  /** Every limit named for the customer: the key's and the per-user ones. */
  limits: Limit[];
}

/** Reads the role (with its access rules and assignments), app and limit named for `key`. */
export async function readCustomer(df: DreamFactory, key: string): Promise<CustomerState> {
  const names = customerNames(key);
  const userLimits = `${names.limit}:%`;
  const [role, app, found] = await Promise.all([
    df.system.role.filter(f`name = ${names.role}`).related(...ROLE_RELATIONS).first(),
    df.system.app.filter(f`name = ${names.app}`).first(),
    df.system.limit.filter(f`(name = ${names.limit}) or (name like ${userLimits})`),
  ]);
  // LIKE treats "_" in a key as a wildcard: keep exact prefixes only.
  const limits = (found as Limit[]).filter((l) =>
    l.name === names.limit || l.name.startsWith(`${names.limit}:`)
  );
  return {
    names,
    role: (role ?? null) as Role | null,
    app: (app ?? null) as App | null,
    limit: limits.find((l) => l.name === names.limit) ?? null,
    limits,
  };
}

/**
 * Whether a record's description carries dfkit's marker for `key` (`dfkit customer <key>`),
 * with or without the pending-key tag.
 */
export function isMarked(key: string, description: unknown): boolean {
  return readDescription(key, description) !== null;
}

/** Whether an app's key was never returned to a caller (its description has the pending tag). */
export function isKeyPending(key: string, app: App | null): boolean {
  return readDescription(key, app?.description)?.pending === true;
}

/** The description without the pending-key tag (what it is once the key is handed over). */
export function settledDescription(key: string, description: string): string {
  const read = readDescription(key, description);
  return read?.pending ? customerDescription(key, read.name) : description;
}

/**
 * Throws a {@linkcode ProvisionError} when a role, app or limit named for the customer lacks
 * dfkit's marker: someone made it by hand, and it must not be rewritten, suspended or deleted as
 * the customer's. `adopt` lets `provisionCustomer` take such records over (it writes the marker).
 */
export function refuseForeign(state: CustomerState, recipe: string, adopt = false): void {
  if (adopt) return;
  const key = state.names.key;
  const foreign = [
    ...(state.role && !isMarked(key, state.role.description) ? [["role", state.role]] : []),
    ...(state.app && !isMarked(key, state.app.description) ? [["app", state.app]] : []),
    ...state.limits.filter((l) => !isMarked(key, l.description)).map((l) => ["limit", l]),
  ] as [string, { id: number; name: string }][];
  if (foreign.length === 0) return;
  const what = foreign.map(([kind, r]) => `${kind} "${r.name}" (id ${r.id})`).join(", ");
  throw new ProvisionError({
    key,
    step: "read customer",
    cause: new Error(
      `${what} ${foreign.length === 1 ? "is" : "are"} named for customer "${key}" but not ` +
        `made by dfkit (the description does not start with "dfkit customer ${key}"), so ` +
        `${recipe} leaves ${foreign.length === 1 ? "it" : "them"} alone; rename ` +
        `${foreign.length === 1 ? "it" : "them"}, use another customer key, or take ` +
        `${foreign.length === 1 ? "it" : "them"} over with provisionCustomer(df, spec, ` +
        `{ adopt: true }) (dfkit customer provision ${key} --adopt)`,
    ),
    undone: [],
    undoFailures: [],
  });
}

/** Every service's id by name (lower-case), for access rules. */
export async function serviceIds(df: DreamFactory): Promise<Map<string, number>> {
  const services = (await df.system.service.fields("id", "name")) as Pick<Service, "id" | "name">[];
  return new Map(services.map((s) => [s.name.toLowerCase(), s.id]));
}

/** A user by e-mail (in any letter case, as DreamFactory's logins match it), with its app-role
 * assignments, or null. */
export async function findUser(df: DreamFactory, email: string): Promise<User | null> {
  // `like` compares without case on DreamFactory's usual databases; its `_` and `%` wildcards
  // may let in a few near misses, which the exact comparison below drops.
  const candidates = await df.system.user.filter(userLookupFilter(email))
    .related("user_to_app_to_role_by_user_id").limit(100);
  const wanted = email.toLowerCase();
  const user = candidates.find((u) => String(u.email).toLowerCase() === wanted);
  return (user ?? null) as User | null;
}

/** The access rules of a role as read from the server. */
export function accessRows(role: Role | null): RoleServiceAccess[] {
  // DreamFactory 7 stores a service-root component ("") as null (Laravel's
  // ConvertEmptyStringsToNull on every request body), and its access check reads null as "":
  // so does dfkit, or a root rule would read back as "*" (the whole service) and never match.
  return (role?.role_service_access_by_role_id ?? []).map((r) =>
    r.component == null ? { ...r, component: "" } : r
  );
}

/** The user assignments of a role on one app. */
export function appAssignments(role: Role | null, appId: number): UserAppRole[] {
  return (role?.user_to_app_to_role_by_role_id ?? []).filter((a) => a.app_id === appId);
}
