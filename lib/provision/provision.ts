/**
 * `provisionCustomer`: makes the server hold exactly what a {@linkcode CustomerSpec} describes
 * (role with access rules, app with the API key, volume limit, user assignments), changing only
 * what differs and undoing its own changes when a step fails.
 *
 * @module
 */
import type { DreamFactory } from "../client.ts";
import { hideSecrets } from "../display.ts";
import { f } from "../filter/mod.ts";
import {
  type App,
  type Limit,
  maskToVerbs,
  type Role,
  type RoleServiceAccess,
  type User,
} from "../resources.ts";
import {
  accessRows,
  appAssignments,
  type CustomerState,
  findUser,
  isKeyPending,
  readCustomer,
  refuseForeign,
  serviceIds,
} from "./customer.ts";
import { ProvisionError, StepRunner } from "./run.ts";
import { generateApiKey, maskApiKey } from "./secret.ts";
import {
  type AccessRule,
  type AccessVerb,
  customerDescription,
  type CustomerSpec,
  KEY_PENDING,
  LIMIT_PERIODS,
  type LimitPeriod,
  type LimitSpec,
  type NormalizedRule,
  type NormalizedSpec,
  normalizeSpec,
  ProvisionSpecError,
  readDescription,
  type StoredFilter,
  verbMask,
} from "./spec.ts";

/** Rules apply to API calls (bit 1), not to scripts. */
const API_REQUESTOR = 1;

/**
 * What `provisionCustomer` returns. Only `apiKey` of the call that created the key is secret:
 * printing the result (`console.log`, `Deno.inspect`, Jupyter) or `JSON.stringify` shows it masked
 * (`****0c00`); read `result.apiKey` itself to hand it over.
 */
export interface ProvisionResult {
  /** The customer's key. */
  key: string;
  /**
   * The API key in full when this call hands it over (hand it to the customer now: it is never
   * shown again), otherwise masked to its last four characters (`****0c00`). Reading the property
   * gives it in full; printing or JSON-dumping the result shows it masked.
   */
  apiKey: string;
  /**
   * True when this call hands the API key over: it created it, or found one that an earlier call
   * created but never returned (it failed afterwards; `notes` then says so).
   */
  keyCreated: boolean;
  /** False when everything already matched the spec (the call made no writes). */
  changed: boolean;
  /** What this call changed, in order (`"create role customer-acme-42"`, ...). */
  changes: string[];
  /** The role, with `role_service_access_by_role_id` and `user_to_app_to_role_by_role_id`. */
  role: Role;
  /** The app; its `api_key` is masked. */
  app: App;
  /** The limit counting the key (`per: "key"`), or null. */
  limit: Limit | null;
  /** Every limit of the customer (the key's, or one per user with `per: "user"`). */
  limits: Limit[];
  /** The customer's users (only when the spec lists users). */
  users?: { id: number; email: string; created: boolean }[];
  /**
   * What is worth knowing but is no change of this call, e.g. a record found created by a
   * concurrent call for the same customer, or a failed re-read after the writes (the writes stand;
   * `role`, `app` and `limits` then show what this call wrote). Absent when there is nothing to say.
   */
  notes?: string[];
}

/** How `provisionCustomer` treats what it finds. */
export interface ProvisionOptions {
  /**
   * Take over a role, app or limit named `customer-<key>` that dfkit did not make (its
   * description lacks `dfkit customer <key>`): it is rewritten to the spec and marked as the
   * customer's, so the other recipes manage it (and `deprovisionCustomer` deletes it). Without
   * it such records are refused.
   */
  adopt?: boolean;
}

/** An access rule as stored in `role_service_access`, without ids. */
type DesiredRow =
  & Pick<
    RoleServiceAccess,
    "service_id" | "component" | "verb_mask" | "requestor_mask" | "filter_op"
  >
  & { filters: StoredFilter[] };

