/**
 * `/api/v2/{service}/_schema`: listing, describing, creating, altering and dropping tables and
 * fields with DreamFactory's field definitions. SQLite cannot alter columns in place, so changes
 * beyond plain column additions rebuild the table (create, copy, drop, rename) with foreign keys
 * paused, as SQLite's documentation prescribes.
 *
 * @module
 */
import { phpTrim } from "../../filter/dreamfactory.ts";
import { DfError, json, phpEmpty, toBool, unwrapResources, wrap } from "../http.ts";
import type { RequestContext } from "../types.ts";
import { checkVerb, unhandledVerb } from "../verbs.ts";
import {
  type FieldInfo,
  fieldToJson,
  META_TABLE,
  relationToJson,
  type TableInfo,
  tableSummary,
  tableToJson,
} from "./catalog.ts";
import { cleanResources, type DbEnv, maskVerbs, readable } from "./records.ts";
import { clearStatements, q, scalar, sqlError } from "./sql.ts";
import { declaredType, META_TYPES, normaliseType } from "./types.ts";

/** A field definition ready for DDL. */
interface FieldSpec {
  name: string;
  type: string;
  dbType: string;
  allowNull: boolean;
  /** undefined: no default. */
  default: unknown;
  isPrimaryKey: boolean;
  autoIncrement: boolean;
  isUnique: boolean;
  isIndex: boolean;
  refTable: string | null;
  refField: string | null;
  refOnDelete: string | null;
  refOnUpdate: string | null;
  meta: Record<string, unknown>;
}

type Def = Record<string, unknown>;

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
const REF_ACTIONS = new Set(["CASCADE", "SET NULL", "SET DEFAULT", "RESTRICT", "NO ACTION"]);
const META_KEYS = ["label", "description", "alias", "picklist", "validation", "db_function"];

function checkName(name: unknown, what: string): string {
  const s = typeof name === "string" ? name.trim() : "";
  if (!s) throw new DfError(400, `${what} name can not be empty.`);
  if (!NAME_RE.test(s) || s.length > 64) {
    throw new DfError(
      400,
      `Invalid ${what.toLowerCase()} name '${s}': use letters, digits and underscores (at most 64, not starting with a digit).`,
    );
  }
  if (s.toLowerCase().startsWith("sqlite_") || s.toLowerCase() === META_TABLE) {
    throw new DfError(400, `The ${what.toLowerCase()} name '${s}' is reserved.`);
  }
  return s;
}

/** buildTableField's plain \Exception for a reference without a table (a short 500). */
function noRefTable(name: string): DfError {
  return new DfError(
    500,
    `Invalid schema detected - no table element for reference type of ${name}.`,
    { short: true },
  );
}

/**
 * The checks DbSchemaResource makes on each client field before any DDL (createTableFields /
 * buildTableFields): cleanClientField's name check, then buildTableField's table check for a
 * reference (type `reference`/`fk` or is_foreign_key). Both throw plain \Exceptions, answered
 * as short 500s; Schema::getColumnType's type check comes later, when the DDL is built.
 */
function checkClientField(def: Def, exists: boolean): void {
  if (phpEmpty(def.name)) {
    throw new DfError(500, "Invalid schema detected - no name element.", { short: true });
  }
  if (exists) return; // merged with the column it changes
  const type = typeof def.type === "string" ? def.type.trim().toLowerCase() : "";
  if ((type === "reference" || type === "fk" || toBool(def.is_foreign_key)) && !def.ref_table) {
    throw noRefTable(String(def.name));
  }
}

function boolOf(v: unknown, fallback: boolean): boolean {
  return v === undefined || v === null ? fallback : toBool(v);
}

