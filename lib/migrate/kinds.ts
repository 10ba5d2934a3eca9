/**
 * Descriptors of the system resources a snapshot covers: where each lives, its natural key, which
 * fields are copied as they are, which fields reference other objects (stored by name, written by
 * id), which related rows it owns (role access, lookups, app-role assignments) and where its
 * secrets are. Snapshot, plan and apply are generic over these descriptors.
 *
 * @module
 */
import { jsonEqual } from "../json.ts";
import { envRef, isEnvRef, MASK, refsToSecrets, secretsToRefs } from "./secrets.ts";
import type { Json, JsonObject, Section } from "./types.ts";

/** Kinds of objects that others reference by name. */
export type RefKind = "service" | "role" | "app" | "user" | "email_template";

/** A raw record as DreamFactory returns it. */
export type RawRecord = Record<string, unknown>;

/** id -> name lookups of the instance being read. */
export type NameMaps = Record<RefKind, Map<number, string>>;

/** What building a write body needs: ids of named objects and secret values. */
export interface BodyContext {
  /**
   * The target id of a named object (records a clear error when it does not exist). With
   * `deferrable`, an object that does not exist yet gives undefined: the field is written later.
   */
  id(kind: RefKind, name: string, usedBy: string, deferrable?: boolean): number | undefined;
  /** Resolves an `env:` reference (other values pass through; undefined = leave the field out). */
  secret(value: unknown, usedBy: string): unknown;
}

/** Related rows an object owns, written through a DreamFactory relation in the same request. */
export interface ChildSpec {
  /** Field of the snapshot object holding the rows, keyed. */
  field: string;
  /** DreamFactory relation name. */
  relation: string;
  /** The rows' foreign key to the owner; null in an update deletes the row. */
  fk: string;
  /** The key of a raw row within its owner. */
  keyOf(row: RawRecord, names: NameMaps): string;
  /** A raw row in portable form. */
  toDoc(row: RawRecord, names: NameMaps, owner: string, key: string): Json;
  /** A portable row as a write body (no id, no fk). `previous` is the live row's portable form. */
  toRow(
    item: Json,
    key: string,
    ctx: BodyContext,
    usedBy: string,
    previous: Json | undefined,
  ): JsonObject;
}

/** One snapshot section's descriptor. */
export interface Kind {
  section: Section;
  /** Path under `/api/v2`. */
  resource: string;
  /** The natural key column. */
  key: string;
  /** Which reference kind this section's names serve. */
  refKind?: RefKind;
  /** Columns copied as they are. */
  plain: string[];
  /** Columns holding ids of other objects, stored as names. */
  refs: { field: string; column: string; kind: RefKind }[];
  children: ChildSpec[];
  /** Fields with secret values: how to read them into a reference. */
  secrets?: (rec: RawRecord, name: string) => JsonObject;
  /** Service config and docs: custom handling of nested fields. */
  extraToDoc?: (rec: RawRecord, name: string, names: NameMaps) => JsonObject;
  /** The body fields of `extraToDoc`'s fields (`previous` = live portable object on update). */
  extraToBody?: (
    doc: JsonObject,
    name: string,
    ctx: BodyContext,
    previous: JsonObject | undefined,
    changed: Set<string>,
  ) => JsonObject;
  /** False when the resource may be missing on an instance (add-ons): read as empty then. */
  optional?: boolean;
  /** Records to leave out (built-ins that cannot be migrated). */
  skip?: (rec: RawRecord) => boolean;
  /** Writes go one record per request to `resource/{name}` (event scripts). */
  perRecord?: boolean;
  /**
   * The form in which two keys name the same object, when the server compares them loosely
   * (e-mails: without letter case). Keys keep their spelling; only matching uses this.
   */
  fold?: (key: string) => string;
}

/** E-mails match without letter case, as DreamFactory's logins and MySQL's columns do. */
const foldEmail = (email: string) => email.toLowerCase();

/**
 * The id of a named object in `ids`, the exact name first, then (for kinds compared loosely,
 * users by e-mail) any name that folds the same.
 */