function toDesiredRows(rules: NormalizedRule[], services: Map<string, number>): DesiredRow[] {
  return rules.map((rule, i) => {
    let serviceId: number | null = null;
    if (rule.service !== "*") {
      const id = services.get(rule.service);
      if (id === undefined) {
        throw new ProvisionSpecError(
          `access[${i}].service`,
          `no service named "${rule.service}"; existing services: ${
            [...services.keys()].join(", ")
          }`,
        );
      }
      serviceId = id;
    }
    return {
      service_id: serviceId,
      component: rule.component,
      verb_mask: verbMask(rule.verbs),
      requestor_mask: API_REQUESTOR,
      filters: rule.filters,
      filter_op: rule.filterOp,
    };
  });
}

function filtersOf(row: { filters?: unknown }): StoredFilter[] {
  let filters = row.filters;
  if (typeof filters === "string") {
    try {
      filters = JSON.parse(filters);
    } catch {
      filters = [];
    }
  }
  if (!Array.isArray(filters)) return [];
  return filters.map((x: StoredFilter) => ({
    name: x.name,
    operator: String(x.operator).toUpperCase(),
    value: x.value ?? null,
  }));
}

function sameRow(a: RoleServiceAccess, b: DesiredRow): boolean {
  return a.verb_mask === b.verb_mask && a.requestor_mask === b.requestor_mask &&
    String(a.filter_op ?? "AND").toUpperCase() === b.filter_op &&
    JSON.stringify(filtersOf(a)) === JSON.stringify(b.filters);
}

const rowId = (r: { service_id: number | null; component: string }) =>
  `${r.service_id ?? "*"}|${r.component}`;

/**
 * The `role_service_access_by_role_id` payload that turns `current` into `desired`: changed rows
 * updated in place, new rows added, surplus rows deleted (`role_id: null`). Empty when equal.
 */
export function accessPayload(
  current: RoleServiceAccess[],
  desired: DesiredRow[],
): Partial<RoleServiceAccess>[] {
  const payload: Partial<RoleServiceAccess>[] = [];
  const unused = [...current];
  for (const want of desired) {
    const i = unused.findIndex((r) => rowId(r) === rowId(want));
    if (i < 0) {
      payload.push({ ...want });
      continue;
    }
    const [have] = unused.splice(i, 1);
    if (!sameRow(have, want)) payload.push({ id: have.id, ...want });
  }
  for (const extra of unused) payload.push({ id: extra.id, role_id: null });
  return payload;
}

function rowsAsDesired(rows: RoleServiceAccess[]): DesiredRow[] {
  return rows.map((r) => ({
    service_id: r.service_id ?? null,
    component: r.component,
    verb_mask: r.verb_mask,
    requestor_mask: r.requestor_mask,
    filters: filtersOf(r),
    filter_op: String(r.filter_op ?? "AND").toUpperCase(),
  }));
}

/**
 * The spec a customer on the server matches (its access rules, limit, display name and users), or
 * null when it has no role (`options.adopt`: records dfkit did not make are read too, instead of
 * refused). Absent parts of a spec mean "none" for `access` and `limit`, so a
 * partial change starts from this: `{ ...await readCustomerSpec(df, key), limit }` changes only
 * the limit (`dfkit customer provision` does this for flags not given).
 *
 * @example
 * ```ts
 * import { connect, provisionCustomer, readCustomerSpec } from "@dfkit/dfkit";
 * const df = await connect();
 * const current = await readCustomerSpec(df, "acme-42");
 * if (current) await provisionCustomer(df, { ...current, limit: { rate: 5000, period: "day" } });
 * ```
 */
