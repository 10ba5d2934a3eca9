/**
 * Applying a plan (or a snapshot) to a target: creates and updates section by section in
 * dependency order (services, roles with their access rows, apps, ...), one batch request per
 * section and action, ids remapped by name; deletes last, in reverse order. Stale plans are
 * refused unless forced; a failure half-way reports what was done, and re-running converges.
 *
 * @module
 */
import { fingerprint } from "./canonical.ts";
import { batchOutcome, errorMessage, Io, type MigrateClient, records } from "./client.ts";
import { changedTopFields, planFromLive, scopeOf } from "./diff.ts";
import {
  type BodyContext,
  configRef,
  docToBody,
  idByName,
  type Kind,
  kindOf,
  KINDS,
  type RefKind,
} from "./kinds.ts";
import { SecretResolver, type SecretSource } from "./secrets.ts";
import { assertSnapshot, type LiveState, readLive } from "./snapshot.ts";
import {
  type AppliedChange,
  type ApplyReport,
  type Change,
  type JsonObject,
  type Plan,
  PLAN_FORMAT,
  type SnapshotDocument,
} from "./types.ts";

/** Progress of {@linkcode apply}, reported after every write request. */
export interface ApplyProgress {
  /** Changes finished so far, and in total. */
  done: number;
  /** Changes in total. */
  total: number;
  /** What the last request did. */
  section: string;
  /** Kind of write of the last request. */
  action: "create" | "update" | "delete";
  /** Objects written by the last request. */
  names: string[];
}

/** Options of {@linkcode apply}. */
export interface ApplyOptions {
  /** Check everything (staleness, references, secrets) and report, but write nothing. */
  dryRun?: boolean;
  /** Apply even if the target changed since the plan was made (re-planned against it). */
  force?: boolean;
  /** Called after each write request. */
  onProgress?: (p: ApplyProgress) => void | Promise<void>;
  /** Where `env:` references are read (default: the process environment). */
  env?: SecretSource;
  /** With a snapshot instead of a plan: delete objects the snapshot does not have. */
  prune?: boolean;
  /** Largest number of records per batch request (default 500). */
  batchSize?: number;
}

/** Raised when a plan was made against a target state that has changed since. */
export class StalePlanError extends Error {
  /** Builds the error; `plannedFor` is set when the plan was made for another URL. */
  constructor(readonly planned: string, readonly current: string, readonly plannedFor?: string) {
    super(
      (plannedFor ? `The plan was made for ${plannedFor}, not this instance. ` : "") +
        `The target changed since the plan was made (state ${planned.slice(0, 12)} -> ${
          current.slice(0, 12)
        }). Make a new plan, or apply with force to re-plan against the current state.`,
    );
    this.name = "StalePlanError";
  }
}

/** Raised when an apply stops half-way; `report` says what was done and what was not. */
export class ApplyError extends Error {
  /** Builds the error from the report. */
  constructor(readonly report: ApplyReport) {
    const f = report.failed!;
    super(
      `Apply stopped at ${f.action} ${f.section}/${f.name}: ${f.error}\n` +
        `Done before the failure (${report.done.length}): ${
          report.done.map((d) => `${d.action} ${d.section}/${d.name}`).join(", ") || "nothing"
        }\nNot attempted (${report.skipped.length}). Fix the cause and run plan + apply again: ` +
        `it continues from the current state.`,
    );
    this.name = "ApplyError";
  }
}

/** Raised before any write when the plan names objects that exist neither in the target nor in the plan. */
export class UnresolvedReferenceError extends Error {
  /** Builds the error from the unresolved references. */
  constructor(readonly missing: string[]) {
    super(`The snapshot references objects the target does not have:\n  ${missing.join("\n  ")}`);
    this.name = "UnresolvedReferenceError";
  }
}

function isPlanDoc(x: unknown): x is Plan {
  return (x as Plan)?.format === PLAN_FORMAT;
}