export function idByName(
  ids: Map<string, number>,
  refKind: RefKind,
  name: string,
): number | undefined {
  const exact = ids.get(name);
  if (exact !== undefined || refKind !== "user") return exact;
  const want = foldEmail(name);
  for (const [k, id] of ids) if (foldEmail(k) === want) return id;
  return undefined;
}

const VERBS = ["GET", "POST", "PUT", "PATCH", "DELETE"];
const REQUESTORS = ["API", "SCRIPT"];

function maskToList(mask: unknown, words: string[]): string[] {
  const m = Number(mask) || 0;
  return words.filter((_, i) => (m & (1 << i)) !== 0);
}

function listToMask(list: unknown, words: string[]): number {
  if (typeof list === "number") return list;
  if (!Array.isArray(list)) return 0;
  return list.reduce((m: number, w) => {
    const i = words.indexOf(String(w).toUpperCase());
    if (i < 0) throw new Error(`Unknown verb '${w}': expected one of ${words.join(", ")}`);
    return m | (1 << i);
  }, 0);
}

function nameOf(names: NameMaps, kind: RefKind, id: unknown): string | null {
  if (id === null || id === undefined || id === "") return null;
  return names[kind].get(Number(id)) ?? `#${id}`;
}

function refId(ctx: BodyContext, kind: RefKind, name: Json | undefined, usedBy: string) {
  if (name === null || name === undefined) return null;
  return ctx.id(kind, String(name), usedBy) ?? null;
}

/** Service config keys holding ids of other objects (`open_reg_role_id`, `default_app_id`, ...). */
function configRefKind(key: string): RefKind | undefined {
  if (/(^|_)role_id$/.test(key)) return "role";
  if (/(^|_)template_id$/.test(key)) return "email_template";
  if (/(^|_)app_id$/.test(key)) return "app";
  if (/_service_id$/.test(key)) return "service";
  return undefined;
}

/** A `{"$ref": "role:reader"}` value of a service config, parsed. */
export function configRef(value: unknown): { kind: RefKind; name: string } | undefined {
  const ref = (value as { $ref?: unknown } | null)?.$ref;
  if (typeof ref !== "string" || Object.keys(value as object).length !== 1) return undefined;
  const i = ref.indexOf(":");
  return { kind: ref.slice(0, i) as RefKind, name: ref.slice(i + 1) };
}

/** Access rows of a role, keyed `service:component` (`*:` for all services). */
const accessChild: ChildSpec = {
  field: "access",
  relation: "role_service_access_by_role_id",
  fk: "role_id",
  keyOf: (row, names) =>
    `${nameOf(names, "service", row.service_id) ?? "*"}:${row.component ?? ""}`,
  toDoc: (row) => ({
    verbs: maskToList(row.verb_mask, VERBS),
    requestor: maskToList(row.requestor_mask, REQUESTORS),
    filters: (Array.isArray(row.filters) ? row.filters : []) as Json,
    filter_op: String(row.filter_op ?? "AND").toUpperCase(),
  }),
  toRow: (item, key, ctx, usedBy) => {
    const it = item as JsonObject;
    const sep = key.indexOf(":");
    const service = key.slice(0, sep);
    return {
      service_id: service === "*" ? null : refId(ctx, "service", service, usedBy),
      component: key.slice(sep + 1),
      verb_mask: listToMask(it.verbs, VERBS),
      requestor_mask: listToMask(it.requestor, REQUESTORS),
      filters: it.filters ?? [],
      filter_op: it.filter_op ?? "AND",
    };
  },
};