export async function readCustomerSpec(
  df: DreamFactory,
  key: string,
  options: ProvisionOptions = {},
): Promise<CustomerSpec | null> {
  const state = await readCustomer(df, key);
  refuseForeign(state, "readCustomerSpec", options.adopt === true);
  const role = state.role;
  if (!role) return null;
  const rows = accessRows(role);
  const services = rows.some((r) => r.service_id != null)
    ? new Map([...(await serviceIds(df))].map(([name, id]) => [id, name]))
    : new Map<number, string>();
  const access = rows.map((r): AccessRule => {
    const filters = filtersOf(r);
    return {
      service: r.service_id == null ? "*" : services.get(r.service_id) ?? `#${r.service_id}`,
      component: r.component,
      verbs: maskToVerbs(r.verb_mask) as AccessVerb[],
      ...(filters.length > 0 ? { filters } : {}),
      filterOp: String(r.filter_op ?? "AND").toUpperCase() as "AND" | "OR",
    };
  });
  const spec: CustomerSpec = { key, access, limit: null };
  const name = readDescription(key, role.description)?.name;
  if (name !== undefined) spec.name = name;
  const limit = state.limit ?? state.limits[0];
  if (limit) {
    const period = typeof limit.period === "number" ? LIMIT_PERIODS[limit.period] : limit.period;
    spec.limit = {
      rate: limit.rate,
      period: period as LimitPeriod,
      per: state.limit ? "key" : "user",
    };
  }
  const ids = state.app ? appAssignments(role, state.app.id).map((a) => a.user_id!) : [];
  spec.users = ids.length === 0 ? [] : (await df.system.user.ids(...ids).fields("id", "email"))
    .map((u) => ({ email: String(u.email) }));
  return spec;
}

/** The fields of `want` whose values differ in `have` (with the old values, for undo). */
function differences<T extends object>(
  have: T,
  want: Partial<T>,
): { patch: Partial<T>; old: Partial<T> } {
  const patch: Partial<T> = {};
  const old: Partial<T> = {};
  for (const [k, v] of Object.entries(want) as [keyof T, T[keyof T]][]) {
    const cur = have[k];
    if (cur !== v && !(cur == null && v == null)) {
      patch[k] = v;
      old[k] = cur;
    }
  }
  return { patch, old };
}

function fieldList(patch: object): string {
  return Object.keys(patch).map((k) => k === "role_service_access_by_role_id" ? "access" : k).join(
    ", ",
  );
}

/**
 * Creates or updates a customer: a role granting `access`, an app whose API key uses that role,
 * a volume limit on the role (so it counts the key's calls), and optional user assignments, all
 * named `customer-<key>`. Safe to repeat: a second call with the same spec makes no writes and
 * returns `changed: false`; a changed spec updates only what differs (a plan change is a new
 * `limit`). If a step fails, this call's own changes are undone and a `ProvisionError` names the
 * step and the reason; a failed re-read after the last write only adds a note to `notes`.
 * The app is marked "key not handed over" until the call returns its key: if the call fails
 * after creating it and cannot undo that (or loses the response), the next call returns the
 * same key with `keyCreated: true` and a note, so the key is never lost unnoticed.
 * A role, app or limit named `customer-<key>` that dfkit did not make (its description lacks
 * `dfkit customer <key>`) is refused before any write, unless `options.adopt` takes it over. Suspension (see `suspendCustomer`) is left as it is.
 *
 * Needs at least (a non-admin's role rules on service `system`): GET on `service`; GET, POST,
 * PATCH, DELETE on `role/*`, `app/*` and `limit/*`; GET, POST, PATCH on `user/*` when `users`
 * are given (tested in `tests/provision/provision_test.ts`).
 *
 * @example
 * ```ts
 * import { connect, provisionCustomer } from "@dfkit/dfkit";
 * declare function sendToCustomer(apiKey: string): Promise<void>;
 * const df = await connect();
 * const acme = await provisionCustomer(df, {
 *   key: "acme-42",
 *   name: "Acme Inc.",
 *   access: [{ service: "db", component: "_table/*", verbs: ["GET"] }],
 *   limit: { rate: 1000, period: "day" },
 * });
 * if (acme.keyCreated) await sendToCustomer(acme.apiKey); // once; later calls show "****abcd"
 * console.log(acme); // { key: "acme-42", apiKey: "****abcd", ... }: printing never shows the key
 * ```
 */
