/**
 * What a SQLite database looks like in DreamFactory's terms: tables, fields with DF types,
 * primary and foreign keys, and the relationships DreamFactory derives from foreign keys
 * (belongs_to, has_many, many_many through junction tables). Facts SQLite cannot hold
 * (DF type refinements, labels, descriptions) live in a small side table, `_dfkit_meta`.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import {
  fixedLengthOf,
  labelize,
  META_TYPES,
  multibyteOf,
  pluralize,
  typeFromDeclared,
} from "./types.ts";

/** The side table for DreamFactory metadata; never listed, never writable through the API. */
export const META_TABLE = "_dfkit_meta";

/** One column as DreamFactory describes it. */
export interface FieldInfo {
  name: string;
  label: string;
  description: string | null;
  alias: string | null;
  type: string;
  dbType: string;
  length: number | null;
  precision: number | null;
  scale: number | null;
  default: unknown;
  allowNull: boolean;
  fixedLength: boolean;
  /** Schema::extractMultiByteSupport of the declared type. */
  supportsMultibyte: boolean;
  autoIncrement: boolean;
  isPrimaryKey: boolean;
  isUnique: boolean;
  isIndex: boolean;
  /** In a `u` constraint (an inline UNIQUE's autoindex): what the describer calls is_unique. */
  inUniqueConstraint: boolean;
  isForeignKey: boolean;
  refTable: string | null;
  refField: string | null;
  refOnUpdate: string | null;
  refOnDelete: string | null;
  picklist: unknown;
  validation: unknown;
  dbFunction: unknown;
}

/** One relationship as DreamFactory derives it. */
export interface RelationInfo {
  name: string;
  /** No has_one: DreamFactory never derives it on SQLite (see `#relations`), and relations come
   * only from foreign keys here (no virtual ones). */
  type: "belongs_to" | "has_many" | "many_many";
  field: string;
  refTable: string;
  refField: string;
  refOnUpdate: string | null;
  refOnDelete: string | null;
  junctionTable: string | null;
  junctionField: string | null;
  junctionRefField: string | null;
  alias: string | null;
  label: string;
  description: string | null;
  alwaysFetch: boolean;
}

/** One table as DreamFactory describes it. */
export interface TableInfo {
  name: string;
  label: string;
  plural: string;
  description: string | null;
  alias: string | null;
  fields: FieldInfo[];
  /** Fields by lower-cased name (DreamFactory matches names case-insensitively). */
  byName: Map<string, FieldInfo>;
  primaryKey: string[];
  related: RelationInfo[];
  /** True for SQLite views (readable, not writable). */
  isView: boolean;
  /** SqliteSchema::getTableConstraints for this table, keyed by lower-cased name. */
  constraints: Record<string, Record<string, unknown>>;
}

interface ForeignKey {
  table: string;
  from: string;
  to: string;
  onUpdate: string;
  onDelete: string;
}

type Row = Record<string, unknown>;

/** Reads and caches table descriptions; `invalidate()` after any schema change. */
export class Catalog {
  #db: DatabaseSync;
  #cache = new Map<string, TableInfo | null>();
  #names: string[] | null = null;

  constructor(db: DatabaseSync) {
    this.#db = db;
    db.exec(
      `CREATE TABLE IF NOT EXISTS "${META_TABLE}" (tbl TEXT NOT NULL, fld TEXT NOT NULL, ` +
        `data TEXT NOT NULL, PRIMARY KEY (tbl, fld))`,
    );
  }

  /** Forgets cached descriptions (after DDL). */
  invalidate(): void {
    this.#cache.clear();
    this.#names = null;
  }

