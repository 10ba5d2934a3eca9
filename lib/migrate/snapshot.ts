/**
 * Reading an instance into a portable snapshot document, and writing/reading snapshot files (one
 * canonical JSON file, or a folder with one file per object).
 *
 * @module
 */
import { fileError, mkdirNamed, readJsonFile, writeTextFileNamed } from "../files.ts";
import { canonicalJson } from "./canonical.ts";
import { uniqueEnvRefs } from "./secrets.ts";
import { errorStatus, Io, type MigrateClient } from "./client.ts";
import {
  childIds,
  KINDS,
  type LiveRef,
  type NameMaps,
  type RawRecord,
  recordToDoc,
  type RefKind,
} from "./kinds.ts";
import {
  type JsonObject,
  type Section,
  SECTIONS,
  SNAPSHOT_FORMAT,
  type SnapshotDocument,
} from "./types.ts";

/** What a snapshot covers. */
export interface SnapshotOptions {
  /** Sections to read; default every section except `users` and `admins`. */
  sections?: Section[];
  /** Also read users (opt-in; passwords become optional `env:` references). */
  users?: boolean;
  /** Also read admins (opt-in). */
  admins?: boolean;
  /** Service names to leave out (the `system` service is always left out). */
  excludeServices?: string[];
}

/** The sections a snapshot covers by default. */
export const DEFAULT_SECTIONS: Section[] = SECTIONS.filter((s) => s !== "users" && s !== "admins");

/** The live state of an instance: its snapshot plus the ids apply needs to write to it. */
export interface LiveState {
  doc: SnapshotDocument;
  /** Per section, existing objects by name. */
  live: Partial<Record<Section, Map<string, LiveRef>>>;
  /** name -> id of every object others may reference. */
  ids: Record<RefKind, Map<string, number>>;
}

/** Normalises options into the scope stored in a snapshot document. */
export function snapshotScope(options: SnapshotOptions = {}): Pick<
  SnapshotDocument,
  "sections" | "exclude_services"
> {
  const sections = new Set<Section>(options.sections ?? DEFAULT_SECTIONS);
  if (options.users) sections.add("users");
  if (options.admins) sections.add("admins");
  for (const s of sections) {
    if (!SECTIONS.includes(s)) {
      throw new Error(`Unknown section '${s}': expected one of ${SECTIONS.join(", ")}`);
    }
  }
  return {
    sections: SECTIONS.filter((s) => sections.has(s)),
    exclude_services: [...new Set(options.excludeServices ?? [])].sort(),
  };
}

const REF_SECTIONS: Partial<Record<Section, RefKind>> = {
  services: "service",
  roles: "role",
  apps: "app",
  email_templates: "email_template",
  users: "user",
  admins: "user",
};

/** Reads the live state of an instance for the given scope (one request per section). */
export async function readLive(
  io: Io,
  scope: Pick<SnapshotDocument, "sections" | "exclude_services">,
): Promise<LiveState> {
  const names = {} as NameMaps;
  const ids = {} as Record<RefKind, Map<string, number>>;
  for (const k of ["service", "role", "app", "user", "email_template"] as RefKind[]) {
    names[k] = new Map();
    ids[k] = new Map();
  }
  const included = new Set(scope.sections);
  const needed = new Set<RefKind>();
  for (const kind of KINDS) {
    if (!included.has(kind.section)) continue;
    for (const r of kind.refs) needed.add(r.kind);
    for (const c of kind.children) {
      if (c.field === "access") needed.add("service");
      if (c.field === "roles") needed.add("app").add("role");
    }
    if (kind.section === "services") {
      for (const k of ["role", "app", "email_template"] as RefKind[]) needed.add(k);
    }
  }
  const excluded = new Set(scope.exclude_services);
  const doc: SnapshotDocument = {
    format: SNAPSHOT_FORMAT,
    sections: scope.sections,
    exclude_services: scope.exclude_services,
    objects: {},
  };
  const live: LiveState["live"] = {};
  // Read everything first: converting an object may need names of later sections (a service's
  // config can name a role or an e-mail template).
  const fetched: { kind: (typeof KINDS)[number]; rows: RawRecord[] }[] = [];
  for (const kind of KINDS) {
    const refKind = REF_SECTIONS[kind.section];
    const full = included.has(kind.section);
    if (!full && !(refKind && needed.has(refKind))) continue;
    let rows: RawRecord[];
    try {
      rows = await io.readAll(
        kind.resource,
        full
          ? (kind.children.length
            ? { related: kind.children.map((c) => c.relation).join(",") }
            : {})
          : { fields: `id,${kind.key}` },
      );
    } catch (e) {
      // Add-on resources (limits, event scripts) may not exist on an instance.
      if (kind.optional && errorStatus(e) === 404) rows = [];
      else throw e;
    }
    if (refKind) {
      for (const r of rows) {
        names[refKind].set(Number(r.id), String(r[kind.key]));
        ids[refKind].set(String(r[kind.key]), Number(r.id));
      }
    }
    if (full) fetched.push({ kind, rows });
  }
  for (const { kind, rows } of fetched) {
    const objects: Record<string, JsonObject> = {};
    const refs = new Map<string, LiveRef>();
    for (const rec of rows) {
      if (kind.skip?.(rec)) continue;
      const name = String(rec[kind.key]);
      if (kind.section === "services" && excluded.has(name)) continue;
      const d = recordToDoc(kind, rec, names);
      objects[name] = d;
      refs.set(name, {
        id: (rec.id ?? rec[kind.key]) as number,
        doc: d,
        children: childIds(kind, rec, names),
      });
    }
    doc.objects[kind.section] = objects;
    live[kind.section] = refs;
  }
  uniqueEnvRefs(doc.objects);
  return { doc, live, ids };
}