function numOf(v: unknown): number | null {
  if (v === undefined || v === null || v === "") return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

function refAction(v: unknown, field: string): string | null {
  if (v === undefined || v === null || v === "") return null;
  const a = String(v).trim().toUpperCase().replace(/\s+/g, " ");
  if (!REF_ACTIONS.has(a)) {
    throw new DfError(
      400,
      `Invalid referential action '${String(v)}' for field '${field}'. Use one of: ${
        [...REF_ACTIONS].join(", ")
      }.`,
    );
  }
  return a;
}

/** Builds a spec from a request definition, over an existing spec when altering. */
function specFromDef(
  env: DbEnv,
  def: Def,
  base: FieldSpec | null,
  batchTables: string[],
): FieldSpec {
  checkClientField(def, base !== null);
  const name = checkName(def.name, "Field");
  const has = (k: string) => k in def;
  let type = base?.type ?? "";
  if (has("type") && def.type !== null && def.type !== "") type = normaliseType(def.type, name);
  else if (!base && !(typeof def.db_type === "string" && def.db_type.trim())) {
    // Schema::getColumnType throws a plain \Exception: a 500 in the short {code,message} shape.
    throw new DfError(500, "Invalid schema detected - no type or db_type element.", {
      short: true,
    });
  }
  const length = has("length") ? numOf(def.length) : null;
  const precision = has("precision") ? numOf(def.precision) : null;
  const scale = has("scale") ? numOf(def.scale) : null;
  let dbType: string;
  if (has("db_type") && typeof def.db_type === "string" && def.db_type.trim()) {
    const d = def.db_type.trim().toLowerCase();
    if (!/^[a-z][a-z ]*(\(\s*\d+\s*(,\s*\d+\s*)?\))?$/.test(d)) {
      throw new DfError(400, `Invalid db_type '${def.db_type}' for field '${name}'.`);
    }
    dbType = d;
    if (!type) type = "string";
  } else if (base && !has("type") && !has("length") && !has("precision") && !has("scale")) {
    dbType = base.dbType;
  } else {
    dbType = declaredType(type, {
      length,
      precision,
      scale,
      fixed: boolOf(def.fixed_length, false),
      multibyte: boolOf(def.supports_multibyte, false),
    });
  }
  const isId = type === "id";
  let refTable = base?.refTable ?? null;
  let refField = base?.refField ?? null;
  if (has("ref_table")) {
    refTable = def.ref_table ? String(def.ref_table) : null;
    if (refTable) {
      // Not checked (SqliteSchema writes the reference inline and SQLite accepts a missing
      // table); an existing one is named as the database spells it.
      refTable = env.catalog.resolve(refTable) ??
        batchTables.find((t) => t.toLowerCase() === refTable!.toLowerCase()) ?? refTable;
      if (refTable.includes("\0")) {
        throw new DfError(400, `Field '${name}' references a table name with a NUL byte.`);
      }
    }
  }
  // No guess: without ref_field SqliteSchema::buildColumnDefinition writes
  // "REFERENCES table()", which SQLite refuses (see columnDdl).
  if (has("ref_field")) refField = def.ref_field ? String(def.ref_field) : null;
  if (type === "reference" && !refTable) throw noRefTable(name);
  if (refField) checkName(refField, "Field");
  const meta: Record<string, unknown> = { ...(base?.meta ?? {}) };
  for (const k of META_KEYS) if (has(k)) meta[k] = def[k];
  if (META_TYPES.has(type)) meta.type = type;
  else delete meta.type;
  const spec: FieldSpec = {
    name,
    type,
    dbType,
    // buildColumnDefinition: NOT NULL unless allow_null says otherwise, for every type (the
    // user_id types included: translateSimpleColumnTypes only makes them integer).
    allowNull: isId ? false : boolOf(def.allow_null, base?.allowNull ?? false),
    default: has("default") ? (def.default === null ? undefined : def.default) : base?.default,
    isPrimaryKey: isId || boolOf(def.is_primary_key, base?.isPrimaryKey ?? false),
    autoIncrement: isId || boolOf(def.auto_increment, base?.autoIncrement ?? false),
    isUnique: boolOf(def.is_unique, base?.isUnique ?? false),
    isIndex: boolOf(def.is_index, base?.isIndex ?? false),
    refTable,
    refField,
    refOnDelete: has("ref_on_delete")
      ? refAction(def.ref_on_delete, name)
      : base?.refOnDelete ?? null,
    refOnUpdate: has("ref_on_update")
      ? refAction(def.ref_on_update, name)
      : base?.refOnUpdate ?? null,
    meta,
  };
  if (spec.default !== undefined) defaultLiteral(spec.default, name);
  return spec;
}

/** The spec of an existing column, so that a rebuild re-creates it unchanged. */
function specFromInfo(env: DbEnv, table: string, f: FieldInfo): FieldSpec {
  const stored = env.catalog.meta(table, f.name);
  return {
    name: f.name,
    type: f.type,
    dbType: f.dbType,
    allowNull: f.allowNull,
    default: f.default === null ? undefined : f.default,
    isPrimaryKey: f.isPrimaryKey,
    autoIncrement: f.autoIncrement,
    isUnique: f.isUnique,
    isIndex: f.isIndex,
    refTable: f.refTable,
    refField: f.refField,
    refOnDelete: f.refOnDelete === "NO ACTION" ? null : f.refOnDelete,
    refOnUpdate: f.refOnUpdate === "NO ACTION" ? null : f.refOnUpdate,
    meta: stored,
  };
}

/** A default value as a SQL literal (DDL cannot take bound values; strings are escaped). */
function defaultLiteral(v: unknown, field: string): string {
  if (typeof v === "boolean") return v ? "1" : "0";
  if (typeof v === "number" && Number.isFinite(v)) return String(v);
  if (typeof v === "string") {
    if (v.includes("\0")) {
      throw new DfError(400, `Default of field '${field}' contains a NUL byte.`);
    }
    return `'${v.replace(/'/g, "''")}'`;
  }
  if (v && typeof v === "object") return defaultLiteral(JSON.stringify(v), field);
  throw new DfError(400, `Invalid default value for field '${field}'.`);
}

function columnDdl(s: FieldSpec, compositePk: boolean): string {
  let sql = `${q(s.name)} ${s.dbType}`;
  if (s.isPrimaryKey && !compositePk) {
    sql += " NOT NULL PRIMARY KEY";
    if (s.autoIncrement && s.dbType === "integer") sql += " AUTOINCREMENT";
  } else if (!s.allowNull) sql += " NOT NULL";
  if (s.default !== undefined) sql += ` DEFAULT ${defaultLiteral(s.default, s.name)}`;
  if (s.isUnique && !s.isPrimaryKey) sql += " UNIQUE";
  if (s.refTable) {
    sql += ` REFERENCES ${q(s.refTable)} (${s.refField === null ? "" : q(s.refField)})`;
    if (s.refOnDelete) sql += ` ON DELETE ${s.refOnDelete}`;
    if (s.refOnUpdate) sql += ` ON UPDATE ${s.refOnUpdate}`;
  }
  return sql;
}

function createSql(name: string, specs: FieldSpec[]): string {
  const pks = specs.filter((s) => s.isPrimaryKey);
  const composite = pks.length > 1;
  const cols = specs.map((s) => columnDdl(s, composite));
  if (composite) cols.push(`PRIMARY KEY (${pks.map((s) => q(s.name)).join(", ")})`);
  return `CREATE TABLE ${q(name)} (${cols.join(", ")})`;
}

/**
 * The separate index DbSchemaResource::buildTableField asks for after the table is built:
 * `undx_{table}_{field}` (unique) for is_unique, else `ndx_{table}_{field}` for is_index
 * (Schema::makeConstraintName, createFieldIndexes). A unique field also keeps its inline UNIQUE.
 */
function indexSql(table: string, s: FieldSpec): string | null {
  if (s.isUnique && !s.isPrimaryKey) {
    return `CREATE UNIQUE INDEX IF NOT EXISTS ${q(`undx_${table}_${s.name}`)} ON ${q(table)} (${
      q(s.name)
    })`;
  }
  if (!s.isIndex) return null;
  return `CREATE INDEX IF NOT EXISTS ${q(`ndx_${table}_${s.name}`)} ON ${q(table)} (${q(s.name)})`;
}

function createIndexes(env: DbEnv, table: string, specs: FieldSpec[]): void {
  for (const s of specs) {
    const sql = indexSql(table, s);
    if (sql) env.db.exec(sql);
  }
}

function saveFieldMeta(env: DbEnv, table: string, s: FieldSpec): void {
  env.catalog.dropMeta(table, s.name);
  const meta = Object.fromEntries(Object.entries(s.meta).filter(([, v]) => v !== undefined));
  if (Object.keys(meta).length > 0) env.catalog.setMeta(table, s.name, meta);
}

function saveTableMeta(env: DbEnv, table: string, def: Def): void {
  const meta: Record<string, unknown> = {};
  for (const k of ["label", "plural", "description", "alias"]) if (k in def) meta[k] = def[k];
  if (Object.keys(meta).length > 0) env.catalog.setMeta(table, "", meta);
  if (!Array.isArray(def.related)) return;
  // Relationships come from foreign keys; a definition may only dress them (label, alias,
  // description, always_fetch).
  env.catalog.invalidate();
  const known = env.catalog.describe(table)?.related ?? [];
  for (const r of def.related as Def[]) {
    const rel = known.find((k) => k.name.toLowerCase() === String(r?.name ?? "").toLowerCase());
    if (!rel) {
      throw new DfError(
        400,
        `Relationship '${
          String(r?.name)
        }' does not exist on table '${table}': relationships are derived from foreign keys (virtual relationships are not supported).`,
      );
    }
    const m: Record<string, unknown> = {};
    for (const k of ["label", "alias", "description"]) if (k in r) m[k] = r[k];
    if ("always_fetch" in r) m.always_fetch = toBool(r.always_fetch);
    env.catalog.setMeta(table, `@${rel.name}`, m);
  }
}

function fieldDefs(def: Def): Def[] {
  const f = def.field ?? def.fields;
  if (f === undefined || f === null) return [];
  if (!Array.isArray(f)) {
    // DbSchemaResource::createTableFields/buildTableFields' plain \Exception.
    throw new DfError(500, "There are no fields in the requested schema.", { short: true });
  }
  return f.map((x) => {
    if (!x || typeof x !== "object") {
      throw new DfError(400, `Table '${String(def.name)}': each field must be an object.`);
    }
    return x as Def;
  });
}

/** Runs DDL for one table change atomically, foreign keys paused for rebuilds. */
function ddl(env: DbEnv, rebuild: boolean, fn: () => void): void {
  const db = env.db;
  if (rebuild) {
    db.exec("PRAGMA foreign_keys = OFF");
    // Inside a transaction the pragma is a no-op, and dropping the old table would then cascade.
    const fk = db.prepare("PRAGMA foreign_keys").get() as Record<string, unknown> | undefined;
    if (db.isTransaction || Number(fk?.foreign_keys) !== 0) {
      db.exec("PRAGMA foreign_keys = ON");
      throw new DfError(500, "Schema changes can not run inside an open transaction.");
    }
  }
  db.exec("BEGIN");
  try {
    fn();
    if (rebuild) {
      const bad = db.prepare("PRAGMA foreign_key_check").all();
      if (bad.length > 0) {
        throw new DfError(400, "The change would leave rows violating a foreign key constraint.");
      }
    }
    db.exec("COMMIT");
  } catch (e) {
    db.exec("ROLLBACK");
    throw ddlError(e);
  } finally {
    if (rebuild) db.exec("PRAGMA foreign_keys = ON");
    env.catalog.invalidate();
    clearStatements(db);
  }
}

/**
 * Runs one DDL statement; SQLite's refusal becomes the QueryException DreamFactory answers
 * (`SQLSTATE[HY000]: General error: 1 ... (SQL: ...)`, a short 500). The statement shown is the
 * sandbox's own, not DreamFactory's text.
 */
function exec(env: DbEnv, sql: string): void {
  try {
    // prepare(): exec() would put the statement and an offset into SQLite's message.
    env.db.prepare(sql).run();
  } catch (e) {
    throw sqlError(e, sql, []);
  }
}

function ddlError(e: unknown): DfError {
  if (e instanceof DfError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new DfError(500, msg);
}

function createTable(env: DbEnv, def: Def, batchTables: string[]): string {
  const name = checkName(def.name, "Table");
  const defs = fieldDefs(def);
  if (defs.length === 0) {
    // Schema::createTable's plain \Exception: a 500 in the short {code,message} shape.
    throw new DfError(500, "No valid fields exist in the received table schema.", { short: true });
  }
  for (const d of defs) checkClientField(d, false);
  const specs: FieldSpec[] = [];
  for (const d of defs) {
    const s = specFromDef(env, d, null, [...batchTables, name]);
    if (specs.some((x) => x.name.toLowerCase() === s.name.toLowerCase())) {
      throw new DfError(400, `Field '${s.name}' is defined twice in table '${name}'.`);
    }
    specs.push(s);
  }
  ddl(env, false, () => {
    exec(env, createSql(name, specs));
    createIndexes(env, name, specs);
    for (const s of specs) saveFieldMeta(env, name, s);
    saveTableMeta(env, name, def);
  });
  return name;
}

/** Adds/alters fields of an existing table; with `replace`, unlisted fields are dropped. */
function alterTable(env: DbEnv, table: TableInfo, def: Def, replace: boolean): void {
  const defs = fieldDefs(def);
  for (const d of defs) {
    checkClientField(d, table.byName.has(String(d.name ?? "").toLowerCase()));
  }
  const current = table.fields.map((f) => specFromInfo(env, table.name, f));
  const next = [...current];
  const added: FieldSpec[] = [];
  let structural = false;
  for (const d of defs) {
    const name = typeof d.name === "string" ? d.name : "";
    const i = next.findIndex((s) => s.name.toLowerCase() === name.toLowerCase());
    if (i >= 0) {
      const s = specFromDef(env, d, next[i], []);
      s.name = next[i].name;
      if (ddlChanged(next[i], s)) structural = true;
      next[i] = s;
    } else {
      const s = specFromDef(env, d, null, []);
      next.push(s);
      added.push(s);
    }
  }
  let kept = next;
  if (replace) {
    const listed = new Set(defs.map((d) => String(d.name ?? "").toLowerCase()));
    kept = next.filter((s) => listed.has(s.name.toLowerCase()));
    if (kept.length !== next.length) structural = true;
    if (kept.length === 0) {
      throw new DfError(400, `Table '${table.name}' can not lose all its fields.`);
    }
  }
  const simpleAdd = (s: FieldSpec) =>
    !s.isPrimaryKey && !s.isUnique && (s.allowNull || s.default !== undefined) &&
    (!s.refTable || s.default === undefined);
  if (!structural && added.every(simpleAdd)) {
    ddl(env, false, () => {
      for (const s of added) {
        exec(env, `ALTER TABLE ${q(table.name)} ADD COLUMN ${columnDdl(s, false)}`);
        createIndexes(env, table.name, [s]);
      }
      for (const s of kept) saveFieldMeta(env, table.name, s);
      saveTableMeta(env, table.name, def);
    });
    return;
  }
  rebuildTable(env, table, kept, added, def);
}

function ddlChanged(a: FieldSpec, b: FieldSpec): boolean {
  const pick = (s: FieldSpec) =>
    JSON.stringify([
      s.dbType,
      s.allowNull,
      s.default,
      s.isPrimaryKey,
      s.autoIncrement,
      s.isUnique,
      s.isIndex,
      s.refTable,
      s.refField,
      s.refOnDelete,
      s.refOnUpdate,
    ]);
  return pick(a) !== pick(b);
}

function rebuildTable(
  env: DbEnv,
  table: TableInfo,
  specs: FieldSpec[],
  added: FieldSpec[],
  def: Def,
): void {
  const rows = Number(scalar(env.db, `SELECT COUNT(*) FROM ${q(table.name)}`));
  if (rows > 0) {
    const bad = added.find((s) => !s.allowNull && s.default === undefined && !s.autoIncrement);
    if (bad) {
      throw new DfError(
        400,
        `Field '${bad.name}' can not be added as NOT NULL without a default to table '${table.name}', which has rows; give it a 'default' or 'allow_null': true.`,
      );
    }
  }
  const tmp = `${table.name}__dfkit_rebuild`;
  const copied = specs.filter((s) => table.byName.has(s.name.toLowerCase()));
  ddl(env, true, () => {
    exec(env, createSql(tmp, specs));
    if (copied.length > 0) {
      const cols = copied.map((s) => q(s.name)).join(", ");
      // Existing NULLs of a column that became NOT NULL take its default.
      const values = copied.map((s) =>
        !s.allowNull && s.default !== undefined
          ? `COALESCE(${q(s.name)}, ${defaultLiteral(s.default, s.name)})`
          : q(s.name)
      ).join(", ");
      try {
        env.db.exec(`INSERT INTO ${q(tmp)} (${cols}) SELECT ${values} FROM ${q(table.name)}`);
      } catch (e) {
        const m = /NOT NULL constraint failed: [^.]+\.(.+)$/.exec(String((e as Error).message));
        if (m) {
          throw new DfError(
            400,
            `Field '${
              m[1]
            }' has NULL values in table '${table.name}'; give it a 'default' or keep 'allow_null': true.`,
          );
        }
        throw e;
      }
    }
    env.db.exec(`DROP TABLE ${q(table.name)}`);
    env.db.exec(`ALTER TABLE ${q(tmp)} RENAME TO ${q(table.name)}`);
    createIndexes(env, table.name, specs);
    // Table and relationship metadata stay; metadata of dropped fields goes.
    for (const f of table.fields) {
      if (!specs.some((s) => s.name === f.name)) env.catalog.dropMeta(table.name, f.name);
    }
    for (const s of specs) saveFieldMeta(env, table.name, s);
    saveTableMeta(env, table.name, def);
  });
}

function dropTable(env: DbEnv, name: string): void {
  const real = env.catalog.resolve(name);
  if (!real) throw new DfError(404, `Table "${name}" does not exist in the database.`);
  ddl(env, false, () => {
    env.db.exec(`DROP TABLE ${q(real)}`);
    env.catalog.dropMeta(real);
  });
}

function dropField(env: DbEnv, table: TableInfo, field: string): void {
  const f = table.byName.get(field.toLowerCase());
  if (!f) return; // DreamFactory answers success for a missing field.
  const specs = table.fields.filter((x) => x !== f).map((x) => specFromInfo(env, table.name, x));
  if (specs.length === 0) {
    throw new DfError(400, `Table '${table.name}' can not lose all its fields.`);
  }
  const tableDef = { ...env.catalog.meta(table.name) };
  rebuildTable(env, table, specs, [], tableDef);
}

/** Applies one table definition: create, or merge into the existing table. */
function applyTable(
  env: DbEnv,
  def: Def,
  mode: "create" | "patch" | "put",
  checkExist: boolean,
  batchTables: string[],
): string {
  const name = checkName(def.name, "Table");
  const existing = env.catalog.describe(name);
  if (!existing) return createTable(env, def, batchTables);
  if (mode === "create" && checkExist) {
    // updateSchema's plain \Exception: a short 500 (code 0 inside a multi-table batch).
    throw new DfError(500, `A table with name '${name}' already exist in the database.`, {
      short: true,
    });
  }
  alterTable(env, existing, def, mode === "put");
  return existing.name;
}

/** DbSchemaResource's verb word in "No data in schema <verb> request." */
type SchemaVerb = "create" | "update" | "delete";

/** The definitions of a request, none being a 400: ResourcesWrapper::unwrapResources takes
 * `resource`, else a list as it is, else nothing, so a bare table object (or DreamFactory 2's
 * `table` key) is no definition. */
function tableDefs(payload: unknown, verb: SchemaVerb): Def[] {
  const r = unwrapResources(payload);
  // A `resource` object is one definition (DreamFactory would walk its values).
  const defs: unknown[] = phpEmpty(r) ? [] : Array.isArray(r) ? r : isObject(r) ? [r] : [];
  if (defs.length === 0) throw new DfError(400, `No data in schema ${verb} request.`);
  return defs.map((d) => (d && typeof d === "object" && !Array.isArray(d) ? d : {}) as Def);
}

/**
 * createTables refuses the whole request when a definition has no name (updateTables also an
 * empty one), before changing anything.
 */
function checkNamed(defs: Def[], create: boolean): void {
  const unnamed = defs.some((d) => create ? d.name === undefined || d.name === null : !d.name);
  if (unnamed) throw new DfError(400, "Table schema received does not have a valid name.");
}

/** A table as DbSchemaResource::getResources() lists it. */
function tableListing(env: DbEnv, ctx: RequestContext, name: string): Record<string, unknown> {
  const t = env.catalog.describe(name)!;
  return {
    alias: t.alias,
    ...tableSummary(t),
    access: maskVerbs(ctx.access(`_schema/${t.name}`)?.verbMask ?? 0),
  };
}

function schemaOut(env: DbEnv, ctx: RequestContext, name: string, full: boolean): unknown {
  if (!full) return { name };
  const t = env.catalog.describe(name)!;
  return tableToJson(t, env.serviceId, ctx.access(`_schema/${t.name}`)?.verbMask ?? 0);
}

function mustTable(env: DbEnv, name: string): TableInfo {
  const t = env.catalog.describe(name);
  if (!t) throw new DfError(404, `Table "${name}" does not exist in the database.`);
  return t;
}

/** Answers one `_schema` request; `parts` are the path segments after `_schema`. */
export function handleSchema(env: DbEnv, ctx: RequestContext, parts: string[]): Response {
  const [tableName, sub, item] = parts;
  const fieldsOpt = ctx.option("fields", "select");
  const full = fieldsOpt !== undefined && fieldsOpt.trim() !== "";
  if (tableName === undefined) return schemaRoot(env, ctx, full);
  if (sub === undefined) return schemaTable(env, ctx, tableName, full);
  const table = mustTable(env, tableName);
  // DbSchemaResource's handle<VERB>: `_field` and `_related` collections, one field or
  // relationship below them, and the deprecated `{table}/{field}` (its `default:` branches).
  if (sub === "_related") {
    checkVerb("{db}/_schema/{table}/_related", ctx.method);
    if (item === undefined) {
      // describeRelationships tests an undefined $fields, never its $relationships: every
      // relationship, whatever `ids` names.
      return json(wrap(table.related.map((r) => relationToJson(r, env.serviceId))));
    }
    return json(describeRelationship(env, table, item));
  }
  if (sub === "_field" && item === undefined) return fieldCollection(env, ctx, table);
  if (sub === "_field" || item === undefined) return oneField(env, ctx, table, item ?? sub);
  if (ctx.method !== "GET" && ctx.method !== "DELETE") checkPayload(ctx);
  throw new DfError(400, `Invalid schema path in ${requestWord(ctx.method)} request.`);
}

/** The verb word of DbSchemaResource's messages ("No data in schema <word> request."). */
function requestWord(method: string): string {
  return method === "GET"
    ? "describe"
    : method === "POST"
    ? "create"
    : method === "DELETE"
    ? "delete"
    : "update";
}

/** handlePOST/PUT/PATCH's `if (empty($payload))` before anything below a table. */
function checkPayload(ctx: RequestContext): void {
  if (phpEmpty(ctx.payload)) {
    throw new DfError(400, `No data in schema ${requestWord(ctx.method)} request.`);
  }
}

function isObject(v: unknown): v is Def {
  return !!v && typeof v === "object" && !Array.isArray(v);
}

/**
 * DataValidator::validateAsArray with "," and check_single: a string is split on commas (ends
 * trimmed of commas, parts of whitespace), an object becomes a list of one; nothing is a 400.
 */
function asList(v: unknown, message: string): unknown[] {
  let data = v;
  if (typeof data === "string" && data !== "") {
    data = phpTrim(data, ",").split(",").map((x) => phpTrim(x));
  }
  if (!data || typeof data !== "object" || phpEmpty(data)) {
    throw new DfError(400, message);
  }
  return Array.isArray(data) ? data : [data];
}

/** A list entry's name: the entry itself, or its `name` when it is an object. */
function entryName(v: unknown): unknown {
  return isObject(v) ? v.name : v;
}

/**
 * describeField (describeTableFields): the first column, in table order, whose name is one of the
 * comma-separated names, compared case-sensitively (array_search); an empty name matches every
 * column. None is a 404.
 */
function describeField(table: TableInfo, name: unknown): Record<string, unknown> {
  const wanted = phpEmpty(name) ? null : asList(name, "No valid field names given.").map(String);
  const f = table.fields.find((c) => wanted === null || wanted.includes(c.name));
  if (!f) throw new DfError(404, `No requested fields found in table '${table.name}'.`);
  return fieldToJson(f);
}

/** describeRelationship (describeTableRelationships), as {@link describeField} for fields. */
function describeRelationship(
  env: DbEnv,
  table: TableInfo,
  name: string,
): Record<string, unknown> {
  const wanted = phpEmpty(name)
    ? null
    : asList(name, "No valid relationship names given.").map(String);
  const r = table.related.find((x) => wanted === null || wanted.includes(x.name));
  if (!r) throw new DfError(404, `No requested relationships found in table '${table.name}'.`);
  return relationToJson(r, env.serviceId);
}

/**
 * createField / updateField: one field merged into the table by its own updateSchema, answering
 * `array_get(array_get($result, 0, []), 'field', [])`, which is `[]` since updateSchema answers
 * `[{name: table}]`; with `fields` (return_schema) describeField's answer instead. POST with
 * check_exist asks updateSchema not to merge, so the table itself "already exists".
 */
function writeField(
  env: DbEnv,
  ctx: RequestContext,
  table: TableInfo,
  name: unknown,
  props: unknown,
) {
  if (ctx.method === "POST" && ctx.flag("check_exist")) {
    throw new DfError(500, `A table with name '${table.name}' already exist in the database.`, {
      short: true,
    });
  }
  const def: Def = { ...(isObject(props) ? props : {}), name };
  alterTable(env, mustTable(env, table.name), { field: [def] }, false);
  const fields = ctx.option("fields", "select");
  // return_schema is PHP-truthy: neither "" nor "0".
  if (fields === undefined || fields === "" || fields === "0") return [];
  return describeField(mustTable(env, table.name), name);
}

/** `_schema/{table}/_field`: describeFields, createFields/updateFields, deleteFields. */
function fieldCollection(env: DbEnv, ctx: RequestContext, table: TableInfo): Response {
  const payload = ctx.payload;
  const ids = () => {
    const own = isObject(payload) && payload.ids !== undefined ? payload.ids : ctx.option("ids");
    return phpEmpty(own) ? unwrapResources(payload) : own;
  };
  switch (ctx.method) {
    case "GET": {
      const wanted = ids();
      if (phpEmpty(wanted)) return json(wrap(table.fields.map(fieldToJson)));
      const names = asList(
        wanted,
        "The request contains no valid table field names or properties.",
      );
      return json(wrap(names.map((n) => describeField(table, entryName(n)))));
    }
    case "POST":
    case "PUT":
    case "PATCH": {
      checkPayload(ctx);
      const list = unwrapResources(payload);
      if (phpEmpty(list)) {
        throw new DfError(400, `No data in schema ${requestWord(ctx.method)} request.`);
      }
      const items = asList(list, "The request contains no valid table field names or properties.");
      // Each field is its own updateSchema: the ones before a failing field stay changed.
      return json(items.map((f) => writeField(env, ctx, table, entryName(f), f)));
    }
    case "DELETE": {
      const wanted = ids();
      if (phpEmpty(wanted)) {
        throw new DfError(400, "No data in schema delete request.");
      }
      const names = asList(
        wanted,
        "The request contains no valid table field names or properties.",
      );
      // deleteField drops what getColumn finds and passes over the rest.
      for (const n of names.map(entryName)) {
        if (typeof n === "string" && n !== "") dropField(env, mustTable(env, table.name), n);
      }
      return json({ success: true });
    }
  }
  throw unhandledVerb(ctx.method);
}

/** `_schema/{table}/_field/{field}` and the deprecated `_schema/{table}/{field}`. */
function oneField(env: DbEnv, ctx: RequestContext, table: TableInfo, field: string): Response {
  switch (ctx.method) {
    case "GET":
      return json(describeField(table, field));
    case "POST":
    case "PUT":
    case "PATCH":
      checkPayload(ctx);
      return json(writeField(env, ctx, table, field, ctx.payload));
    case "DELETE":
      dropField(env, table, field);
      return json({ success: true });
  }
  throw unhandledVerb(ctx.method);
}

function schemaRoot(env: DbEnv, ctx: RequestContext, full: boolean): Response {
  const batchNames = (defs: Def[]) => defs.map((d) => String(d.name ?? ""));
  switch (ctx.method) {
    case "GET": {
      const idsRaw = ctx.option("ids");
      // describeTable's message quotes the name singly, unlike the `_schema/{table}` path's.
      const described = (n: string) => {
        const t = env.catalog.describe(n);
        if (!t) throw new DfError(404, `Table '${n}' does not exist in the database.`);
        return t.name;
      };
      const names = idsRaw
        ? idsRaw.split(",").map((s) => s.trim()).filter(Boolean).map(described)
        : env.catalog.tableNames();
      const visible = names.filter((n) => readable(ctx, `_schema/${n}`));
      if (toBool(ctx.option("as_list"))) return json(wrap(visible));
      if (idsRaw) return json(wrap(visible.map((n) => schemaOut(env, ctx, n, true))));
      // Without ids RestHandler::handleGET lists DbSchemaResource::getResources(): each table's
      // undiscovered TableSchema::toArray() (no fields, relations or constraints) plus `access`
      // as verbs, through cleanResources.
      const listing = full
        ? visible.map((n) => tableListing(env, ctx, n))
        : visible.map((name) => ({ name }));
      return json(wrap(cleanResources(listing, ctx.option("fields", "select"))));
    }
    case "POST":
    case "PATCH":
    case "PUT": {
      const defs = tableDefs(ctx.payload, ctx.method === "POST" ? "create" : "update");
      checkNamed(defs, ctx.method === "POST");
      const mode = ctx.method === "POST" ? "create" : ctx.method === "PUT" ? "put" : "patch";
      const checkExist = ctx.flag("check_exist");
      const names = batchNames(defs);
      if (defs.length === 1) {
        const name = applyTable(env, defs[0], mode, checkExist, names);
        return json(wrap([schemaOut(env, ctx, name, full)]));
      }
      const out = defs.map((d) => {
        try {
          return schemaOut(env, ctx, applyTable(env, d, mode, checkExist, names), full);
        } catch (e) {
          // updateSchema's per-table entry carries $ex->getCode(): the status of a DF exception,
          // the SQLSTATE of a PDO one, 0 for a plain \Exception (answered alone as code 500).
          const err = e instanceof DfError ? e : ddlError(e);
          const code = err.short && err.code === 500 ? 0 : err.code;
          return { error: { message: err.message, code } };
        }
      });
      return json(wrap(out));
    }
    case "DELETE": {
      const idsRaw = ctx.option("ids");
      let names: string[];
      if (idsRaw) names = idsRaw.split(",").map((s) => s.trim()).filter(Boolean);
      else {
        names = tableDefs(ctx.payload, "delete").map((d) => String(d.name ?? ""));
      }
      if (names.length === 0) throw new DfError(400, "No data in schema delete request.");
      const out = names.map((n) => {
        if (!n) throw new DfError(400, "Table name can not be empty.");
        // DbSchemaResource::deleteTable's own wording, unlike the per-table paths'.
        const real = env.catalog.describe(n)?.name;
        if (!real) throw new DfError(404, `Table '${n}' not found.`);
        dropTable(env, real);
        return { name: real };
      });
      return json(wrap(out));
    }
  }
  throw unhandledVerb(ctx.method);
}

function schemaTable(env: DbEnv, ctx: RequestContext, name: string, full: boolean): Response {
  switch (ctx.method) {
    case "GET": {
      const t = mustTable(env, name);
      return json(tableToJson(t, env.serviceId, ctx.access(`_schema/${t.name}`)?.verbMask ?? 0));
    }
    case "POST":
    case "PATCH":
    case "PUT": {
      // DbSchemaResource's handlePOST/PUT/PATCH check doesTableExist first: a path naming a new
      // table is a 404, tables are created only through `_schema` itself.
      const t = mustTable(env, name);
      const payload =
        (ctx.payload && typeof ctx.payload === "object" && !Array.isArray(ctx.payload))
          ? ctx.payload as Def
          : {};
      const def: Def = { ...payload, name: t.name };
      const mode = ctx.method === "POST" ? "create" : ctx.method === "PUT" ? "put" : "patch";
      const real = applyTable(env, def, mode, ctx.flag("check_exist"), [name]);
      return json(schemaOut(env, ctx, real, full));
    }
    case "DELETE":
      dropTable(env, name);
      return json({ success: true });
  }
  throw unhandledVerb(ctx.method);
}