  /** User table names, in the order SQLite lists them (by name). */
  tableNames(): string[] {
    if (!this.#names) {
      const rows = this.#db.prepare(
        `SELECT name FROM sqlite_master WHERE type IN ('table','view') AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> ? ORDER BY name`,
      ).all(META_TABLE) as Row[];
      this.#names = rows.map((r) => String(r.name));
    }
    return this.#names;
  }

  /** The real name of a table matched case-insensitively, or null. */
  resolve(name: string): string | null {
    const lower = name.toLowerCase();
    return this.tableNames().find((n) => n.toLowerCase() === lower) ?? null;
  }

  /** Metadata stored for a table (`fld` = "") or a field. */
  meta(table: string, field = ""): Row {
    const row = this.#db.prepare(`SELECT data FROM "${META_TABLE}" WHERE tbl = ? AND fld = ?`)
      .get(table, field) as Row | undefined;
    if (!row) return {};
    try {
      return JSON.parse(String(row.data)) as Row;
    } catch {
      return {};
    }
  }

  /** Stores (merges) metadata for a table or field. */
  setMeta(table: string, field: string, data: Row): void {
    const merged = { ...this.meta(table, field), ...data };
    for (const k of Object.keys(merged)) if (merged[k] === undefined) delete merged[k];
    this.#db.prepare(
      `INSERT INTO "${META_TABLE}" (tbl, fld, data) VALUES (?, ?, ?) ON CONFLICT (tbl, fld) DO UPDATE SET data = excluded.data`,
    ).run(table, field, JSON.stringify(merged));
  }

  /** Drops metadata of a whole table (`field` undefined) or of one field. */
  dropMeta(table: string, field?: string): void {
    if (field === undefined) {
      this.#db.prepare(`DELETE FROM "${META_TABLE}" WHERE tbl = ?`).run(table);
    } else {this.#db.prepare(`DELETE FROM "${META_TABLE}" WHERE tbl = ? AND fld = ?`).run(
        table,
        field,
      );}
  }

  #foreignKeys(table: string): ForeignKey[] {
    const rows = this.#db.prepare(`SELECT * FROM pragma_foreign_key_list(?)`).all(table) as Row[];
    return rows.map((r) => ({
      table: String(r.table),
      from: String(r.from),
      to: r.to === null ? "" : String(r.to),
      onUpdate: String(r.on_update ?? "NO ACTION"),
      onDelete: String(r.on_delete ?? "NO ACTION"),
    }));
  }

  /** Single-column unique indexes of a table (column names). */
  #uniqueColumns(table: string): { unique: Set<string>; indexed: Set<string> } {
    const unique = new Set<string>();
    const indexed = new Set<string>();
    const list = this.#db.prepare(`SELECT * FROM pragma_index_list(?)`).all(table) as Row[];
    for (const idx of list) {
      const cols = this.#db.prepare(`SELECT * FROM pragma_index_info(?)`).all(
        String(idx.name),
      ) as Row[];
      if (cols.length !== 1) continue;
      const col = String(cols[0].name);
      if (idx.origin === "pk") continue;
      if (Number(idx.unique) === 1) unique.add(col);
      else indexed.add(col);
    }
    return { unique, indexed };
  }

  /** The DreamFactory description of a table, or null when it does not exist. */
  describe(name: string): TableInfo | null {
    const real = this.resolve(name);
    if (!real) return null;
    if (this.#cache.has(real)) return this.#cache.get(real)!;
    const info = this.#read(real);
    this.#cache.set(real, info);
    return info;
  }

  #read(table: string): TableInfo {
    const cols = this.#db.prepare(`SELECT * FROM pragma_table_info(?)`).all(table) as Row[];
    const sqlRow = this.#db.prepare(`SELECT sql, type FROM sqlite_master WHERE name = ?`).get(
      table,
    ) as
      | Row
      | undefined;
    const createSql = String(sqlRow?.sql ?? "");
    const hasAutoincrement = /\bAUTOINCREMENT\b/i.test(createSql);
    const fks = this.#foreignKeys(table);
    const { unique, indexed } = this.#uniqueColumns(table);
    const pkCols = cols.filter((c) => Number(c.pk) > 0).sort((a, b) => Number(a.pk) - Number(b.pk))
      .map((c) => String(c.name));
    const constraints = this.#constraints(table);
    const uConstraint = new Set(
      Object.values(constraints).filter((c) => c.constraint_type === "u").flatMap((c) =>
        c.column_name as string[]
      ),
    );
    const fields: FieldInfo[] = cols.map((c) => {
      const fname = String(c.name);
      const declared = String(c.type ?? "");
      const d = typeFromDeclared(declared);
      const meta = this.meta(table, fname);
      const isPk = Number(c.pk) > 0;
      const fk = fks.find((k) => k.from === fname);
      const singleIntPk = isPk && pkCols.length === 1 && declared.toLowerCase() === "integer";
      const autoIncrement = singleIntPk && (hasAutoincrement || meta.type === "id" || true);
      let type = d.type;
      if (singleIntPk && autoIncrement) type = "id";
      else if (fk && d.type === "integer") type = "reference";
      // Only a type the side table still holds wins: an older file's money/mediumtext/*tz entry
      // reads back from the declared type, as on a fresh sandbox.
      if (typeof meta.type === "string" && META_TYPES.has(meta.type)) type = meta.type;
      return {
        name: fname,
        label: typeof meta.label === "string" ? meta.label : labelize(fname),
        description: typeof meta.description === "string" ? meta.description : null,
        alias: typeof meta.alias === "string" ? meta.alias : null,
        type,
        dbType: declared.toLowerCase(),
        length: d.length,
        precision: d.precision,
        scale: d.scale,
        default: parseDefault(c.dflt_value, type),
        allowNull: !isPk && Number(c.notnull) === 0,
        fixedLength: fixedLengthOf(declared),
        supportsMultibyte: multibyteOf(declared),
        autoIncrement,
        isPrimaryKey: isPk,
        isUnique: unique.has(fname),
        isIndex: indexed.has(fname),
        inUniqueConstraint: uConstraint.has(fname),
        isForeignKey: !!fk,
        refTable: fk?.table ?? null,
        refField: fk ? (fk.to || "id") : null,
        refOnUpdate: fk?.onUpdate ?? null,
        refOnDelete: fk?.onDelete ?? null,
        picklist: meta.picklist ?? null,
        validation: meta.validation ?? null,
        dbFunction: meta.db_function ?? null,
      };
    });
    const tmeta = this.meta(table);
    const label = typeof tmeta.label === "string" ? tmeta.label : labelize(table);
    return {
      name: table,
      label,
      plural: typeof tmeta.plural === "string" ? tmeta.plural : pluralize(label),
      description: typeof tmeta.description === "string" ? tmeta.description : null,
      alias: typeof tmeta.alias === "string" ? tmeta.alias : null,
      fields,
      byName: new Map(fields.map((f) => [f.name.toLowerCase(), f])),
      primaryKey: pkCols,
      related: this.#relations(table, fks),
      isView: sqlRow?.type === "view",
      constraints,
    };
  }

  /**
   * SqliteSchema::getTableConstraints: every index of PRAGMA index_list (typed by its origin,
   * columns as a list), then every PRAGMA foreign_key_list row as `fk_{table}_{from}`; the
   * describer keys them by lower-cased name (updateTableWithConstraints).
   */
  #constraints(table: string): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    const list = this.#db.prepare(`SELECT * FROM pragma_index_list(?)`).all(table) as Row[];
    for (const idx of list) {
      const name = String(idx.name);
      const cols = this.#db.prepare(`SELECT * FROM pragma_index_info(?)`).all(name) as Row[];
      out[name.toLowerCase()] = {
        table_schema: "",
        table_name: table,
        column_name: cols.map((c) => String(c.name)),
        constraint_name: name,
        constraint_type: idx.origin ?? (Number(idx.unique) ? "unique" : "c"),
      };
    }
    const fks = this.#db.prepare(`SELECT * FROM pragma_foreign_key_list(?)`).all(table) as Row[];
    for (const k of fks) {
      const name = `fk_${table}_${String(k.from)}`;
      out[name.toLowerCase()] = {
        table_schema: "",
        table_name: table,
        column_name: String(k.from),
        constraint_name: name,
        constraint_type: "f",
        referenced_table_schema: "",
        referenced_table_name: String(k.table),
        referenced_column_name: k.to === null ? null : String(k.to),
        update_rule: String(k.on_update),
        delete_rule: String(k.on_delete),
      };
    }
    return out;
  }

  #relations(table: string, ownFks: ForeignKey[]): RelationInfo[] {
    const out: RelationInfo[] = [];
    const rel = (
      r: Omit<RelationInfo, "alias" | "label" | "description" | "alwaysFetch">,
    ): RelationInfo => {
      const meta = this.meta(table, `@${r.name}`);
      return {
        ...r,
        alias: typeof meta.alias === "string" ? meta.alias : null,
        label: typeof meta.label === "string" ? meta.label : labelize(r.name),
        description: typeof meta.description === "string" ? meta.description : null,
        alwaysFetch: meta.always_fetch === true,
      };
    };
    for (const fk of ownFks) {
      out.push(rel({
        name: `${fk.table}_by_${fk.from}`,
        type: "belongs_to",
        field: fk.from,
        refTable: fk.table,
        refField: fk.to || "id",
        refOnUpdate: fk.onUpdate,
        refOnDelete: fk.onDelete,
        junctionTable: null,
        junctionField: null,
        junctionRefField: null,
      }));
    }
    const lower = table.toLowerCase();
    for (const other of this.tableNames()) {
      const fks = this.#foreignKeys(other);
      for (const fk of fks) {
        if (fk.table.toLowerCase() !== lower) continue;
        for (const fk2 of fks) {
          if (fk2 === fk || fk2.table.toLowerCase() === lower) continue;
          out.push(rel({
            name: `${fk2.table}_by_${other}`,
            type: "many_many",
            field: fk.to || "id",
            refTable: fk2.table,
            refField: fk2.to || "id",
            refOnUpdate: fk.onUpdate,
            refOnDelete: fk.onDelete,
            junctionTable: other,
            junctionField: fk.from,
            junctionRefField: fk2.from,
          }));
        }
        // Always has_many on SQLite: BaseDbService::updateTableWithConstraints picks has_one when
        // a 'p'/'u' constraint's column_name === the key's, but SqliteSchema::getTableConstraints
        // gives index columns as a list and a foreign key's as a string, so they never match.
        out.push(rel({
          name: `${other}_by_${fk.from}`,
          type: "has_many",
          field: fk.to || "id",
          refTable: other,
          refField: fk.from,
          refOnUpdate: fk.onUpdate,
          refOnDelete: fk.onDelete,
          junctionTable: null,
          junctionField: null,
          junctionRefField: null,
        }));
      }
    }
    // DreamFactory lists relationships alphabetically; later duplicates of a name are dropped.
    const seen = new Set<string>();
    return out.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0).filter((r) =>
      seen.has(r.name) ? false : (seen.add(r.name), true)
    );
  }
}