function applied(c: Change): AppliedChange {
  return { section: c.section, name: c.name, action: c.action as AppliedChange["action"] };
}

/**
 * Applies a plan (or a snapshot, planned on the spot) to a target. Re-applying the same plan or
 * snapshot afterwards makes no writes.
 *
 * @example
 * ```ts
 * import { apply, connect, plan, readSnapshot } from "@dfkit/dfkit";
 *
 * const prod = await connect({ profile: "prod" });
 * const p = await plan(prod, await readSnapshot("staging.json"));
 * const report = await apply(prod, p, { onProgress: (x) => console.log(x.done, "/", x.total) });
 * console.log(report.done.length, "changes,", report.writeRequests, "write requests");
 * ```
 */
export async function apply(
  target: MigrateClient,
  planOrSnapshot: Plan | SnapshotDocument,
  options: ApplyOptions = {},
): Promise<ApplyReport> {
  const io = new Io(target);
  let changes: Change[];
  let state: LiveState;
  let note: string | undefined;
  if (isPlanDoc(planOrSnapshot)) {
    const p = planOrSnapshot;
    assertSnapshot(p.desired, "plan.desired");
    state = await readLive(io, scopeOf(p.desired));
    const current = await fingerprint(state.doc);
    changes = p.changes;
    if (current !== p.fingerprint) {
      const fresh = await planFromLive(state, p.desired, target.url, p.prune);
      if (fresh.changes.every((c) => c.action === "unchanged")) {
        note = "The target already matches the plan's desired state; nothing to do.";
        changes = [];
      } else if (!options.force) {
        throw new StalePlanError(
          p.fingerprint,
          current,
          p.target !== target.url ? p.target : undefined,
        );
      } else changes = fresh.changes;
    }
  } else {
    const desired = assertSnapshot(planOrSnapshot);
    state = await readLive(io, scopeOf(desired));
    changes = (await planFromLive(state, desired, target.url, options.prune ?? false)).changes;
  }
  const todo = changes.filter((c) => c.action !== "unchanged");
  const report: ApplyReport = {
    ok: true,
    dryRun: options.dryRun ?? false,
    done: [],
    skipped: [],
    writeRequests: 0,
    requests: 0,
    ...(note ? { note } : {}),
  };

  preflight(todo, state, options.env);
  if (options.dryRun) {
    report.done = todo.map(applied);
    report.requests = io.requests;
    return report;
  }

  const runner = new Runner(io, state, options, todo.length, report);
  try {
    for (const kind of KINDS) {
      const mine = todo.filter((c) => c.section === kind.section);
      await runner.writeSection(kind, mine.filter((c) => c.action === "create"), "create");
      await runner.writeSection(kind, mine.filter((c) => c.action === "update"), "update");
    }
    await runner.patchDeferred();
    for (const kind of [...KINDS].reverse()) {
      const gone = todo.filter((c) => c.section === kind.section && c.action === "delete");
      await runner.deleteSection(kind, gone);
    }
  } catch (e) {
    if (!(e instanceof FailedStep)) throw e;
    report.ok = false;
    report.failed = { ...e.change, error: e.message };
    const finished = new Set(
      [...report.done, e.change].map((d) => `${d.action} ${d.section}/${d.name}`),
    );
    report.skipped = todo.map(applied).filter((d) =>
      !finished.has(`${d.action} ${d.section}/${d.name}`)
    );
    report.requests = io.requests;
    report.writeRequests = io.writes;
    throw new ApplyError(report);
  }
  report.requests = io.requests;
  report.writeRequests = io.writes;
  return report;
}

