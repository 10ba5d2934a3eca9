/**
 * What a customer is made of ({@linkcode CustomerSpec}), its validation (before any request) and
 * the names derived from the customer's key.
 *
 * @module
 */

import { f, type Filter, FilterSyntaxError } from "../filter/mod.ts";
import { laravelClean, trimmedUnlessExcepted } from "../stored.ts";
import { verbsToMask } from "../resources.ts";

/** HTTP verbs a customer's access rule can grant. */
export type AccessVerb = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Limit periods DreamFactory supports, shortest first. */
export type LimitPeriod = "minute" | "hour" | "day" | "7-day" | "30-day";

/**
 * The largest limit rate DreamFactory stores: df-limits creates the column as
 * `$t->integer('rate')` (database/migrations/2017_01_27_190006_create_limits_table.php), a signed
 * 32-bit INT on MySQL and PostgreSQL; larger values fail (or are clamped) on the server.
 */
export const MAX_LIMIT_RATE = 2147483647;

/** The limit periods, in DreamFactory's stored order. */
export const LIMIT_PERIODS: readonly LimitPeriod[] = ["minute", "hour", "day", "7-day", "30-day"];

const ACCESS_VERBS: readonly string[] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/** Server-side row filter operators DreamFactory accepts in role rules. */
const FILTER_OPERATORS = [
  "=",
  "!=",
  ">",
  ">=",
  "<",
  "<=",
  "IN",
  "NOT IN",
  "STARTS WITH",
  "ENDS WITH",
  "CONTAINS",
  "IS NULL",
  "IS NOT NULL",
];

/** A row filter of an access rule: `{ name: "owner_id", operator: "=", value: "{user.id}" }`. */
export interface RowFilter {
  /** Column name. */
  name: string;
  /** One of `=, !=, >, >=, <, <=, IN, NOT IN, STARTS WITH, ENDS WITH, CONTAINS, IS NULL, IS NOT NULL`. */
  operator: string;
  /** Compared value; lookups such as `{user.id}` are allowed. */
  value?: unknown;
}

/** What the customer's key may do on one component of one service. */
export interface AccessRule {
  /** Service name (`"db"`), or `"*"` for every service. */
  service: string;
  /** Component: `"*"` (default: the whole service), `"_table/*"`, `"_table/orders/*"`, `""` (root). */
  component?: string;
  /** Verbs granted. */
  verbs: AccessVerb[];
  /** Row filters applied to every table query and write (optional). */
  filters?: RowFilter[];
  /** How the filters combine (default `"AND"`). */
  filterOp?: "AND" | "OR";
}

/** The customer's volume limit: at most `rate` calls per `period`. */
export interface LimitSpec {
  /** Calls allowed per period (an integer from 1 to 2147483647, DreamFactory's INT column). */
  rate: number;
  /** `"minute" | "hour" | "day" | "7-day" | "30-day"`. */
  period: LimitPeriod;
  /**
   * What is counted: `"key"` (default) every call made with the customer's API key, users'
   * calls included (one `instance.role` limit on the customer's role); `"user"` each of the
   * spec's `users` separately (one `instance.user` limit per user, counting that user's calls
   * with every customer's key). DreamFactory keeps one such limit per user and period, so a user
   * who already has one of this period (from another customer) is refused before any write.
   */
  per?: "key" | "user";
}

/** A person of the customer who gets a user account working with the customer's key. */
export interface CustomerUser {
  /** E-mail address (the login); an existing user with this e-mail is reused. */
  email: string;
  /** Display name (default: the e-mail's local part). */
  name?: string;
  /** First name. */
  first_name?: string;
  /** Last name. */
  last_name?: string;
}