function parseDefault(raw: unknown, type: string): unknown {
  if (raw === null || raw === undefined) return null;
  let s = String(raw).trim();
  if (/^null$/i.test(s)) return null;
  if (s.startsWith("(") && s.endsWith(")")) s = s.slice(1, -1).trim();
  if (s.startsWith("'") && s.endsWith("'")) {
    const v = s.slice(1, -1).replace(/''/g, "'");
    if (type === "boolean") return ["1", "true"].includes(v.toLowerCase());
    return v;
  }
  if (/^[-+]?\d+(\.\d+)?$/.test(s)) {
    const n = Number(s);
    if (type === "boolean") return n !== 0;
    return n;
  }
  return s;
}

/** DreamFactory's JSON description of one field. */
export function fieldToJson(f: FieldInfo): Record<string, unknown> {
  return {
    alias: f.alias,
    name: f.name,
    label: f.label,
    description: f.description,
    native: [],
    type: f.type,
    db_type: f.dbType,
    length: f.length,
    precision: f.precision,
    scale: f.scale,
    default: f.default,
    required: isRequired(f),
    allow_null: f.allowNull,
    fixed_length: f.fixedLength,
    supports_multibyte: f.supportsMultibyte,
    auto_increment: f.autoIncrement,
    is_primary_key: f.isPrimaryKey,
    // df-database's updateTableWithConstraints marks is_unique from `u` constraints only (not
    // from CREATE UNIQUE INDEX, origin `c`) and never sets is_index.
    is_unique: f.inUniqueConstraint,
    is_index: false,
    is_foreign_key: f.isForeignKey,
    ref_table: f.refTable,
    ref_field: f.refField,
    // Only the relationship carries the rules; the column gets isForeignKey/refTable/refField
    // (updateTableWithConstraints; transcript 09 shows null on the system user table's keys).
    ref_on_update: null,
    ref_on_delete: null,
    picklist: f.picklist,
    validation: f.validation,
    db_function: f.dbFunction,
    is_virtual: false,
    is_aggregate: false,
  };
}