/** Checks references and secrets of every change before anything is written. */
function preflight(todo: Change[], state: LiveState, env?: SecretSource): void {
  const known = {} as Record<RefKind, Map<string, number>>;
  for (const [k, m] of Object.entries(state.ids)) known[k as RefKind] = new Map(m);
  for (const c of todo) {
    const kind = kindOf(c.section);
    if (c.action === "create" && kind.refKind) known[kind.refKind].set(c.name, 0);
  }
  const missing: string[] = [];
  const secrets = new SecretResolver(env);
  const ctx: BodyContext = {
    id: (k, name, usedBy) => {
      if (idByName(known[k], k, name) === undefined) missing.push(`${usedBy}: ${k} '${name}'`);
      return 0;
    },
    secret: (v, usedBy) => secrets.resolve(v, usedBy),
  };
  for (const c of todo) {
    if (c.action === "delete") continue;
    const kind = kindOf(c.section);
    const live = state.live[c.section]?.get(c.name);
    docToBody(
      kind,
      c.name,
      c.to!,
      ctx,
      c.action === "update" ? live : undefined,
      changedTopFields(c.fields),
    );
  }
  if (missing.length) throw new UnresolvedReferenceError([...new Set(missing)]);
  secrets.check();
}

/** Thrown inside the runner when a write fails; carries the failing change. */
class FailedStep extends Error {
  constructor(readonly change: AppliedChange, message: string) {
    super(message);
  }
}

class Runner {
  private finished = 0;
  constructor(
    private io: Io,
    private state: LiveState,
    private options: ApplyOptions,
    private total: number,
    private report: ApplyReport,
  ) {}

  /** Services whose config names objects written after them: their config is patched last. */
  private deferred = new Map<string, Change>();

  private ctx(change?: Change): BodyContext {
    const secrets = new SecretResolver(this.options.env);
    return {
      id: (k, name, usedBy, deferrable) => {
        const id = idByName(this.state.ids[k], k, name);
        if (id === undefined && deferrable && change) {
          this.deferred.set(change.name, change);
          return undefined;
        }
        if (id === undefined) throw new Error(`${usedBy}: ${k} '${name}' not found in the target`);
        return id;
      },
      secret: (v, usedBy) => secrets.resolve(v, usedBy),
    };
  }

  private async progress(section: string, action: ApplyProgress["action"], names: string[]) {
    this.finished += names.length;
    await this.options.onProgress?.({
      done: this.finished,
      total: this.total,
      section,
      action,
      names,
    });
  }

  private markDone(changes: Change[]) {
    for (const c of changes) this.report.done.push(applied(c));
  }

  async writeSection(kind: Kind, changes: Change[], action: "create" | "update") {
    if (!changes.length) return;
    const bodies = changes.map((c) => {
      const ctx = this.ctx(c);
      const live = action === "update" ? this.state.live[kind.section]?.get(c.name) : undefined;
      return docToBody(
        kind,
        c.name,
        c.to!,
        ctx,
        live,
        action === "update" ? changedTopFields(c.fields) : undefined,
      );
    });
    if (kind.perRecord) {
      for (let i = 0; i < changes.length; i++) {
        await this.send(
          kind,
          [changes[i]],
          "POST",
          `${kind.resource}/${encodeURIComponent(changes[i].name)}`,
          bodies[i],
          action,
        );
      }
      return;
    }
    const size = this.options.batchSize ?? 500;
    for (let start = 0; start < changes.length; start += size) {
      const part = changes.slice(start, start + size);
      const res = await this.send(
        kind,
        part,
        action === "create" ? "POST" : "PATCH",
        kind.resource,
        { resource: bodies.slice(start, start + size) },
        action,
      );
      if (action === "create" && kind.refKind) {
        records(res).forEach((r, i) => {
          if (part[i] && r.id !== undefined) {
            this.state.ids[kind.refKind!].set(part[i].name, Number(r.id));
          }
        });
      }
      if (action === "create" && (kind.section === "users" || kind.section === "admins")) {
        await this.fixInactiveUsers(kind, part, records(res));
      }
    }
  }

