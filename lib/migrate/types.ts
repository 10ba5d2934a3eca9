/**
 * The documents of the migration recipes: snapshots (portable, keyed by names), diffs and plans
 * (per-object create / update / delete / unchanged) and apply reports. All of them are plain JSON
 * so they can be written to files, committed to git and read back.
 *
 * @module
 */

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** The snapshot sections, in dependency order (what a later section names must come earlier). */
export const SECTIONS = [
  "services",
  "roles",
  "apps",
  "email_templates",
  "users",
  "admins",
  "lookups",
  "cors",
  "limits",
  "event_scripts",
] as const;

/** One section of a snapshot: `services`, `roles`, `apps`, ... */
export type Section = typeof SECTIONS[number];

/** Version tag of snapshot documents written by this module. */
export const SNAPSHOT_FORMAT = "dfkit.snapshot/v1";
/** Version tag of plan documents written by this module. */
export const PLAN_FORMAT = "dfkit.plan/v1";

/**
 * A portable description of a DreamFactory instance's configuration. Every section maps an
 * object's natural key (name, e-mail, CORS path) to its fields; references to other objects are
 * names, never ids, and secrets are `env:NAME` references.
 */
export interface SnapshotDocument {
  /** Always {@linkcode SNAPSHOT_FORMAT}. */
  format: string;
  /** The sections this snapshot covers; objects of other sections are out of scope. */
  sections: Section[];
  /** Services left out of the snapshot (and of plans made from it). */
  exclude_services: string[];
  /** The objects, per section, keyed by name (users and admins by e-mail, CORS entries by path). */
  /** The objects, per section, keyed by name (users and admins by e-mail, CORS entries by path). */
  objects: { [S in Section]?: Record<string, JsonObject> };
}

/** What changed in one field of an object (`path` is dotted for nested config values). */
export interface FieldChange {
  /** Dotted path of the field (`config.host`, `access.db:_table/*.verbs`). */
  path: string;
  /** Value before (undefined: absent). */
  from: Json | undefined;
  /** Value after (undefined: absent). */
  to: Json | undefined;
}

/** The action a plan takes on one object. */
export type Action = "create" | "update" | "delete" | "unchanged";

/** One object's entry in a diff or a plan. */
export interface Change {
  /** The snapshot section of the object. */
  section: Section;
  /** The object's key within its section. */
  name: string;
  /** What happens to the object. */
  action: Action;
  /** For updates: the fields that differ. */
  fields?: FieldChange[];
  /** The desired object (creates and updates). */
  /** The desired object (creates and updates). */
  to?: JsonObject;
}

/** Counts of a diff or plan per action. */
export interface Summary {
  /** Objects to create. */
  create: number;
  /** Objects to update. */
  update: number;
  /** Objects to delete. */
  delete: number;
  /** Objects left as they are. */
  unchanged: number;
}

/** The comparison of two snapshots: what it takes to turn `from` into `to`. */
export interface Diff {
  /** Per-object entries, in section order then by name. */
  changes: Change[];
  /** Counts per action. */
  summary: Summary;
}

/** A reviewed set of changes for one target, tied to the target's state when it was made. */
export interface Plan extends Diff {
  /** Always {@linkcode PLAN_FORMAT}. */
  format: string;
  /** The target's base URL (informational). */
  target: string;
  /** SHA-256 of the target's snapshot when the plan was made (optimistic concurrency). */
  fingerprint: string;
  /** Whether objects missing from the snapshot are deleted. */
  prune: boolean;
  /** Objects present only in the target and kept because `prune` is off: `section/name`. */
  unmanaged: string[];
  /** The desired state, so a stale plan can be checked against the live target again. */
  desired: SnapshotDocument;
}

/** One step reported by `apply` (and passed to `onProgress`). */
export interface AppliedChange {
  /** Snapshot section of the object. */
  section: Section;
  /** Key of the object in its section. */
  name: string;
  /** What was done. */
  action: Exclude<Action, "unchanged">;
}

/** The outcome of `apply`. */
export interface ApplyReport {
  /** True when every planned change was made (or, with `dryRun`, would be made). */
  ok: boolean;
  /** True when nothing was written (`dryRun`). */
  dryRun: boolean;
  /** Changes made, in order. */
  done: AppliedChange[];
  /** The change that failed, with the server's message. */
  failed?: AppliedChange & { error: string };
  /** Changes not attempted because of the failure. */
  skipped: AppliedChange[];
  /** HTTP requests that wrote something. */
  writeRequests: number;
  /** All HTTP requests made by `apply` (reads included). */
  requests: number;
  /** Set when the plan was stale but the target already matched its desired state. */
  note?: string;
}