export async function provisionCustomer(
  df: DreamFactory,
  spec: CustomerSpec,
  options: ProvisionOptions = {},
): Promise<ProvisionResult> {
  const want = normalizeSpec(spec);
  const run = new StepRunner(
    want.key,
    "run provisionCustomer again with the spec to finish: it changes only what differs, and " +
      "returns the API key if this call created one",
  );
  const [state, services] = await run.read("read customer", () =>
    Promise.all([
      readCustomer(df, want.key),
      want.access.some((r) => r.service !== "*") ? serviceIds(df) : new Map<string, number>(),
    ]));
  const { names } = state;
  run.secret(state.app?.api_key);
  refuseForeign(state, "provisionCustomer", options.adopt === true);
  const rows = toDesiredRows(want.access, services);
  await refuseUserLimitClashes(df, run, want, state);
  const description = customerDescription(want.key, want.name);
  // Until a call returns the key, the app says so: a key whose call failed later (with its undo)
  // or lost the response is then handed over by the next call instead of being lost unnoticed.
  const pendingDescription = customerDescription(want.key, want.name, true);
  const unclaimed = isKeyPending(want.key, state.app);

  // Role and its access rules.
  let role: Role;
  if (!state.role) {
    role = await createOnce(run, `create role ${names.role}`, {
      create: async () => {
        const record = {
          name: names.role,
          description,
          is_active: true,
          role_service_access_by_role_id: rows,
        };
        const [created] = await df.system.role.create([record]);
        // The server answers with the id; the rest is kept for a result without a re-read.
        return { ...record, ...created } as Role;
      },
      find: async () => (await readCustomer(df, want.key)).role,
      undo: { label: `deleted role ${names.role}`, run: (r) => df.system.role.ids(r.id).delete() },
    });
  } else {
    role = state.role;
    const before = state.role;
    const { patch, old } = differences<Role>(before, { description });
    const access = accessPayload(accessRows(before), rows);
    if (access.length > 0) patch.role_service_access_by_role_id = access as RoleServiceAccess[];
    if (Object.keys(patch).length > 0) {
      await run.step(
        `update role ${names.role} (${fieldList(patch)})`,
        () => df.system.role.ids(before.id).update(patch),
        {
          label: `restored role ${names.role}`,
          run: async () => {
            const now = await readCustomer(df, want.key);
            const revert: Partial<Role> = { ...old };
            const back = accessPayload(accessRows(now.role), rowsAsDesired(accessRows(before)));
            if (back.length > 0) {
              revert.role_service_access_by_role_id = back as RoleServiceAccess[];
            }
            await df.system.role.ids(before.id).update(revert);
          },
        },
      );
      role = { ...before, description, role_service_access_by_role_id: rows as never };
    }
  }

  // App (the API key), using the role as its default role.
  let createdKey: string | null = null;
  let app: App;
  if (!state.app) {
    const apiKey = generateApiKey();
    run.secret(apiKey);
    app = await createOnce(run, `create app ${names.app}`, {
      create: async () => {
        const record = {
          name: names.app,
          description: pendingDescription,
          type: 0,
          role_id: role.id,
          is_active: true,
          api_key: apiKey,
        };
        const [created] = await df.system.app.create([record]);
        return { ...record, ...created, api_key: apiKey } as App;
      },
      find: async () => (await readCustomer(df, want.key)).app,
      // The app carrying our key is ours even when its creation's response was lost.
      ours: (found) => found.api_key === apiKey,
      undo: { label: `deleted app ${names.app}`, run: (a) => df.system.app.ids(a.id).delete() },
    });
    if (app.api_key === apiKey) createdKey = apiKey;
    else run.secret(app.api_key);
  } else {
    app = state.app;
    const current = state.app;
    const { patch, old } = differences<App>(current, {
      description: unclaimed ? pendingDescription : description,
      role_id: role.id,
      type: 0,
    });
    if (Object.keys(patch).length > 0) {
      await run.step(
        `update app ${names.app} (${fieldList(patch)})`,
        () => df.system.app.ids(current.id).update(patch),
        {
          label: `restored app ${names.app}`,
          run: () => df.system.app.ids(current.id).update(old),
        },
      );
      app = { ...current, ...patch };
    }
  }

  // Users who log in with the customer's key.
  let users: ProvisionResult["users"];
  if (want.users !== undefined) {
    users = await syncUsers(df, run, want.users, want.sendInvites, role, app.id);
  }

  // Volume limits: on the customer's role (per key) or on each user.
  const limits = await syncLimits(
    df,
    run,
    state,
    desiredLimits(state, want.limit, role.id, users, description),
  );

  // Every other write is done: the key is returned now, so the app loses its pending tag. A failure
  // here undoes nothing (the key works and is returned); the next call returns the same key again.
  const handedKey = createdKey ?? (unclaimed ? app.api_key : null);
  if (handedKey !== null) {
    const appId = app.id;
    const cleared = await run.readOrNote(
      `mark key of app ${names.app} handed over`,
      async () => {
        await df.system.app.ids(appId).update({ description });
        return true;
      },
      `the app stays marked "${KEY_PENDING.trim()}", so the next provisionCustomer call returns ` +
        "this same key again",
    );
    if (cleared) app = { ...app, description };
    if (createdKey === null) {
      if (cleared) run.done(`hand over key of app ${names.app}`);
      run.notes.push(
        `app ${names.app} had a key no call had handed over (an earlier call failed after ` +
          "creating it): this call returns it; hand it to the customer",
      );
    }
  }

  const changed = run.changes.length > 0;
  // Records found (created concurrently) make `state` stale as well.
  const stale = changed || run.notes.length > 0;
  // Every write is done: a failed re-read must not undo them (and throw the new key away).
  const final = stale
    ? await run.readOrNote(
      "read result",
      () => readCustomer(df, want.key),
      "role, app and limits are shown as this call wrote them",
    ) ?? { ...state, role, app, limit: limits.find((l) => l.name === names.limit) ?? null, limits }
    : state;
  const finalApp = final.app ?? app;
  const result: ProvisionResult = {
    key: want.key,
    apiKey: handedKey ?? maskApiKey(finalApp.api_key),
    keyCreated: handedKey !== null,
    changed,
    changes: run.changes.map((c) => run.mask(c)),
    role: final.role ?? role,
    app: { ...finalApp, api_key: maskApiKey(finalApp.api_key) },
    limit: final.limit,
    limits: final.limits,
  };
  if (users) result.users = users;
  if (run.notes.length > 0) result.notes = run.notes.map((n) => run.mask(n));
  return maskedWhenShown(result);
}

