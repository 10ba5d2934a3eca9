/**
 * Migration recipes: snapshot an instance's configuration into a portable document (names, not
 * ids; secrets as `env:` references), diff snapshots, plan and apply them to another instance,
 * check drift, and copy database schemas and data between services.
 *
 * @example
 * ```ts
 * import { apply, connect, plan, renderDiffText, snapshot } from "@dfkit/dfkit";
 *
 * const staging = await connect({ profile: "staging" });
 * const prod = await connect({ profile: "prod" });
 * const p = await plan(prod, await snapshot(staging));
 * console.log(renderDiffText(p));
 * await apply(prod, p);
 * ```
 *
 * @module
 */
export type {
  Action,
  AppliedChange,
  ApplyReport,
  Change,
  Diff,
  FieldChange,
  Json,
  JsonObject,
  Plan,
  Section,
  SnapshotDocument,
  Summary,
} from "./types.ts";
export { PLAN_FORMAT, SECTIONS, SNAPSHOT_FORMAT } from "./types.ts";
export type { MigrateClient, MigrateRequestOptions } from "./client.ts";
export { canonicalJson } from "./canonical.ts";
export { MissingSecretError, type SecretSource } from "./secrets.ts";
export {
  readSnapshot,
  snapshot,
  type SnapshotOptions,
  writeSnapshot,
  type WriteSnapshotOptions,
} from "./snapshot.ts";
export { diff, drift, type DriftResult, isEmpty, plan, type PlanOptions } from "./diff.ts";
export { type DiffRenderOptions, renderDiffHtml, renderDiffText } from "./render.ts";
export {
  apply,
  ApplyError,
  type ApplyOptions,
  type ApplyProgress,
  StalePlanError,
  UnresolvedReferenceError,
} from "./apply.ts";
export {
  copySchema,
  type CopySchemaOptions,
  type CopySchemaReport,
  type SchemaField,
} from "./schema.ts";
export {
  copyData,
  CopyDataError,
  type CopyDataOptions,
  type CopyDataReport,
  type CopyProgress,
  KEY_MAP_FORMAT,
  type KeyMapFile,
  readKeyMap,
  type RowKey,
  type TableRef,
  type Verification,
  verifyCopy,
  writeKeyMap,
} from "./data.ts";