/** DreamFactory's `required`: not nullable, no default, not generated by the database. */
export function isRequired(f: FieldInfo): boolean {
  return !f.allowNull && f.default === null && !f.autoIncrement;
}

/** DreamFactory's JSON description of one relationship. */
export function relationToJson(r: RelationInfo, serviceId: number): Record<string, unknown> {
  return {
    alias: r.alias,
    name: r.name,
    label: r.label,
    description: r.description,
    native: [],
    type: r.type,
    field: r.field,
    is_virtual: false,
    ref_service_id: serviceId,
    ref_table: r.refTable,
    ref_field: r.refField,
    ref_on_update: r.refOnUpdate,
    ref_on_delete: r.refOnDelete,
    junction_service_id: r.junctionTable ? serviceId : null,
    junction_table: r.junctionTable,
    junction_field: r.junctionField,
    junction_ref_field: r.junctionRefField,
    always_fetch: r.alwaysFetch,
    flatten: false,
    flatten_drop_prefix: false,
  };
}

/** The component strings of `?as_access_list=true` for a database service. */
export function accessList(catalog: Catalog): string[] {
  const out = ["", "*"];
  for (const res of ["_schema", "_table"]) {
    out.push(`${res}/`, `${res}/*`);
    for (const t of catalog.tableNames()) out.push(`${res}/${t}/`, `${res}/${t}/*`);
  }
  return out;
}

/** The keys every listing of a table starts with (TableSchema::toArray before discovery), after
 * `alias` where the listing has one. */
export function tableSummary(t: TableInfo): Record<string, unknown> {
  return {
    name: t.name,
    label: t.label,
    description: t.description,
    native: [],
    plural: t.plural,
    is_view: t.isView,
  };
}

/** DreamFactory's JSON description of a table (`GET _schema/{table}`). */
export function tableToJson(
  t: TableInfo,
  serviceId: number,
  access: number,
): Record<string, unknown> {
  return {
    alias: t.alias,
    ...tableSummary(t),
    primary_key: t.primaryKey,
    name_field: null,
    field: t.fields.map(fieldToJson),
    related: t.related.map((r) => relationToJson(r, serviceId)),
    // PHP's empty array encodes as [], a filled one as an object.
    constraints: Object.keys(t.constraints).length > 0 ? t.constraints : [],
    // Only the five REST verbs count here (a sys-admin's grant carries every bit).
    access: access & 31,
  };
}