/**
 * The result, marked so that printing it or `JSON.stringify` shows the key masked: a result logged
 * or dumped for debugging must not leak the key it hands over. `result.apiKey`, and a spread copy
 * (`{ ...result }`, what the CLI prints once), still hold it in full.
 */
function maskedWhenShown(result: ProvisionResult): ProvisionResult {
  Object.defineProperty(result, "toJSON", {
    value(this: ProvisionResult) {
      return { ...this, apiKey: maskApiKey(this.apiKey) };
    },
    enumerable: false,
    configurable: true,
  });
  return hideSecrets(result); // prints `apiKey` as "****0c00"
}

/**
 * Runs a create step; if it fails but the record exists afterwards (a concurrent call for the same
 * customer created it, or the response was lost), the record is adopted instead of failing. Only
 * a record this call created (`ours` says so for a found one) is a change with an undo: a failure
 * later must not delete what another call made, nor claim to.
 */
async function createOnce<T>(
  run: StepRunner,
  name: string,
  how: {
    create: () => Promise<T>;
    find: () => Promise<T | null>;
    ours?: (found: T) => boolean;
    undo: { label: string; run: (record: T) => Promise<unknown> };
  },
): Promise<T> {
  const made = await run.attempt(name, async () => {
    try {
      return { record: await how.create(), mine: true };
    } catch (e) {
      const found = await how.find().catch(() => null);
      if (!found) throw e;
      return { record: found, mine: how.ours?.(found) ?? false };
    }
  });
  if (made.mine) {
    run.done(name, { label: how.undo.label, run: () => how.undo.run(made.record) });
  } else run.notes.push(`${name}: found, created concurrently by another call`);
  return made.record;
}

/**
 * Refuses, before any write, per-user limits DreamFactory would refuse ("A limit already exists
 * with those parameters"): it keeps one `instance.user` limit per user and period, whoever made it,
 * so a user in two customers cannot get a per-user limit of the same period from both.
 */