/** Everything a customer gets; `provisionCustomer` makes the server match it. */
export interface CustomerSpec {
  /**
   * The customer's idempotency key (`"acme-42"`): lower-case letters, digits, `.`, `_`, `-`, at
   * most 55 characters. Names the role, app and limit (`customer-acme-42`); the same key always
   * addresses the same customer. Upper-case letters are refused: DreamFactory on MySQL compares
   * names without case, so `ACME-42` and `acme-42` would be one customer there and two elsewhere.
   */
  key: string;
  /** Display name, kept in the descriptions (`"Acme Inc."`). */
  name?: string;
  /**
   * What the customer's API key may call: the complete list (rules not listed are removed). To
   * change another part only, start from `readCustomerSpec` (as `dfkit customer provision` does).
   */
  access: AccessRule[];
  /**
   * Volume limit; absent or null = no limit (an existing one is removed). To keep the current
   * limit while changing something else, start from `readCustomerSpec`.
   */
  limit?: LimitSpec | null;
  /**
   * Users who log in with the customer's key and get the customer's role. Absent = users are
   * left as they are; a list = exactly these users are assigned (others are unassigned, never
   * deleted).
   */
  users?: CustomerUser[];
  /** Send DreamFactory's invitation e-mail to users created by this call. Needs an invite email
   * service in the `user` service's config: without one DreamFactory (and the sandbox) answers
   * 500 "Error processing user invite..." and the call is undone. */
  sendInvites?: boolean;
}

/** A spec that failed validation: `field` names the offending field, the message says the fix. */
export class ProvisionSpecError extends TypeError {
  /** Path of the offending field, e.g. `access[0].verbs[1]`. */
  readonly field: string;

  /** Builds the error for `field`. */
  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = "ProvisionSpecError";
    this.field = field;
  }
}

const KEY_PATTERN = /^[a-z0-9][a-z0-9._-]{0,54}$/;
const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Checks a customer key; throws {@linkcode ProvisionSpecError} naming the problem. */
export function assertCustomerKey(key: unknown, field = "key"): asserts key is string {
  // Refused rather than lower-cased: a key is an identifier the caller stores, and silently
  // answering for another spelling would hide that both spellings exist on their side.
  if (typeof key === "string" && key !== key.toLowerCase() && KEY_PATTERN.test(key.toLowerCase())) {
    throw new ProvisionSpecError(
      field,
      `${JSON.stringify(key)} has upper-case letters; use ${
        JSON.stringify(key.toLowerCase())
      } (DreamFactory on MySQL compares names without case, so both would be one customer there)`,
    );
  }
  if (typeof key !== "string" || !KEY_PATTERN.test(key)) {
    throw new ProvisionSpecError(
      field,
      `${JSON.stringify(key)} is not a customer key; use 1-55 lower-case letters, digits, ".", ` +
        `"_" or "-", starting with a letter or digit (e.g. "acme-42")`,
    );
  }
}

/** The names of everything created for a customer. */
export interface CustomerNames {
  /** Name of the per-user limit of one of the customer's users. */
  userLimit(email: string): string;
  /** The customer's key. */
  key: string;
  /** Role name. */
  role: string;
  /** App name (the app holds the API key). */
  app: string;
  /** Limit name. */
  limit: string;
}

/**
 * The names used for a customer's role, app and limit (all `customer-<key>`).
 *
 * @example
 * ```ts
 * import { customerNames } from "@dfkit/dfkit";
 * customerNames("acme-42").role; // "customer-acme-42"
 * ```
 */
export function customerNames(key: string): CustomerNames {
  assertCustomerKey(key);
  const name = `customer-${key}`;
  return { key, role: name, app: name, limit: name, userLimit: (email) => `${name}:${email}` };
}

/**
 * The filter finding a user by e-mail (`email like ...`: `like` compares without case on
 * DreamFactory's usual databases). Throws `FilterSyntaxError` for an e-mail no filter can quote.
 */
export function userLookupFilter(email: string): Filter {
  return f`email like ${email}`;
}

/**
 * The tag an app's description carries from its creation until a call returns its key: a key
 * whose handover failed stays findable, and the next `provisionCustomer` hands it over.
 */
export const KEY_PENDING = " (key not handed over)";

/**
 * The description stored on each record: marks it as dfkit's and keeps the display name;
 * `pending` adds {@linkcode KEY_PENDING} after the marker.
 */
