/**
 * The rest of a customer's life: key rotation, suspension and resumption, removal, and a
 * secret-free status read. Each is idempotent except `rotateKey`, which issues a new key per call.
 *
 * @module
 */
import type { DreamFactory } from "../client.ts";
import type { App, Limit, Role } from "../resources.ts";
import { isKeyPending, readCustomer, refuseForeign, settledDescription } from "./customer.ts";
import { ProvisionError, StepRunner } from "./run.ts";
import { generateApiKey, maskApiKey, scrubError } from "./secret.ts";
import { assertCustomerKey } from "./spec.ts";

/** What a lifecycle call did. */
export interface CustomerChange {
  /** The customer's key. */
  key: string;
  /** False when the customer was already in the requested state (no writes). */
  changed: boolean;
  /** What this call changed, in order. */
  changes: string[];
}

/** A customer's current state, without secrets. */
export interface CustomerStatus {
  /** The customer's key. */
  key: string;
  /** Whether the customer's app and role exist. */
  exists: boolean;
  /** True when the app and role are active (not suspended). */
  active: boolean;
  /** The API key masked to its last four characters, or "" without an app. */
  apiKey: string;
  /**
   * True when no call has returned the app's key yet (the call that created it failed
   * afterwards): `provisionCustomer` with the customer's spec returns it (or `rotateKey` a new one).
   */
  keyPending: boolean;
  /** The role, or null. */
  role: Role | null;
  /** The app (`api_key` masked), or null. */
  app: App | null;
  /** The limit counting the key, or null. */
  limit: Limit | null;
  /** Every limit of the customer. */
  limits: Limit[];
}

function missing(key: string, what: string): ProvisionError {
  return new ProvisionError({
    key,
    step: `find ${what}`,
    cause: new Error(
      `there is no ${what} named customer-${key}; provision it first (provisionCustomer, or dfkit customer provision ${key})`,
    ),
    undone: [],
    undoFailures: [],
  });
}

/**
 * Issues a new API key for the customer and returns it; the old key stops working at once. The
 * key is 64 hex characters from `crypto.getRandomValues`, written with `PATCH system/app/{id}`.
 * Not idempotent by nature: every call issues a fresh key (retrying after a lost response is
 * simply another rotation). A key never handed over (see `getCustomer`'s `keyPending`) is replaced
 * too, and the app is marked handed over in the same write.
 *
 * @example
 * ```ts
 * import { connect, rotateKey } from "@dfkit/dfkit";
 * const df = await connect();
 * const apiKey = await rotateKey(df, "acme-42"); // hand it to the customer; shown only now
 * ```
 */
export async function rotateKey(df: DreamFactory, key: string): Promise<string> {
  assertCustomerKey(key);
  const run = new StepRunner(key);
  const state = await run.read("read customer", () => readCustomer(df, key));
  refuseForeign(state, "rotateKey");
  if (!state.app) throw missing(key, "app");
  const app = state.app;
  run.secret(app.api_key);
  const apiKey = generateApiKey();
  run.secret(apiKey);
  // One write: the new key and the end of "key not handed over" are committed together.
  const patch: Partial<App> = { api_key: apiKey };
  if (isKeyPending(key, app)) patch.description = settledDescription(key, app.description ?? "");
  await run.step(
    `rotate key of app ${state.names.app}`,
    () => df.system.app.ids(app.id).update(patch),
  );
  return apiKey;
}

async function setActive(df: DreamFactory, key: string, active: boolean): Promise<CustomerChange> {
  assertCustomerKey(key);
  const verb = active ? "resume" : "suspend";
  const back = active ? "suspendCustomer" : "resumeCustomer";
  const run = new StepRunner(
    key,
    `run ${verb}Customer again to finish, or ${back} to go back`,
  );
  const state = await run.read("read customer", () => readCustomer(df, key));
  refuseForeign(state, `${verb}Customer`);
  if (!state.app) throw missing(key, "app");
  if (!state.role) throw missing(key, "role");
  // Suspending: the app first (its key stops at once); resuming: the role first (so the key
  // works fully the moment the app is back).
  const order = active
    ? [["role", state.role, df.system.role], ["app", state.app, df.system.app]] as const
    : [["app", state.app, df.system.app], ["role", state.role, df.system.role]] as const;
  for (const [what, record, resource] of order) {
    if (record.is_active === active) continue;
    const name = record.name;
    await run.step(
      `${verb} ${what} ${name}`,
      () => resource.ids(record.id).update({ is_active: active }),
      {
        label: `${active ? "re-suspended" : "re-activated"} ${what} ${name}`,
        run: () => resource.ids(record.id).update({ is_active: !active }),
      },
    );
  }
  return { key, changed: run.changes.length > 0, changes: run.changes };
}