async function refuseUserLimitClashes(
  df: DreamFactory,
  run: StepRunner,
  want: NormalizedSpec,
  state: CustomerState,
): Promise<void> {
  if (want.limit?.per !== "user" || !want.users?.length) return;
  const period = want.limit.period;
  const own = new Set(state.limits.map((l) => l.id));
  const clashes = await run.read("check per-user limits", async () => {
    // Users this call would create have no limits yet.
    const users = (await Promise.all(want.users!.map((u) => findUser(df, u.email))))
      .filter((u): u is User => u !== null);
    const found = await Promise.all(users.map(async (u) => {
      const limits = await df.system.limit.filter(f`user_id = ${u.id}`) as Limit[];
      return limits.filter((l) =>
        l.type === "instance.user" && !own.has(l.id) && periodName(l.period) === period &&
        !l.service_id && !l.endpoint && !l.verb
      ).map((l) => ({ email: String(u.email).toLowerCase(), limit: l }));
    }));
    return found.flat();
  });
  if (clashes.length === 0) return;
  const what = clashes.map(({ email, limit: l }) => {
    const owner = /^dfkit customer ([a-z0-9._-]+)/.exec(String(l.description ?? ""))?.[1];
    return `${email} already has limit "${l.name}" (id ${l.id}, ${l.rate}/${
      periodName(l.period)
    }) ${owner ? `of customer ${owner}` : "not made by dfkit"}`;
  }).join("; ");
  throw new ProvisionError({
    key: want.key,
    step: "check per-user limits",
    cause: new Error(
      `${what}. DreamFactory keeps one per-user limit per user and period, and it counts the ` +
        `user's calls with every customer's key; use a period other than ${period}, count ` +
        `per key (per: "key"), or leave the user out of one of the customers`,
    ),
    undone: [],
    undoFailures: [],
  });
}

function periodName(period: unknown): string {
  return typeof period === "number" ? LIMIT_PERIODS[period] : String(period);
}

/** The limits a spec asks for, by name. */
function desiredLimits(
  state: CustomerState,
  want: LimitSpec | null,
  roleId: number,
  users: { id: number; email: string }[] | undefined,
  description: string,
): Map<string, Partial<Limit>> {
  const out = new Map<string, Partial<Limit>>();
  if (!want) return out;
  const base = { rate: want.rate, period: want.period, description, is_active: true };
  if (want.per === "user") {
    for (const u of users ?? []) {
      const name = state.names.userLimit(u.email);
      out.set(name, { ...base, name, type: "instance.user", user_id: u.id, role_id: null });
    }
  } else {
    const name = state.names.limit;
    out.set(name, { ...base, name, type: "instance.role", role_id: roleId, user_id: null });
  }
  return out;
}

/** Creates, updates and deletes the customer's limits so they match `desired`. */
async function syncLimits(
  df: DreamFactory,
  run: StepRunner,
  state: CustomerState,
  desired: Map<string, Partial<Limit>>,
): Promise<Limit[]> {
  const existing = new Map(state.limits.map((l) => [l.name, l]));
  const out: Limit[] = []; // the limits afterwards, as far as this call knows
  for (const [name, want] of desired) {
    const have = existing.get(name);
    if (!have) {
      out.push(
        await createOnce(run, `create limit ${name} (${want.rate}/${want.period})`, {
          create: async () => ({ ...want, ...(await df.system.limit.create([want]))[0] } as Limit),
          find: async () =>
            (await readCustomer(df, state.names.key)).limits.find((l) => l.name === name) ?? null,
          undo: { label: `deleted limit ${name}`, run: (l) => df.system.limit.ids(l.id).delete() },
        }),
      );
      continue;
    }
    const { patch, old } = differences<Limit>(have, want);
    out.push({ ...have, ...patch });
    if (Object.keys(patch).length === 0) continue;
    const what = "rate" in patch || "period" in patch
      ? `${have.rate}/${have.period} -> ${want.rate}/${want.period}`
      : fieldList(patch);
    await run.step(
      `update limit ${name} (${what})`,
      () => df.system.limit.ids(have.id).update(patch),
      { label: `restored limit ${name}`, run: () => df.system.limit.ids(have.id).update(old) },
    );
  }
  for (const have of state.limits) {
    if (desired.has(have.name)) continue;
    await run.step(`delete limit ${have.name}`, () => df.system.limit.ids(have.id).delete(), {
      label: `re-created limit ${have.name}`,
      run: () =>
        df.system.limit.create([{
          type: have.type,
          role_id: have.role_id,
          user_id: have.user_id,
          service_id: have.service_id,
          endpoint: have.endpoint,
          verb: have.verb,
          rate: have.rate,
          period: have.period,
          name: have.name,
          description: have.description,
          is_active: have.is_active,
        }]),
    });
  }
  return out;
}

