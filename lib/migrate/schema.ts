/**
 * Copying database schemas between services through `_schema`: missing tables are created in
 * foreign-key dependency order (one request), missing fields are added to existing tables (one
 * request), and nothing is dropped unless `prune` is set.
 *
 * @module
 */
import { CAST_INTEGER_TYPES, storedEqual } from "../stored.ts";
import { type MigrateClient, records } from "./client.ts";

/** Field attributes that carry over between database services (driver-specific ones left out). */
const FIELD_KEYS = [
  "name",
  "label",
  "description",
  "alias",
  "type",
  "length",
  "precision",
  "scale",
  "default",
  "allow_null",
  "fixed_length",
  "supports_multibyte",
  "auto_increment",
  "is_primary_key",
  "is_unique",
  "is_index",
  "is_foreign_key",
  "ref_table",
  "ref_field",
  "ref_on_update",
  "ref_on_delete",
  "picklist",
  "validation",
  "db_function",
];

/** Attributes compared to report fields that exist on both sides but differ. */
const COMPARED = [
  "type",
  "length",
  "precision",
  "scale",
  "allow_null",
  "is_primary_key",
  "ref_table",
  "ref_field",
  "ref_on_update",
  "ref_on_delete",
  "is_unique",
  "is_index",
];

/** A foreign-key rule as compared and sent: upper-cased, SQL's default "NO ACTION" as absent. */
function keyRule(v: unknown): string | null {
  const s = typeof v === "string" ? v.trim().replace(/\s+/g, " ").toUpperCase() : "";
  return s && s !== "NO ACTION" ? s : null;
}

/** A boolean attribute as compared (absent is false). */
function flag(v: unknown): boolean {
  return v === true || v === 1 || v === "1" || String(v).toLowerCase() === "true";
}

/** Whether two field descriptors differ in what copySchema compares, as DreamFactory 7 stores
 * values ("" and null alike: an older server's `ref_table: ""` is the target's null; an integer
 * type's length, a display width, not at all). */
export function fieldsDiffer(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const integer = CAST_INTEGER_TYPES.has(String(a.type ?? "").trim().toLowerCase());
  return COMPARED.some((k) =>
    k === "length" && integer
      ? false
      : k === "ref_on_update" || k === "ref_on_delete"
      ? keyRule(a[k]) !== keyRule(b[k])
      : k === "is_unique" || k === "is_index"
      ? flag(a[k]) !== flag(b[k])
      : !storedEqual(a[k] ?? null, b[k] ?? null)
  );
}

/** A field definition as `_schema` gives it. */
export type SchemaField = Record<string, unknown>;
type Table = {
  name: string;
  label?: string;
  plural?: string;
  description?: string;
  field?: SchemaField[];
  related?: SchemaField[];
  constraints?: Record<string, SchemaField> | SchemaField[];
};

/** The single column a constraint covers (`column_name` is a string or a list), else null. */
function constraintColumn(c: SchemaField): string | null {
  const cols = Array.isArray(c.column_name) ? c.column_name : [c.column_name];
  return cols.length === 1 && typeof cols[0] === "string" ? cols[0].toLowerCase() : null;
}

/**
 * The table's fields with what DreamFactory 7 keeps elsewhere put back on them: the ON UPDATE /
 * ON DELETE rules of a foreign key (the field says `ref_on_update: null`; the rules are on the
 * `fk_*` entry of `constraints`, update_rule/delete_rule, and on the belongs_to relationship),
 * and the field's own indexes (DreamFactory 7 answers `is_index: false` always, and `is_unique`
 * only for an inline UNIQUE): a single-column `u`/unique constraint or `undx_*` index makes it
 * unique, any other single-column index (`ndx_*`, constraint_type `c` on SQLite) indexed.
 */
function withKeyFacts(t: Table): Table {
  const rules = new Map<string, { update: string | null; delete: string | null }>();
  const unique = new Set<string>();
  const indexed = new Set<string>();
  for (const r of t.related ?? []) {
    if (r.type !== "belongs_to" || typeof r.field !== "string") continue;
    rules.set(r.field.toLowerCase(), {
      update: keyRule(r.ref_on_update),
      delete: keyRule(r.ref_on_delete),
    });
  }
  for (const c of Object.values(t.constraints ?? {})) {
    const type = String(c.constraint_type ?? "").toLowerCase();
    const col = constraintColumn(c);
    if (!col) continue;
    if (type === "f" || type === "foreign key") {
      rules.set(col, { update: keyRule(c.update_rule), delete: keyRule(c.delete_rule) });
    } else if (type === "u" || type === "unique") unique.add(col);
    else if (!["p", "pk", "primary", "primary key"].includes(type)) {
      const name = String(c.constraint_name ?? "").toLowerCase();
      (name.startsWith("undx_") ? unique : indexed).add(col);
    }
  }
  const field = (t.field ?? []).map((f) => {
    const key = String(f.name).toLowerCase();
    const r = rules.get(key);
    const isUnique = flag(f.is_unique) || (unique.has(key) && !flag(f.is_primary_key));
    return {
      ...f,
      is_unique: isUnique,
      is_index: !isUnique && (flag(f.is_index) || indexed.has(key)),
      ref_on_update: keyRule(f.ref_on_update) ?? r?.update ?? null,
      ref_on_delete: keyRule(f.ref_on_delete) ?? r?.delete ?? null,
    };
  });
  return { ...t, field };
}