export function customerDescription(key: string, name?: string, pending = false): string {
  const text = `dfkit customer ${key}${pending ? KEY_PENDING : ""}${name ? `: ${name}` : ""}`;
  if (text.length <= 255) return text;
  // Cut on a code point boundary: half a surrogate pair is stored as U+FFFD, so the description
  // read back would never equal this one and every run would report an update.
  const end = /[\uD800-\uDBFF]/.test(text[254]) ? 254 : 255;
  return text.slice(0, end);
}

/**
 * A description read back: whether it is dfkit's for `key` (else null), whether the key is
 * still pending, and the display name. The one reader of what {@linkcode customerDescription}
 * writes.
 */
export function readDescription(
  key: string,
  description: unknown,
): { pending: boolean; name?: string } | null {
  const marker = `dfkit customer ${key}`;
  if (typeof description !== "string" || !description.startsWith(marker)) return null;
  let rest = description.slice(marker.length);
  const pending = rest.startsWith(KEY_PENDING);
  if (pending) rest = rest.slice(KEY_PENDING.length);
  if (rest === "") return { pending };
  return rest.startsWith(": ") ? { pending, name: rest.slice(2) } : null;
}

/** OR of the verbs' bits (GET 1, POST 2, PUT 4, PATCH 8, DELETE 16). */
export function verbMask(verbs: readonly AccessVerb[]): number {
  return verbsToMask(verbs);
}

/** A row filter as DreamFactory stores it (operator upper-case, value present). */
export interface StoredFilter {
  name: string;
  operator: string;
  value: unknown;
}

/** An access rule with its defaults filled in. */
export interface NormalizedRule {
  service: string;
  component: string;
  verbs: AccessVerb[];
  filters: StoredFilter[];
  filterOp: "AND" | "OR";
}

/** A validated, normalised spec: defaults filled in, verbs upper-case, emails lower-case. */
export interface NormalizedSpec {
  key: string;
  name?: string;
  access: NormalizedRule[];
  limit: LimitSpec | null;
  users?: CustomerUser[];
  sendInvites: boolean;
}

