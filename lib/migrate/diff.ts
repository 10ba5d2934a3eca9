/**
 * Comparing snapshots (`diff`) and planning a target against a snapshot (`plan`): per object,
 * create / update (with the changed fields) / delete / unchanged.
 *
 * @module
 */
import { fingerprint } from "./canonical.ts";
import { storedEqual } from "../stored.ts";
import { Io, type MigrateClient } from "./client.ts";
import { attachDisplay } from "./render.ts";
import { KINDS, type RefKind } from "./kinds.ts";
import { assertSnapshot, type LiveState, readLive } from "./snapshot.ts";
import {
  type Change,
  type Diff,
  type FieldChange,
  type JsonObject,
  type Plan,
  PLAN_FORMAT,
  type Section,
  SECTIONS,
  type SnapshotDocument,
  type Summary,
} from "./types.ts";

function isObject(v: unknown): v is JsonObject {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** The fields that differ between two versions of an object, nested objects by dotted path. */
export function fieldChanges(from: JsonObject, to: JsonObject, prefix = ""): FieldChange[] {
  const out: FieldChange[] = [];
  const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
  for (const key of keys) {
    const a = from[key], b = to[key];
    // Compared as DreamFactory 7 stores them: what a server trims or turns into null (an older
    // DreamFactory's "", a hand edit's padding) would otherwise plan the same change every run.
    if (storedEqual(a, b)) continue;
    const path = prefix + key;
    if (isObject(a) && isObject(b)) out.push(...fieldChanges(a, b, path + "."));
    else out.push({ path, from: a, to: b });
  }
  return out;
}

/** The top-level field names touched by a list of field changes. */
export function changedTopFields(fields: FieldChange[] = []): Set<string> {
  return new Set(fields.map((f) => f.path.split(".")[0]));
}

function summarize(changes: Change[]): Summary {
  const s: Summary = { create: 0, update: 0, delete: 0, unchanged: 0 };
  for (const c of changes) s[c.action]++;
  return s;
}

function sectionsOf(from: SnapshotDocument, to: SnapshotDocument): Section[] {
  const wanted = new Set([...from.sections, ...to.sections]);
  return SECTIONS.filter((s) => wanted.has(s));
}

/**
 * `to`'s objects with keys that match `from`'s only loosely (a user's e-mail in another letter
 * case) spelled as in `from`, references to them included: the same object is an update, never
 * a create, and references resolve. `to` itself is left as it is.
 */
function respelled(from: SnapshotDocument, to: SnapshotDocument): SnapshotDocument["objects"] {
  const objects = { ...to.objects };
  const renames = new Map<RefKind, Map<string, string>>();
  for (const kind of KINDS) {
    const fold = kind.fold, b = to.objects[kind.section];
    if (!fold || !b || !kind.refKind) continue;
    const spelled = new Map(Object.keys(from.objects[kind.section] ?? {}).map((k) => [fold(k), k]));
    const out = { ...b };
    for (const name of Object.keys(b)) {
      const same = spelled.get(fold(name));
      if (same === undefined || same === name || same in b) continue;
      out[same] = out[name];
      delete out[name];
      if (!renames.has(kind.refKind)) renames.set(kind.refKind, new Map());
      renames.get(kind.refKind)!.set(name, same);
    }
    objects[kind.section] = out;
  }
  for (const kind of KINDS) {
    for (const ref of kind.refs) {
      const names = renames.get(ref.kind), b = objects[kind.section];
      if (!names || !b) continue;
      objects[kind.section] = Object.fromEntries(
        Object.entries(b).map(([n, o]) => {
          const v = o[ref.field];
          return [
            n,
            typeof v === "string" && names.has(v) ? { ...o, [ref.field]: names.get(v)! } : o,
          ];
        }),
      );
    }
  }
  return objects;
}

/**
 * What it takes to turn snapshot `from` into snapshot `to`, object by object (objects only in
 * `from` are deletes). The result renders as text (`renderDiffText`), JSON, and HTML in Jupyter.
 *
 * @example
 * ```ts
 * import { diff, readSnapshot, renderDiffText } from "@dfkit/dfkit";
 *
 * const d = diff(await readSnapshot("prod.json"), await readSnapshot("staging.json"));
 * console.log(renderDiffText(d));
 * ```
 */
export function diff(from: SnapshotDocument, to: SnapshotDocument): Diff {
  assertSnapshot(from, "diff: 'from'");
  assertSnapshot(to, "diff: 'to'");
  const changes: Change[] = [];
  const objects = respelled(from, to);
  for (const section of sectionsOf(from, to)) {
    const a = from.objects[section] ?? {};
    const b = objects[section] ?? {};
    for (const name of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
      if (!(name in a)) changes.push({ section, name, action: "create", to: b[name] });
      else if (!(name in b)) changes.push({ section, name, action: "delete" });
      else {
        const fields = fieldChanges(a[name], b[name]);
        changes.push(
          fields.length
            ? { section, name, action: "update", fields, to: b[name] }
            : { section, name, action: "unchanged" },
        );
      }
    }
  }
  return attachDisplay({ changes, summary: summarize(changes) });
}

/** Options of {@linkcode plan}. */
export interface PlanOptions {
  /** Delete target objects that the snapshot does not have (default false: leave them). */
  prune?: boolean;
}

/** Builds a plan from a target's live state (shared by `plan` and `apply`). */
export async function planFromLive(
  state: LiveState,
  desired: SnapshotDocument,
  target: string,
  prune: boolean,
): Promise<Plan> {
  const d = diff(state.doc, desired);
  const unmanaged: string[] = [];
  const changes = d.changes.filter((c) => {
    if (c.action !== "delete" || prune) return true;
    unmanaged.push(`${c.section}/${c.name}`);
    return false;
  });
  return attachDisplay({
    format: PLAN_FORMAT,
    target,
    fingerprint: await fingerprint(state.doc),
    prune,
    changes,
    summary: summarize(changes),
    unmanaged,
    desired,
  });
}

/** Scope of a live read matching a snapshot. */
export function scopeOf(doc: SnapshotDocument) {
  return { sections: doc.sections, exclude_services: doc.exclude_services ?? [] };
}

/**
 * Plans a target against a snapshot: per object create / update (changed fields) / delete (only
 * with `prune`) / unchanged, with a fingerprint of the target's current state so that `apply`
 * can refuse the plan if the target changes in between.
 *
 * @example
 * ```ts
 * import { connect, plan, readSnapshot, renderDiffText } from "@dfkit/dfkit";
 *
 * const prod = await connect({ profile: "prod" });
 * const p = await plan(prod, await readSnapshot("staging.json"), { prune: false });
 * console.log(renderDiffText(p));
 * ```
 */
export async function plan(
  target: MigrateClient,
  desired: SnapshotDocument,
  options: PlanOptions = {},
): Promise<Plan> {
  assertSnapshot(desired);
  const state = await readLive(new Io(target), scopeOf(desired));
  return await planFromLive(state, desired, target.url, options.prune ?? false);
}

/** True when a diff or plan changes nothing. */
export function isEmpty(d: Diff): boolean {
  return d.changes.every((c) => c.action === "unchanged");
}

/** Result of {@linkcode drift}. */
export interface DriftResult {
  /** True when the live instance differs from the snapshot. */
  drifted: boolean;
  /** From the snapshot to the live instance: what changed there (`create`: only on the
   * instance, `delete`: missing on the instance, `update`: changed on it). It displays in those
   * words; render it with `renderDiffText(diff, { drift: true })`. */
  diff: Diff;
}

/**
 * Compares a live instance with a snapshot of it (in the snapshot's scope): `drifted` when any
 * object was added, changed or removed since.
 *
 * @example
 * ```ts
 * import { connect, drift, readSnapshot } from "@dfkit/dfkit";
 *
 * const r = await drift(await connect({ profile: "prod" }), await readSnapshot("prod.json"));
 * if (r.drifted) Deno.exit(2);
 * ```
 */
export async function drift(df: MigrateClient, expected: SnapshotDocument): Promise<DriftResult> {
  assertSnapshot(expected);
  const state = await readLive(new Io(df), scopeOf(expected));
  // Displayed as drift: "missing on the instance", not "to delete" (nothing is to be done).
  const d = attachDisplay(diff(expected, state.doc), { drift: true });
  return { drifted: !isEmpty(d), diff: d };
}
