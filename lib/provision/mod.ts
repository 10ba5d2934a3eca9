/**
 * Customer provisioning: one idempotent call gives a paying customer a role with the access of
 * their plan, an app whose API key is handed to them, and a volume limit; further calls rotate
 * the key, change the plan, suspend, resume or remove the customer. Failed calls undo their own
 * changes, and the API key appears only in the one return value that created it.
 *
 * @example
 * ```ts
 * import { connect, deprovisionCustomer, provisionCustomer, rotateKey } from "@dfkit/dfkit";
 *
 * const df = await connect();
 * const { apiKey, keyCreated } = await provisionCustomer(df, {
 *   key: "acme-42",
 *   name: "Acme Inc.",
 *   access: [{ service: "db", component: "_table/*", verbs: ["GET"] }],
 *   limit: { rate: 1000, period: "day" },
 * });
 * const newKey = await rotateKey(df, "acme-42");
 * await deprovisionCustomer(df, "acme-42");
 * ```
 *
 * @module
 */
export {
  provisionCustomer,
  type ProvisionOptions,
  type ProvisionResult,
  readCustomerSpec,
} from "./provision.ts";
export {
  type CustomerChange,
  type CustomerStatus,
  deprovisionCustomer,
  getCustomer,
  resumeCustomer,
  rotateKey,
  suspendCustomer,
} from "./lifecycle.ts";
export {
  type AccessRule,
  type AccessVerb,
  type CustomerNames,
  customerNames,
  type CustomerSpec,
  type CustomerUser,
  type LimitPeriod,
  type LimitSpec,
  ProvisionSpecError,
  type RowFilter,
} from "./spec.ts";
export { ProvisionError } from "./run.ts";
export { maskApiKey } from "./secret.ts";