/** Lookups owned by a role, app or user, keyed by name; private values become references. */
function lookupChild(owner: "role" | "app" | "user", ownerWord: string): ChildSpec {
  return {
    field: "lookups",
    relation: `lookup_by_${owner}_id`,
    fk: `${owner}_id`,
    keyOf: (row) => String(row.name),
    toDoc: (row, _names, ownerName, key) => ({
      value: row.private
        ? envRef([ownerWord, ownerName, "LOOKUP", key])
        : (row.value as Json) ?? null,
      private: Boolean(row.private),
      description: (row.description as Json) ?? null,
    }),
    toRow: (item, key, ctx, usedBy, previous) => {
      const it = item as JsonObject;
      const row: JsonObject = { name: key, private: it.private ?? false };
      row.description = it.description ?? null;
      const prev = previous as JsonObject | undefined;
      // An unchanged secret reference means "keep the stored value": leave it out.
      if (!(isEnvRef(it.value) && prev && prev.value === it.value)) {
        const v = ctx.secret(it.value, `${usedBy} lookup ${key}`);
        if (v !== undefined) row.value = v as Json;
      }
      return row;
    },
  };
}

/** A user's app -> role assignments, keyed by app name. */
const assignmentChild: ChildSpec = {
  field: "roles",
  relation: "user_to_app_to_role_by_user_id",
  fk: "user_id",
  keyOf: (row, names) => nameOf(names, "app", row.app_id) ?? "",
  toDoc: (row, names) => nameOf(names, "role", row.role_id),
  toRow: (item, key, ctx, usedBy) => ({
    app_id: refId(ctx, "app", key, usedBy),
    role_id: refId(ctx, "role", item, usedBy),
  }),
};

function userKind(section: "users" | "admins", resource: string, word: string): Kind {
  return {
    section,
    resource,
    key: "email",
    refKind: "user",
    plain: ["name", "username", "first_name", "last_name", "phone", "is_active"],
    refs: [{ field: "default_app", column: "default_app_id", kind: "app" }],
    children: [assignmentChild, lookupChild("user", word)],
    secrets: (_rec, name) => ({ password: envRef([word, name, "PASSWORD"], true) }),
    fold: foldEmail,
  };
}