  /** Writes service config fields that name objects created after the service. */
  async patchDeferred() {
    if (!this.deferred.size) return;
    const kind = kindOf("services");
    const changes = [...this.deferred.values()];
    const ctx = this.ctx();
    const bodies = changes.map((c) => {
      const config: JsonObject = {};
      for (const [key, value] of Object.entries((c.to!.config ?? {}) as JsonObject)) {
        const ref = configRef(value);
        if (ref) config[key] = ctx.id(ref.kind, ref.name, `services/${c.name} config.${key}`)!;
      }
      return { id: this.state.ids.service.get(c.name)!, config };
    });
    this.deferred.clear();
    const size = this.options.batchSize ?? 500;
    for (let start = 0; start < changes.length; start += size) {
      const part = changes.slice(start, start + size);
      await this.send(
        kind,
        part,
        "PATCH",
        kind.resource,
        {
          resource: bodies.slice(start, start + size),
        },
        "update",
        undefined,
        false,
      );
    }
  }

  /** DreamFactory drops `is_active: false` when creating users; set it afterwards. */
  private async fixInactiveUsers(kind: Kind, part: Change[], created: Record<string, unknown>[]) {
    const fixes = part.map((c, i) => ({ c, id: created[i]?.id }))
      .filter((x) => x.c.to?.is_active === false && x.id !== undefined);
    if (!fixes.length) return;
    await this.io.call("PATCH", kind.resource, {
      body: { resource: fixes.map((x) => ({ id: x.id, is_active: false })) },
    });
  }

  async deleteSection(kind: Kind, changes: Change[]) {
    if (!changes.length) return;
    const live = this.state.live[kind.section]!;
    if (kind.perRecord) {
      for (const c of changes) {
        await this.send(
          kind,
          [c],
          "DELETE",
          `${kind.resource}/${encodeURIComponent(c.name)}`,
          undefined,
          "delete",
        );
      }
      return;
    }
    const size = this.options.batchSize ?? 500;
    for (let start = 0; start < changes.length; start += size) {
      const part = changes.slice(start, start + size);
      const ids = part.map((c) => live.get(c.name)!.id).join(",");
      await this.send(kind, part, "DELETE", kind.resource, undefined, "delete", { ids });
    }
  }

  private async send(
    kind: Kind,
    part: Change[],
    method: string,
    path: string,
    body: unknown,
    action: ApplyProgress["action"],
    query?: Record<string, string>,
    record = true,
  ): Promise<unknown> {
    let res: unknown;
    try {
      res = await this.io.call(method, path, { body, query });
    } catch (e) {
      const outcome = batchOutcome(e, part.length);
      const list = (body as { resource?: unknown[] } | undefined)?.resource;
      if (
        outcome.failedIndex < 0 && !outcome.succeeded.length && part.length > 1 &&
        Array.isArray(list) && list.length === part.length
      ) {
        // The server refused the batch without saying which record (limits do this) and kept
        // none of it: send the records one by one, so the failure names the right object.
        const results: unknown[] = [];
        for (let i = 0; i < part.length; i++) {
          const one = await this.send(
            kind,
            [part[i]],
            method,
            path,
            { ...(body as object), resource: [list[i]] },
            action,
            query,
            record,
          );
          results.push(...records(one));
        }
        return { resource: results };
      }
      const committed = outcome.succeeded.map((s) => part[s.index]).filter(Boolean);
      if (action === "create" && kind.refKind) {
        for (const s of outcome.succeeded) {
          if (part[s.index] && s.record.id !== undefined) {
            this.state.ids[kind.refKind].set(part[s.index].name, Number(s.record.id));
          }
        }
      }
      this.markDone(committed);
      const failed = part[outcome.failedIndex] ?? part[0];
      const label = outcome.failedIndex < 0 ? ` (batch of ${part.length})` : "";
      throw new FailedStep(applied(failed), outcome.message + label || errorMessage(e));
    }
    if (record) {
      this.markDone(part);
      await this.progress(kind.section, action, part.map((c) => c.name));
    }
    return res;
  }
}