function cleanField(f: SchemaField): SchemaField {
  const out: SchemaField = {};
  for (const k of FIELD_KEYS) if (f[k] !== undefined && f[k] !== null) out[k] = f[k];
  return out;
}

function cleanTable(t: Table, fields = t.field ?? []): Table {
  const out: Table = {
    name: t.name,
    field: fields.filter((f) => !f.is_virtual && !f.is_aggregate).map(cleanField),
  };
  if (t.label) out.label = t.label;
  if (t.plural) out.plural = t.plural;
  if (t.description) out.description = t.description;
  return out;
}

/** Tables in foreign-key order (referenced tables first); cycles are broken and reported. */
export function fkOrder(tables: Table[]): { order: Table[]; cyclic: Set<string> } {
  const byName = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  const order: Table[] = [];
  const state = new Map<string, "visiting" | "done">();
  const cyclic = new Set<string>();
  const visit = (t: Table) => {
    const key = t.name.toLowerCase();
    if (state.get(key) === "done") return;
    if (state.get(key) === "visiting") {
      cyclic.add(t.name);
      return;
    }
    state.set(key, "visiting");
    for (const f of t.field ?? []) {
      const ref = typeof f.ref_table === "string" ? f.ref_table.toLowerCase() : "";
      const dep = byName.get(ref);
      if (dep && ref !== key) visit(dep);
    }
    state.set(key, "done");
    order.push(t);
  };
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) visit(t);
  return { order, cyclic };
}

/** Options of {@linkcode copySchema}. */
export interface CopySchemaOptions {
  /** Drop target fields (and, when no table list is given, tables) the source does not have. */
  prune?: boolean;
  /** Report what would change without writing. */
  dryRun?: boolean;
}

/** What {@linkcode copySchema} did (or, with `dryRun`, would do). */
export interface CopySchemaReport {
  /** Tables created, in creation (foreign-key) order. */
  createdTables: string[];
  /** Fields added to existing tables, by table. */
  addedFields: Record<string, string[]>;
  /** Tables dropped (`prune`). */
  droppedTables: string[];
  /** Fields dropped (`prune`), by table. */
  droppedFields: Record<string, string[]>;
  /** Fields present on both sides with different definitions (left as they are). */
  /** Fields present on both sides with different definitions (left as they are). */
  differing: Record<string, { field: string; source: SchemaField; target: SchemaField }[]>;
  /** HTTP requests made. */
  requests: number;
}

async function describeAll(df: MigrateClient, db: string, names: string[], count: () => void) {
  if (!names.length) return [] as Table[];
  count();
  const res = await df.request("GET", `${db}/_schema`, { query: { ids: names.join(",") } });
  return (records(res) as unknown as Table[]).map(withKeyFacts);
}

async function listTables(df: MigrateClient, db: string, count: () => void): Promise<string[]> {
  count();
  return records(await df.request("GET", `${db}/_schema`)).map((r) => String(r.name));
}

/**
 * Copies table definitions from one database service to another: creates missing tables (in
 * foreign-key order; fields of tables in a reference cycle are added in a second step) and missing
 * fields; never drops anything unless `prune` is set.
 *
 * @example
 * ```ts
 * import { connect, copySchema } from "@dfkit/dfkit";
 *
 * const staging = await connect({ profile: "staging" });
 * const prod = await connect({ profile: "prod" });
 * const r = await copySchema(staging, "db", prod, "db", ["customer", "order"]);
 * console.log(r.createdTables, r.addedFields);
 * ```
 */