async function syncUsers(
  df: DreamFactory,
  run: StepRunner,
  wanted: NonNullable<ReturnType<typeof normalizeSpec>["users"]>,
  sendInvites: boolean,
  role: Role,
  appId: number,
): Promise<{ id: number; email: string; created: boolean }[]> {
  const out: { id: number; email: string; created: boolean }[] = [];
  const keep = new Set<number>();
  for (const u of wanted) {
    let user = await run.read(`look up user ${u.email}`, () => findUser(df, u.email));
    let created = false;
    if (!user) {
      const record = {
        email: u.email,
        name: u.name ?? u.email.split("@")[0],
        first_name: u.first_name,
        last_name: u.last_name,
      };
      user = await run.step(`create user ${u.email}`, async () => {
        const body = await df.request("POST", "system/user", {
          query: {
            fields: "*",
            related: "user_to_app_to_role_by_user_id",
            send_invite: sendInvites || undefined,
          },
          body: { resource: [record] },
        }) as { resource: User[] };
        return body.resource[0];
      }, { label: `deleted user ${u.email}`, run: (c) => df.system.user.ids(c.id).delete() });
      created = true;
    }
    const userId = user.id;
    keep.add(userId);
    out.push({ id: userId, email: u.email, created });
    const current = (user.user_to_app_to_role_by_user_id ?? []).find((a) => a.app_id === appId);
    if (!current) {
      await run.step(`assign user ${u.email}`, () =>
        df.system.user.ids(userId).update({
          user_to_app_to_role_by_user_id: [{ app_id: appId, role_id: role.id, user_id: userId }],
        }), {
        label: `unassigned user ${u.email}`,
        run: async () => {
          const now = await findUser(df, u.email);
          const row = now?.user_to_app_to_role_by_user_id?.find((a) => a.app_id === appId);
          if (row) await unassign(df, userId, row.id!);
        },
      });
    } else if (current.role_id !== role.id) {
      await run.step(
        `reassign user ${u.email}`,
        () => setAssignmentRole(df, userId, current.id!, role.id),
        {
          label: `restored assignment of ${u.email}`,
          run: () => setAssignmentRole(df, userId, current.id!, current.role_id),
        },
      );
    }
  }
  for (const a of appAssignments(role, appId)) {
    if (a.user_id === undefined || keep.has(a.user_id)) continue;
    const userId = a.user_id;
    await run.step(`unassign user #${userId}`, () => unassign(df, userId, a.id!), {
      label: `re-assigned user #${userId}`,
      run: () =>
        df.system.user.ids(userId).update({
          user_to_app_to_role_by_user_id: [{ app_id: appId, role_id: role.id, user_id: userId }],
        }),
    });
  }
  return out;
}

function unassign(df: DreamFactory, userId: number, assignmentId: number): Promise<unknown> {
  return df.system.user.ids(userId).update({
    user_to_app_to_role_by_user_id: [{ id: assignmentId, user_id: null } as never],
  });
}

function setAssignmentRole(
  df: DreamFactory,
  userId: number,
  assignmentId: number,
  roleId: number,
): Promise<unknown> {
  return df.system.user.ids(userId).update({
    user_to_app_to_role_by_user_id: [{ id: assignmentId, role_id: roleId } as never],
  });
}