/** Every section's descriptor, in dependency order. */
export const KINDS: Kind[] = [
  {
    section: "services",
    resource: "system/service",
    key: "name",
    refKind: "service",
    plain: ["label", "description", "is_active", "type"],
    refs: [],
    children: [],
    extraToDoc: (rec, name, names) => {
      const config: JsonObject = {};
      const raw = (rec.config ?? {}) as Record<string, unknown>;
      for (const key of Object.keys(raw)) {
        if (key === "service_id") continue; // the service's own id, not configuration
        // Unset is unset: a null setting is left out, so that null and absent compare equal.
        if (raw[key] === null || raw[key] === undefined) continue;
        const target = configRefKind(key);
        const refName = target && raw[key] !== null
          ? names[target].get(Number(raw[key]))
          : undefined;
        if (refName !== undefined) config[key] = { $ref: `${target}:${refName}` };
        else {
          config[key] = (secretsToRefs(key, raw[key], ["SERVICE", name, key]) as Json) ?? null;
        }
      }
      const doc = rec.service_doc_by_service_id as RawRecord | null | undefined;
      return {
        config,
        doc: doc
          ? { format: (doc.format as Json) ?? 0, content: (doc.content as Json) ?? "" }
          : null,
      };
    },
    extraToBody: (doc, name, ctx, previous, changed) => {
      const body: JsonObject = {};
      if (!previous || changed.has("config")) {
        const config: JsonObject = {};
        const want = (doc.config ?? {}) as JsonObject;
        const had = (previous?.config ?? {}) as JsonObject;
        // A setting the source does not have is reset on the target (DreamFactory merges
        // config, so leaving it out would keep it forever and the plan would never settle).
        for (const key of Object.keys(had)) if (!(key in want)) config[key] = null;
        for (const [key, value] of Object.entries(want)) {
          const ref = configRef(value);
          if (ref) {
            const id = ctx.id(ref.kind, ref.name, `services/${name} config.${key}`, true);
            if (id !== undefined) config[key] = id;
          } else if (isEnvRef(value) && previous && had[key] === value) config[key] = MASK;
          else {
            const v = refsToSecrets(
              value,
              (ref, where) => ctx.secret(ref, where),
              `services/${name} config.${key}`,
            );
            if (v !== undefined) config[key] = v as Json;
          }
        }
        body.config = config;
      }
      if (!previous || changed.has("doc")) body.service_doc_by_service_id = doc.doc ?? null;
      return body;
    },
    skip: (rec) => rec.type === "system",
  },
  {
    section: "roles",
    resource: "system/role",
    key: "name",
    refKind: "role",
    plain: ["description", "is_active"],
    refs: [],
    children: [accessChild, lookupChild("role", "ROLE")],
  },
  {
    section: "apps",
    resource: "system/app",
    key: "name",
    refKind: "app",
    plain: [
      "description",
      "is_active",
      "type",
      "path",
      "url",
      "storage_container",
      "requires_fullscreen",
      "allow_fullscreen_toggle",
      "toggle_location",
    ],
    refs: [
      { field: "role", column: "role_id", kind: "role" },
      { field: "storage_service", column: "storage_service_id", kind: "service" },
    ],
    children: [lookupChild("app", "APP")],
    secrets: (_rec, name) => ({ api_key: envRef(["APP", name, "API_KEY"]) }),
  },
  {
    section: "email_templates",
    resource: "system/email_template",
    key: "name",
    refKind: "email_template",
    plain: [
      "description",
      "to",
      "cc",
      "bcc",
      "subject",
      "attachment",
      "body_text",
      "body_html",
      "from_name",
      "from_email",
      "reply_to_name",
      "reply_to_email",
    ],
    refs: [],
    children: [],
  },
  userKind("users", "system/user", "USER"),
  userKind("admins", "system/admin", "ADMIN"),
  {
    section: "lookups",
    resource: "system/lookup",
    key: "name",
    plain: ["private", "description"],
    refs: [],
    children: [],
    extraToDoc: (rec, name) => ({
      value: rec.private ? envRef(["LOOKUP", name]) : (rec.value as Json) ?? null,
    }),
    extraToBody: (doc, name, ctx, previous, changed) => {
      const body: JsonObject = {};
      if (previous && !changed.has("value")) return body;
      const v = ctx.secret(doc.value, `lookups/${name}`);
      if (v !== undefined) body.value = v as Json;
      return body;
    },
  },
  {
    section: "cors",
    resource: "system/cors",
    key: "path",
    plain: [
      "description",
      "origin",
      "header",
      "exposed_header",
      "method",
      "max_age",
      "supports_credentials",
      "enabled",
    ],
    refs: [],
    children: [],
  },
  {
    section: "limits",
    resource: "system/limit",
    key: "name",
    plain: ["type", "rate", "period", "endpoint", "verb", "description", "is_active"],
    refs: [
      { field: "role", column: "role_id", kind: "role" },
      { field: "user", column: "user_id", kind: "user" },
      { field: "service", column: "service_id", kind: "service" },
    ],
    children: [],
    optional: true,
  },
  {
    section: "event_scripts",
    resource: "system/event_script",
    key: "name",
    plain: [
      "type",
      "content",
      "config",
      "storage_path",
      "scm_reference",
      "scm_repository",
      "is_active",
      "allow_event_modification",
    ],
    refs: [{ field: "storage_service", column: "storage_service_id", kind: "service" }],
    children: [],
    optional: true,
    perRecord: true,
  },
];

/** The descriptor of a section. */
export function kindOf(section: Section): Kind {
  const k = KINDS.find((k) => k.section === section);
  if (!k) throw new Error(`Unknown snapshot section '${section}'`);
  return k;
}