export async function copySchema(
  sourceDf: MigrateClient,
  sourceDb: string,
  targetDf: MigrateClient,
  targetDb: string,
  tables?: string[],
  options: CopySchemaOptions = {},
): Promise<CopySchemaReport> {
  const report: CopySchemaReport = {
    createdTables: [],
    addedFields: {},
    droppedTables: [],
    droppedFields: {},
    differing: {},
    requests: 0,
  };
  const count = () => report.requests++;
  const sourceNames = await listTables(sourceDf, sourceDb, count);
  const lower = new Map(sourceNames.map((n) => [n.toLowerCase(), n]));
  let wanted = sourceNames;
  if (tables) {
    const missing = tables.filter((t) => !lower.has(t.toLowerCase()));
    if (missing.length) {
      throw new Error(
        `copySchema: table(s) ${missing.join(", ")} not found in source service '${sourceDb}' ` +
          `(it has: ${sourceNames.join(", ") || "no tables"})`,
      );
    }
    wanted = tables.map((t) => lower.get(t.toLowerCase())!);
  }
  const source = await describeAll(sourceDf, sourceDb, wanted, count);
  const targetNames = await listTables(targetDf, targetDb, count);
  const targetLower = new Map(targetNames.map((n) => [n.toLowerCase(), n]));
  const existing = await describeAll(
    targetDf,
    targetDb,
    wanted.filter((n) => targetLower.has(n.toLowerCase())).map((n) =>
      targetLower.get(n.toLowerCase())!
    ),
    count,
  );
  const targetByName = new Map(existing.map((t) => [t.name.toLowerCase(), t]));

  const { order, cyclic } = fkOrder(source);
  const toCreate = order.filter((t) => !targetByName.has(t.name.toLowerCase()));
  const creating = new Set(toCreate.map((t) => t.name.toLowerCase()));
  // Fields referencing a table created later in a cycle are added after every table exists.
  const deferred: Table[] = [];
  const createBodies = toCreate.map((t) => {
    if (!cyclic.size) return cleanTable(t);
    const later = (t.field ?? []).filter((f) =>
      typeof f.ref_table === "string" && cyclic.has(String(f.ref_table)) &&
      creating.has(String(f.ref_table).toLowerCase()) && f.ref_table !== t.name
    );
    if (later.length) deferred.push(cleanTable(t, later));
    return cleanTable(t, (t.field ?? []).filter((f) => !later.includes(f)));
  });
  report.createdTables = toCreate.map((t) => t.name);

  const patches: Table[] = [...deferred];
  for (const t of order) {
    const have = targetByName.get(t.name.toLowerCase());
    if (!have) continue;
    const haveFields = new Map((have.field ?? []).map((f) => [String(f.name).toLowerCase(), f]));
    const add: SchemaField[] = [];
    for (const f of t.field ?? []) {
      if (f.is_virtual || f.is_aggregate) continue;
      const other = haveFields.get(String(f.name).toLowerCase());
      if (!other) add.push(f);
      else if (fieldsDiffer(f, other)) {
        (report.differing[t.name] ??= []).push({
          field: String(f.name),
          source: cleanField(f),
          target: cleanField(other),
        });
      }
    }
    if (add.length) {
      report.addedFields[t.name] = add.map((f) => String(f.name));
      patches.push(cleanTable({ name: have.name }, add));
    }
    if (options.prune) {
      const names = new Set((t.field ?? []).map((f) => String(f.name).toLowerCase()));
      const drop = (have.field ?? []).filter((f) =>
        !f.is_virtual && !names.has(String(f.name).toLowerCase())
      );
      if (drop.length) report.droppedFields[have.name] = drop.map((f) => String(f.name));
    }
  }
  if (options.prune && !tables) {
    const keep = new Set(sourceNames.map((n) => n.toLowerCase()));
    report.droppedTables = targetNames.filter((n) => !keep.has(n.toLowerCase()));
  }
  if (options.dryRun) return report;

  if (createBodies.length) {
    count();
    await targetDf.request("POST", `${targetDb}/_schema`, { body: { resource: createBodies } });
  }
  if (patches.length) {
    count();
    await targetDf.request("PATCH", `${targetDb}/_schema`, { body: { resource: patches } });
  }
  for (const [table, fields] of Object.entries(report.droppedFields)) {
    for (const f of fields) {
      count();
      await targetDf.request(
        "DELETE",
        `${targetDb}/_schema/${encodeURIComponent(table)}/_field/${encodeURIComponent(f)}`,
      );
    }
  }
  if (report.droppedTables.length) {
    // Referencing tables first: reverse of the dependency order of what the target has.
    const targetTables = await describeAll(targetDf, targetDb, report.droppedTables, count);
    for (const t of fkOrder(targetTables).order.reverse()) {
      count();
      await targetDf.request("DELETE", `${targetDb}/_schema/${encodeURIComponent(t.name)}`);
    }
  }
  return report;
}