/**
 * Reads an instance's configuration into a portable, versioned snapshot document: keyed by
 * names, references by name, secrets as `env:` references, stable ordering (serialise it with
 * {@linkcode writeSnapshot} or `canonicalJson` to get byte-identical output for equal states).
 *
 * @example
 * ```ts
 * import { connect, snapshot, writeSnapshot } from "@dfkit/dfkit";
 *
 * const df = await connect({ profile: "staging" });
 * const doc = await snapshot(df, { users: false });
 * await writeSnapshot(doc, "staging.json");
 * ```
 */
export async function snapshot(
  df: MigrateClient,
  options: SnapshotOptions = {},
): Promise<SnapshotDocument> {
  return (await readLive(new Io(df), snapshotScope(options))).doc;
}

/** Checks that a value is a snapshot document this version understands. */
export function assertSnapshot(value: unknown, where = "snapshot"): SnapshotDocument {
  const doc = value as SnapshotDocument;
  if (!doc || typeof doc !== "object" || doc.format !== SNAPSHOT_FORMAT) {
    throw new Error(
      `${where} is not a dfkit snapshot (expected "format": "${SNAPSHOT_FORMAT}", got ${
        JSON.stringify((doc as { format?: unknown })?.format)
      })`,
    );
  }
  if (!Array.isArray(doc.sections) || typeof doc.objects !== "object") {
    throw new Error(`${where}: "sections" must be an array and "objects" an object`);
  }
  doc.exclude_services ??= [];
  return doc;
}

/** The file name of an object in a split snapshot (safe on every file system). */
export function objectFileName(name: string): string {
  const safe = encodeURIComponent(name).replace(
    /[*'()!~]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  ).replace(/^\./, "%2E");
  return `${safe}.json`;
}

/** Options of {@linkcode writeSnapshot}. */
export interface WriteSnapshotOptions {
  /** Write a folder: `snapshot.json` (scope) plus `<section>/<name>.json` per object. */
  split?: boolean;
}

/**
 * Writes a snapshot as one canonical JSON file, or (with `split`) as a folder with one file per
 * object; files of objects no longer in the snapshot are removed from the folder.
 */
export async function writeSnapshot(
  doc: SnapshotDocument,
  path: string,
  options: WriteSnapshotOptions = {},
): Promise<void> {
  if (!options.split) {
    await writeTextFileNamed(path, canonicalJson(doc), "snapshot");
    return;
  }
  await mkdirNamed(path, "snapshot folder");
  const { objects, ...head } = doc;
  await writeTextFileNamed(`${path}/snapshot.json`, canonicalJson(head), "snapshot");
  for (const section of SECTIONS) {
    const dir = `${path}/${section}`;
    const items = objects[section];
    const keep = new Set<string>();
    if (items) {
      await mkdirNamed(dir, "snapshot folder");
      for (const [name, obj] of Object.entries(items)) {
        const file = objectFileName(name);
        keep.add(file);
        await writeTextFileNamed(
          `${dir}/${file}`,
          canonicalJson({ name, ...obj }),
          "snapshot file",
        );
      }
    }
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (entry.isFile && entry.name.endsWith(".json") && !keep.has(entry.name)) {
          await Deno.remove(`${dir}/${entry.name}`);
        }
      }
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw fileError(e, dir, "write", "snapshot folder");
    }
  }
}

/** Reads a snapshot written by {@linkcode writeSnapshot} (a file or a split folder). */
export async function readSnapshot(path: string): Promise<SnapshotDocument> {
  const info = await Deno.stat(path).catch((e) => {
    throw fileError(e, path, "read", "snapshot");
  });
  if (info.isFile) return assertSnapshot(await readJsonFile(path, "snapshot"), path);
  const head = await readJsonFile(`${path}/snapshot.json`, "snapshot") as JsonObject;
  const doc = assertSnapshot({ ...head, objects: {} }, `${path}/snapshot.json`);
  for (const section of doc.sections) {
    const items: Record<string, JsonObject> = {};
    const dir = `${path}/${section}`;
    const files: string[] = [];
    try {
      for await (const e of Deno.readDir(dir)) {
        if (e.isFile && e.name.endsWith(".json")) files.push(e.name);
      }
    } catch (e) {
      // A section without a folder has no objects.
      if (!(e instanceof Deno.errors.NotFound)) throw fileError(e, dir, "read", "snapshot folder");
    }
    for (const file of files.sort()) {
      // readJsonFile says where a mistake is, never the text around it (it may hold a secret).
      const parsed = await readJsonFile(`${dir}/${file}`, "snapshot file");
      if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) {
        throw new Error(`${dir}/${file}: expected a JSON object`);
      }
      const { name, ...obj } = parsed as JsonObject;
      if (typeof name !== "string") {
        throw new Error(`${dir}/${file}: missing "name"`);
      }
      items[name] = obj;
    }
    doc.objects[section] = items;
  }
  return doc;
}