/**
 * Suspends a customer: deactivates the app (its key is refused with 403 "App is not active.")
 * and the role (users logged in with it lose access). Reversible with `resumeCustomer`;
 * repeating it changes nothing.
 *
 * @example
 * ```ts
 * import { connect, suspendCustomer } from "@dfkit/dfkit";
 * const { changed } = await suspendCustomer(await connect(), "acme-42");
 * ```
 */
export function suspendCustomer(df: DreamFactory, key: string): Promise<CustomerChange> {
  return setActive(df, key, false);
}

/**
 * Resumes a suspended customer (role and app active again; the same key works again).
 * Repeating it changes nothing.
 *
 * @example
 * ```ts
 * import { connect, resumeCustomer } from "@dfkit/dfkit";
 * await resumeCustomer(await connect(), "acme-42");
 * ```
 */
export function resumeCustomer(df: DreamFactory, key: string): Promise<CustomerChange> {
  return setActive(df, key, true);
}

/**
 * Removes everything named for the customer: limit, app (its key stops working; user
 * assignments go with it) and role. Users themselves are kept (they may be real people with
 * other access). Repeating it changes nothing; after a failure, running it again finishes the job.
 *
 * @example
 * ```ts
 * import { connect, deprovisionCustomer } from "@dfkit/dfkit";
 * await deprovisionCustomer(await connect(), "acme-42");
 * ```
 */
export async function deprovisionCustomer(df: DreamFactory, key: string): Promise<CustomerChange> {
  assertCustomerKey(key);
  const changes: string[] = [];
  const state = await readCustomer(df, key).catch((e) => {
    throw new ProvisionError({
      key,
      step: "read customer",
      cause: e,
      undone: [],
      undoFailures: [],
    });
  });
  refuseForeign(state, "deprovisionCustomer");
  const steps: [string, () => Promise<unknown>][] = [
    ...state.limits.map((l) =>
      [`delete limit ${l.name}`, () => df.system.limit.ids(l.id).delete()] as [
        string,
        () => Promise<unknown>,
      ]
    ),
  ];
  const { app, role } = state;
  if (app) steps.push([`delete app ${app.name}`, () => df.system.app.ids(app.id).delete()]);
  if (role) steps.push([`delete role ${role.name}`, () => df.system.role.ids(role.id).delete()]);
  for (const [name, run] of steps) {
    try {
      await run();
    } catch (e) {
      throw new ProvisionError({
        key,
        step: name,
        cause: scrubError(e, state.app?.api_key ? [state.app.api_key] : []),
        undone: [],
        undoFailures: changes.length > 0
          ? [`already done: ${changes.join(", ")}; run deprovisionCustomer again to finish`]
          : [],
      });
    }
    changes.push(name);
  }
  return { key, changed: changes.length > 0, changes };
}

/**
 * Reads a customer's state without secrets (the key masked).
 *
 * @example
 * ```ts
 * import { connect, getCustomer } from "@dfkit/dfkit";
 * const status = await getCustomer(await connect(), "acme-42");
 * console.log(status.active, status.apiKey); // true "****0c00"
 * ```
 */
export async function getCustomer(df: DreamFactory, key: string): Promise<CustomerStatus> {
  assertCustomerKey(key);
  const state = await readCustomer(df, key);
  refuseForeign(state, "getCustomer");
  const exists = state.app !== null && state.role !== null;
  return {
    key,
    exists,
    active: exists && state.app!.is_active === true && state.role!.is_active === true,
    apiKey: maskApiKey(state.app?.api_key),
    keyPending: isKeyPending(key, state.app),
    role: state.role,
    app: state.app ? { ...state.app, api_key: maskApiKey(state.app.api_key) } : null,
    limit: state.limit,
    limits: state.limits,
  };
}