/** A record in portable form (references as names, secrets as `env:` references). */
export function recordToDoc(kind: Kind, rec: RawRecord, names: NameMaps): JsonObject {
  const name = String(rec[kind.key]);
  const doc: JsonObject = {};
  for (const f of kind.plain) doc[f] = (rec[f] as Json) ?? null;
  for (const r of kind.refs) doc[r.field] = nameOf(names, r.kind, rec[r.column]);
  for (const child of kind.children) {
    const rows = Array.isArray(rec[child.relation]) ? rec[child.relation] as RawRecord[] : [];
    const items: JsonObject = {};
    for (const row of rows) {
      let key = child.keyOf(row, names);
      for (let n = 2; key in items; n++) key = `${child.keyOf(row, names)}#${n}`;
      items[key] = child.toDoc(row, names, name, key);
    }
    doc[child.field] = items;
  }
  if (kind.secrets) Object.assign(doc, kind.secrets(rec, name));
  if (kind.extraToDoc) Object.assign(doc, kind.extraToDoc(rec, name, names));
  return doc;
}

/** The live row ids of an object's children, by child field and key. */
export function childIds(
  kind: Kind,
  rec: RawRecord,
  names: NameMaps,
): Record<string, Record<string, number>> {
  const out: Record<string, Record<string, number>> = {};
  for (const child of kind.children) {
    const rows = Array.isArray(rec[child.relation]) ? rec[child.relation] as RawRecord[] : [];
    const ids: Record<string, number> = {};
    for (const row of rows) {
      let key = child.keyOf(row, names);
      for (let n = 2; key in ids; n++) key = `${child.keyOf(row, names)}#${n}`;
      ids[key] = Number(row.id);
    }
    out[child.field] = ids;
  }
  return out;
}

/** What apply knows about an existing object: its id and its children's row ids. */
export interface LiveRef {
  id: number | string;
  doc: JsonObject;
  children: Record<string, Record<string, number>>;
}

/**
 * The write body of an object: everything on create; on update only the changed top-level fields
 * (plus the id), children as row operations (new rows, changed rows by id, removed rows with the
 * foreign key set to null, which DreamFactory takes as a delete).
 */
export function docToBody(
  kind: Kind,
  name: string,
  doc: JsonObject,
  ctx: BodyContext,
  live?: LiveRef,
  changedFields?: Set<string>,
): JsonObject {
  const usedBy = `${kind.section}/${name}`;
  const changed = changedFields ?? new Set(Object.keys(doc));
  const want = (f: string) => !live || changed.has(f);
  const body: JsonObject = {};
  if (live) body[kind.resource === "system/event_script" ? "name" : "id"] = live.id as Json;
  if (!live || kind.perRecord) body[kind.key] = name;
  for (const f of kind.plain) if (want(f) && f in doc) body[f] = doc[f];
  for (const r of kind.refs) {
    if (want(r.field)) body[r.column] = refId(ctx, r.kind, doc[r.field], usedBy);
  }
  if (kind.secrets) {
    const refs = kind.secrets({}, name);
    for (const f of Object.keys(refs)) {
      if (!want(f) || doc[f] === undefined) continue;
      if (live && jsonEqual(live.doc[f], doc[f])) continue;
      const v = ctx.secret(doc[f], `${usedBy} ${f}`);
      if (v !== undefined) body[f] = v as Json;
    }
  }
  if (kind.extraToBody) Object.assign(body, kind.extraToBody(doc, name, ctx, live?.doc, changed));
  for (const child of kind.children) {
    if (!want(child.field)) continue;
    const items = (doc[child.field] ?? {}) as JsonObject;
    const before = (live?.doc[child.field] ?? {}) as JsonObject;
    const ids = live?.children[child.field] ?? {};
    const rows: Json[] = [];
    for (const [key, item] of Object.entries(items)) {
      const baseKey = key.replace(/#\d+$/, "");
      if (live && key in ids) {
        if (jsonEqual(before[key], item)) continue;
        rows.push({ id: ids[key], ...child.toRow(item, baseKey, ctx, usedBy, before[key]) });
      } else rows.push(child.toRow(item, baseKey, ctx, usedBy, undefined));
    }
    for (const key of Object.keys(ids)) {
      if (!(key in items)) rows.push({ id: ids[key], [child.fk]: null });
    }
    if (rows.length || !live) body[child.relation] = rows;
  }
  return body;
}