/** Validates a spec before any request; throws {@linkcode ProvisionSpecError} on the first problem. */
export function normalizeSpec(spec: CustomerSpec): NormalizedSpec {
  if (!spec || typeof spec !== "object") {
    throw new ProvisionSpecError("spec", "expected an object like { key, access, limit }");
  }
  assertCustomerKey(spec.key);
  if (spec.name !== undefined && typeof spec.name !== "string") {
    throw new ProvisionSpecError("name", "must be a string (the customer's display name)");
  }
  if (!Array.isArray(spec.access)) {
    throw new ProvisionSpecError(
      "access",
      'must be an array of rules like { service: "db", component: "_table/*", verbs: ["GET"] }',
    );
  }
  const seen = new Set<string>();
  const access = spec.access.map((rule, i): NormalizedRule => {
    const at = `access[${i}]`;
    if (!rule || typeof rule !== "object") throw new ProvisionSpecError(at, "must be an object");
    if (typeof rule.service !== "string" || rule.service.trim() === "") {
      throw new ProvisionSpecError(`${at}.service`, 'must name a service ("db") or be "*"');
    }
    if (rule.component !== undefined && typeof rule.component !== "string") {
      throw new ProvisionSpecError(`${at}.component`, 'must be a string such as "_table/*"');
    }
    // As DreamFactory 7 stores it (trimmed), so a second run finds it unchanged.
    const component = rule.component === undefined ? "*" : stored(rule.component);
    if (!Array.isArray(rule.verbs) || rule.verbs.length === 0) {
      throw new ProvisionSpecError(`${at}.verbs`, 'must list at least one verb, e.g. ["GET"]');
    }
    const verbs = rule.verbs.map((v, j) => {
      const verb = typeof v === "string" ? v.toUpperCase() : v;
      if (!(typeof verb === "string" && ACCESS_VERBS.includes(verb))) {
        throw new ProvisionSpecError(
          `${at}.verbs[${j}]`,
          `${JSON.stringify(v)} is not a verb; use GET, POST, PUT, PATCH or DELETE`,
        );
      }
      return verb as AccessVerb;
    });
    const filters = (rule.filters ?? []).map((f, j): StoredFilter => {
      const fat = `${at}.filters[${j}]`;
      if (!f || typeof f.name !== "string" || f.name === "") {
        throw new ProvisionSpecError(`${fat}.name`, "must name a column");
      }
      const operator = String(f.operator ?? "").toUpperCase();
      if (!FILTER_OPERATORS.includes(operator)) {
        throw new ProvisionSpecError(
          `${fat}.operator`,
          `${JSON.stringify(f.operator)} is not supported; use one of ${
            FILTER_OPERATORS.join(", ")
          }`,
        );
      }
      return { name: stored(f.name), operator, value: laravelClean(f.value ?? null) };
    });
    const filterOp = (rule.filterOp ?? "AND").toUpperCase();
    if (filterOp !== "AND" && filterOp !== "OR") {
      throw new ProvisionSpecError(`${at}.filterOp`, 'must be "AND" or "OR"');
    }
    const service = rule.service.trim().toLowerCase();
    const id = `${service}|${component}`;
    if (seen.has(id)) {
      throw new ProvisionSpecError(
        at,
        `repeats service "${service}" component "${component}"; merge the verbs into one rule`,
      );
    }
    seen.add(id);
    return { service, component, verbs, filters, filterOp: filterOp as "AND" | "OR" };
  });

  let limit: LimitSpec | null = null;
  if (spec.limit !== undefined && spec.limit !== null) {
    const { rate, period, per = "key" } = spec.limit;
    if (!Number.isInteger(rate) || rate < 1 || rate > MAX_LIMIT_RATE) {
      throw new ProvisionSpecError(
        "limit.rate",
        `must be an integer from 1 to ${MAX_LIMIT_RATE}, got ${JSON.stringify(rate)}`,
      );
    }
    if (!LIMIT_PERIODS.includes(period)) {
      throw new ProvisionSpecError(
        "limit.period",
        `${JSON.stringify(period)} is not a period; use ${LIMIT_PERIODS.join(", ")}`,
      );
    }
    if (per !== "key" && per !== "user") {
      throw new ProvisionSpecError("limit.per", `${JSON.stringify(per)}: use "key" or "user"`);
    }
    if (per === "user" && spec.users === undefined) {
      throw new ProvisionSpecError(
        "limit.per",
        '"user" counts each of the spec\'s users: list them in `users` (or use per: "key")',
      );
    }
    limit = { rate, period, per };
  }

  let users: CustomerUser[] | undefined;
  if (spec.users !== undefined) {
    if (!Array.isArray(spec.users)) {
      throw new ProvisionSpecError("users", 'must be an array like [{ email: "a@acme.com" }]');
    }
    const emails = new Set<string>();
    users = spec.users.map((u, i) => {
      const email = typeof u?.email === "string" ? u.email.trim().toLowerCase() : "";
      if (!EMAIL_PATTERN.test(email)) {
        throw new ProvisionSpecError(
          `users[${i}].email`,
          `${JSON.stringify(u?.email)} is not an e-mail address`,
        );
      }
      try {
        userLookupFilter(email);
      } catch (e) {
        if (!(e instanceof FilterSyntaxError)) throw e;
        // Checked here so the spec is refused before the role and app are created.
        throw new ProvisionSpecError(
          `users[${i}].email`,
          `${
            JSON.stringify(u.email)
          } cannot be looked up: DreamFactory's filters have no escapes, ` +
            `so an e-mail may hold ' or " but not both (nor start or end with one)`,
        );
      }
      if (emails.has(email)) {
        throw new ProvisionSpecError(`users[${i}].email`, `${email} is listed twice`);
      }
      emails.add(email);
      return { ...u, email };
    });
  }
  return {
    key: spec.key,
    name: spec.name === undefined ? undefined : stored(spec.name) || undefined,
    access,
    limit,
    users,
    sendInvites: spec.sendInvites === true,
  };
}

/** A string as DreamFactory 7 keeps it: trimmed (Laravel's TrimStrings; see lib/stored.ts). */
function stored(text: string): string {
  return trimmedUnlessExcepted("", text);
}
