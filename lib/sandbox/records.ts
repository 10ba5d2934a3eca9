/**
 * The generic engine behind every system resource: list/get/create/update/delete of rows of a
 * system table, with DreamFactory's options (`ids`, `filter`, `fields`, `related`, `order`,
 * `group`, `limit`, `offset`, `include_count`, `count_only`, `include_schema`, `continue`,
 * `rollback`), batch errors, and reading and writing relationships. Resources differ only by
 * their {@link ResourceDescriptor}.
 *
 * @module
 */
import type { DatabaseSync, SQLInputValue } from "node:sqlite";
import { compileDreamFactoryFilter, replaceLookups } from "../filter/mod.ts";
import {
  batchError,
  type BatchVerb,
  DfError,
  invalidData,
  json,
  NO_RECORDS_MESSAGE,
  phpEmpty,
  recordsOf,
  rethrowFilterError,
  sqlDateTime,
  unwrapResources,
  wrap,
} from "./http.ts";
import { type RelationDef, table as tableDef, type TableDef } from "./tables.ts";
import { stmt } from "./statements.ts";
import { sqlError } from "./db/sql.ts";
import { type Clause, groupByTerm, orderByTerm } from "./db/clauses.ts";
import type { SqlValue } from "./db/types.ts";
import {
  columnOf,
  dfType,
  formatRow,
  hasColumn,
  readValue,
  type Rec,
  type Row,
  writeValue,
} from "./columns.ts";
import {
  clauseTable,
  type FieldSelection,
  selectedRecord,
  type SelectErrors,
  selectFields,
} from "./fields.ts";
import { writeRelation } from "./relations.ts";
import { tableSchema } from "./table_schema.ts";
import { type Presenter, relatedModels } from "./system/related.ts";
import { unhandledVerb } from "./verbs.ts";
import { phpTrim } from "../filter/dreamfactory.ts";
import { strval } from "../php.ts";

export type { Rec, Row } from "./columns.ts";

/** What a resource hook may know about the call. */
export interface CallContext {
  db: DatabaseSync;
  /** The logged-in user's id (for `created_by_id`), or null. */
  userId: number | null;
  /** Reads a query option (then a top-level body field). */
  option(name: string, ...aliases: string[]): string | undefined;
  /** Reads a boolean option. */
  flag(name: string, ...aliases: string[]): boolean;
  /** Record cap of one request. */
  maxRecords: number;
  /** Shortest password accepted on user and admin records. */
  passwordMinLength: number;
  /** Lookup values for filters. */
  lookups: Record<string, string>;
  /** Base URL of the sandbox (for computed URLs). */
  origin: string;
  /** Side effects in the rest of the sandbox. */
  hooks: SandboxHooks;
}

/** What system resources may ask of the running sandbox. */
export interface SandboxHooks {
  /** Revokes every session token of these users. */
  revokeUsers(userIds: number[]): void;
  /** A service row was created, changed or deleted: (re)build or close its handler. */
  serviceChanged(id: number): void;
}

/** How one system resource maps onto a table, and what is special about it. */
export interface ResourceDescriptor {
  /** Path segment under `system/` (or the user service). */
  name: string;
  table: TableDef;
  /**
   * Rows a listing sees (`GET /r`, with or without `ids`): the resource's selection criteria
   * (df-user's User and df-system's Admin getSelectionCriteria: `is_sys_admin`), which also
   * restrict the counts and, through NonAdminUser/AdminUser::selectById, `GET /r/{id}`; or, with
   * `listsOnly`, a model's selectByRequest reducer alone (Lookup: global lookups), counted and
   * read by id without it. Writes never apply it: BaseModel and User's updateInternal and
   * deleteInternal find the row by key alone (`static::find($id)`), then guard it themselves.
   */
  scope?: { where: string; values: SQLInputValue[]; listsOnly?: boolean };
  /** Columns the client may not write (besides the key and audit stamps). */
  readOnly?: string[];
  /** Columns of the table this resource never shows (beyond the table's own hidden ones). */
  hidden?: string[];
  /**
   * Relations the resource computes itself rather than joining a table (df-limits'
   * `limit_cache_by_limit_id`): name to the value attached to each output record.
   */
  computedRelations?: Record<string, (row: Row, ctx: CallContext) => unknown>;
  /**
   * How rows of related tables read back, by table: the `toArray()` of the model the parent's
   * `getModelFromTable()` names (see system/related.ts).
   */
  relatedModels?: Record<string, Presenter>;
  /**
   * The model's cleanFields: what it makes of the `fields` list before the query (Service adds
   * `id` and `type` for `config`, BaseSystemLookup `private`).
   */
  cleanFields?: (fields: string[]) => string[];
  /**
   * Adjusts every output record (appended attributes, masks) from `row`, the attributes the
   * query loaded (only the selected columns for a partial `fields`).
   */
  present?: (row: Row, out: Rec, ctx: CallContext, sel: FieldSelection) => void;
  /** Fields a new record must carry (400 "Invalid data supplied. The x field is required."). */
  required?: string[];
  /**
   * True when `required` is the model's own `required` rule, which df-core checks on every save:
   * an update may not blank those fields either.
   */
  requiredOnUpdate?: boolean;
  /** The model's message for a missing required field (default Laravel's). */
  requiredMessage?: (field: string) => string;
  /**
   * Rewrites each record of a bulk PATCH (records, not `ids`) before any is written
   * (AdminUser::fixRecords); may refuse the whole request.
   */
  fixUpdateRecord?: (record: unknown) => unknown;
  /** Checks a whole write request before any record is written (not a batch error). */
  validateAll?: (records: Rec[], ctx: CallContext) => void;
  /** Answers requests the generic engine does not (return null to fall through). */
  intercept?: (
    engine: RecordEngine,
    ctx: CallContext,
    method: string,
    id: string | undefined,
    payload: unknown,
  ) => Response | null;
  /**
   * How the model's create shapes the insert, given its columns in Eloquent's order (the
   * record's fields as given, then `created_by_id`, `last_modified_date`, `created_date`): the
   * columns of the insert statement, and those a second save writes right after it (User's
   * password, App's generated key).
   */
  splitInsert?: (
    cols: Record<string, SQLInputValue>,
    ctx: CallContext,
  ) => { insert: Record<string, SQLInputValue>; after?: Record<string, SQLInputValue> };
  /** Validates and converts an incoming record before insert (throw DfError for a bad one). */
  beforeCreate?: (rec: Rec, ctx: CallContext) => Rec;
  /** Validates and converts incoming changes before update. */
  beforeUpdate?: (rec: Rec, old: Row, ctx: CallContext) => Rec;
  /** Refuses a delete (throw DfError) or cleans up before it. */
  beforeDelete?: (old: Row, ctx: CallContext) => void;
  /** Side effects after a committed-to-be write (token revocation, service handlers...). */
  afterWrite?: (
    op: "create" | "update" | "delete",
    row: Row,
    old: Row | null,
    ctx: CallContext,
  ) => void;
  /** Translates a SQL error on insert/update into DreamFactory's message for this resource. */
  sqlError?: (e: Error, op: "create" | "update", sql: string) => DfError | null;
  /**
   * Which errors of an update or delete become 500 "Failed to update/delete resource: ..."
   * (df-core BaseModel::updateInternal/deleteInternal): `all` (the default), `server` (User's
   * overrides let its 400s and 403s through), `none` (left as raised).
   */
  wrapModelErrors?: "all" | "server" | "none";
  /**
   * True when create errors are wrapped too, as 500 "Failed to create resource: ..." with the
   * `wrapModelErrors` exceptions (User::createInternal); BaseModel::createInternal wraps none.
   */
  wrapCreateErrors?: boolean;
}

/** SystemTableModelMapper's models (`lookup` is BaseSystemLookup) for parents without their own. */
const BASE_RELATED_MODELS = relatedModels(null);

/** Errors of the resource rather than its model: never wrapped as a model error. */
const guards = new WeakSet<DfError>();

/** Marks an error as a resource-level guard (kept as is by update and delete). */
export function resourceGuard(e: DfError): DfError {
  guards.add(e);
  return e;
}

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** SQLite's error for a statement, as DreamFactory answers it on a system resource. */
function sqliteError(message: string): DfError {
  return new DfError(500, `SQLSTATE[HY000]: General error: 1 ${message}`, {
    code: "HY000",
    short: true,
  });
}

/** The engine for one resource. */
export class RecordEngine {
  constructor(readonly desc: ResourceDescriptor) {}

  get t(): TableDef {
    return this.desc.table;
  }

  get pk(): string {
    return this.t.pk;
  }

  private scopeSql(): { sql: string; values: SQLInputValue[] } {
    return this.desc.scope
      ? { sql: this.desc.scope.where, values: this.desc.scope.values }
      : { sql: "1", values: [] };
  }

  /** Finds one row by key as `GET /r/{id}` does (selectById: the scope unless `listsOnly`). */
  find(db: DatabaseSync, id: unknown): Row | undefined {
    if (this.desc.scope?.listsOnly) return this.findForWrite(db, id);
    const s = this.scopeSql();
    return stmt(db, `SELECT * FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ? AND (${s.sql})`)
      .get(this.keyValue(id), ...s.values) as Row | undefined;
  }

  /** Finds one row by key alone, as updateInternal/deleteInternal's `static::find($id)`. */
  findForWrite(db: DatabaseSync, id: unknown): Row | undefined {
    return stmt(db, `SELECT * FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ?`)
      .get(this.keyValue(id)) as Row | undefined;
  }

  private keyValue(id: unknown): SQLInputValue {
    const c = columnOf(this.t, this.pk)!;
    if (c.kind === "id") {
      const n = Number(id);
      return Number.isFinite(n) ? n : String(id);
    }
    return String(id);
  }

  private notFound(id: unknown): DfError {
    // PHP's interpolation: true is "1", null "", an array "Array".
    const shown = id !== null && typeof id === "object" ? "Array" : strval(id);
    return new DfError(404, `Record with identifier '${shown}' not found.`);
  }

  // ---------------------------------------------------------------- reading

  private filterSql(ctx: CallContext): { sql: string; values: SQLInputValue[] } {
    const filter = ctx.option("filter");
    // Only an absent or empty filter means "no filter": DreamFactory fails on one of only spaces.
    if (filter === undefined || filter === "") return { sql: "1", values: [] };
    const params = (() => {
      const raw = ctx.option("params");
      if (!raw) return {};
      try {
        return typeof raw === "string" ? JSON.parse(raw) : raw;
      } catch {
        return {};
      }
    })() as Record<string, unknown>;
    if (/:user_id\b/.test(filter) && !(":user_id" in params) && !("user_id" in params)) {
      params[":user_id"] = ctx.userId;
    }
    const columns = this.t.columns.map((c) => ({ name: c.name, type: dfType(c) }));
    try {
      const out = compileDreamFactoryFilter(replaceLookups(filter, ctx.lookups), columns, {
        mode: "system",
        params,
        lookups: ctx.lookups,
      });
      if (!out) return { sql: "1", values: [] };
      return { sql: out.sql, values: out.params as SQLInputValue[] };
    } catch (e) {
      rethrowFilterError(e);
    }
  }

  /**
   * The GROUP BY and ORDER BY of a listing ("" for none). df-core's BaseModel::selectByRequest
   * splits `order` at commas and gives each term to Builder::orderBy (`@list($column,
   * $direction) = explode(' ', trim($term))`, an empty() direction is asc), which clauses.ts's
   * orderByTerm shares with the db service. Unlike df-sqldb's Table::runQuery (parseOrder) no
   * `;` is refused, several terms are not orderByRaw, and a blank direction is not an error.
   * A non-empty() `group` (or `group_by`) is split at commas the same way, each trimmed term a
   * Builder::groupBy, unchecked: SQLite groups the rows (a bare column reads from one row of its
   * group, as DreamFactory's own SELECT * does). Comes with SQLite's first syntax error (GROUP BY
   * precedes ORDER BY in the text) and first unresolved name (ORDER BY is resolved before GROUP
   * BY), which {@link failOnSql} weighs against the field list's.
   */
  private clauses(ctx: CallContext): { group: string; order: string; errors: SelectErrors } {
    const columns = clauseTable(this.t);
    const raw = ctx.option("order", "sort", "order_by");
    const orders: Clause[] = !raw || !raw.trim()
      ? [{ text: "", sql: `${q(this.pk)} ASC`, errors: {} }]
      : raw.split(",").map((term) => {
        const [column, direction = ""] = phpTrim(term).split(" ");
        return orderByTerm(columns, column, phpEmpty(direction) ? "asc" : direction, raw);
      });
    const rawGroup = ctx.option("group", "group_by");
    const groups = rawGroup === undefined || phpEmpty(rawGroup)
      ? []
      : rawGroup.split(",").map((term) => groupByTerm(columns, phpTrim(term), rawGroup));
    const join = (terms: Clause[]) =>
      terms.map((t) => t.sql).filter((sql) => sql !== "").join(", ");
    return {
      group: join(groups),
      order: join(orders),
      errors: {
        syntax: groups.find((t) => t.errors.syntax)?.errors.syntax ??
          orders.find((t) => t.errors.syntax)?.errors.syntax,
        walk: orders.find((t) => t.errors.walk)?.errors.walk ??
          groups.find((t) => t.errors.walk)?.errors.walk,
      },
    };
  }

  /** Resolves `fields` (the model's cleanFields first) against the resource's table. */
  private selection(raw: string | undefined): FieldSelection {
    return selectFields(this.t, raw, this.desc.cleanFields);
  }

  /**
   * Throws what SQLite answers for DreamFactory's SELECT with these fields and GROUP BY/ORDER BY
   * terms, if anything: syntax errors in text order (the field list comes first), then another
   * table's `x.*`, then names it cannot resolve (result columns before ORDER BY, then GROUP BY).
   */
  private failOnSql(sel: FieldSelection, clauses?: SelectErrors): void {
    const error = sel.errors.syntax ?? clauses?.syntax ?? sel.errors.expand ?? sel.errors.walk ??
      clauses?.walk;
    if (error) throw sqliteError(error);
  }

  /** The rowid of a row of a table keyed by name (what `fields=rowid` selects there). */
  private rowidOf(db: DatabaseSync, row: Row): unknown {
    const r = stmt(db, `SELECT rowid AS r FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ?`)
      .get(row[this.pk] as SQLInputValue) as { r: number } | undefined;
    return r === undefined ? null : Number(r.r);
  }

  /** The attributes the query loads of `row`: the columns `sel` selects (all for `*`). */
  private loaded(row: Row, sel: FieldSelection): Row {
    const out: Row = {};
    for (const c of this.t.columns) if (sel.loads(c.name)) out[c.name] = row[c.name];
    return out;
  }

  private relationsRequested(ctx: CallContext): RelationDef[] {
    const raw = ctx.option("related");
    if (!raw || !raw.trim()) return [];
    const computed = this.desc.computedRelations ?? {};
    return raw.split(",").map((s) => s.trim()).filter((s) => s && !(s in computed)).map((name) => {
      const rel = this.t.relations.find((r) => r.name === name);
      if (!rel) throw new DfError(400, `Unknown relationship: ${name}`);
      return rel;
    });
  }

  /** Builds the JSON view of rows: selected fields, appended attributes, relations. */
  view(ctx: CallContext, rows: Row[], sel: FieldSelection, rels: RelationDef[]): Rec[] {
    // BaseModel::selectById (`with($related)->find($id, $fields)`) and selectByRequest
    // (`$builder->get($selection)`) load only the selected columns, after the model's cleanFields.
    // Everything else works from those attributes: the appended ones (User's confirmed/expired),
    // and eager loading, which keys a relation on the parent's loaded key, so without it a
    // has_many/many_many is [] and a belongs_to null.
    const loaded = rows.map((row) => this.loaded(row, sel));
    const relatedMaps = rels.map((rel) => this.related(ctx, rel, loaded));
    const computed = Object.entries(this.desc.computedRelations ?? {});
    const asked = computed.length
      ? (ctx.option("related") ?? "").split(",").map((s) => s.trim())
      : [];
    const attach = computed.filter(([name]) => asked.includes(name));
    return loaded.map((row, at) => {
      const out = selectedRecord(
        this.t,
        row,
        sel,
        this.desc.hidden,
        () => this.rowidOf(ctx.db, rows[at]),
      );
      this.desc.present?.(row, out, ctx, sel);
      for (const [name, compute] of attach) out[name] = compute(rows[at], ctx);
      rels.forEach((rel, i) => {
        const many = rel.type === "has_many" || rel.type === "many_many";
        out[rel.name] = relatedMaps[i].get(row[rel.field]) ?? (many ? [] : null);
      });
      return out;
    });
  }

  /** The related records of many rows in one query, keyed by the rows' `rel.field` value. */
  private related(ctx: CallContext, rel: RelationDef, rows: Row[]): Map<unknown, unknown> {
    const db = ctx.db;
    const target = tableDef(rel.table);
    const present = (this.desc.relatedModels ?? BASE_RELATED_MODELS)[rel.table];
    const toArray = (r: Row): Rec => {
      const out = formatRow(target, r);
      present?.(r, out, ctx);
      return out;
    };
    const keys = [
      ...new Set(rows.map((r) => r[rel.field]).filter((k) => k !== null && k !== undefined)),
    ];
    const out = new Map<unknown, unknown>();
    for (let i = 0; i < keys.length; i += 500) {
      const chunk = keys.slice(i, i + 500) as SQLInputValue[];
      const marks = chunk.map(() => "?").join(",");
      if (rel.type !== "many_many") {
        const found = stmt(
          db,
          `SELECT * FROM ${q(target.name)} WHERE ${q(rel.refField)} IN (${marks}) ORDER BY ${
            q(target.pk)
          }`,
        ).all(...chunk) as Row[];
        for (const r of found) {
          const k = r[rel.refField];
          if (rel.type === "has_many") {
            const list = (out.get(k) as Rec[] | undefined) ?? [];
            list.push(toArray(r));
            out.set(k, list);
          } else if (!out.has(k)) out.set(k, toArray(r));
        }
        continue;
      }
      // Builder::getRelation -> getBelongsToManyByRelationName: Laravel's belongsToMany($model,
      // $junction, $fk, $rk) eager-loads with this statement: one row per junction row (no
      // DISTINCT), in the order SQLite gives (no ORDER BY: it scans the junction table, which
      // has no index on these columns in DreamFactory's schema or the sandbox's, and looks each
      // target up by key), and each row carries its `pivot` ({fk, rk}), which no model hides.
      const j = rel.junction!;
      const pivotColumns = [j.field, j.refField].map((name) => columnOf(tableDef(j.table), name)!);
      const found = stmt(
        db,
        `select ${q(target.name)}.*, ${
          pivotColumns.map((c) => `${q(j.table)}.${q(c.name)} as ${q(`pivot_${c.name}`)}`)
            .join(", ")
        } from ${q(target.name)} inner join ${q(j.table)} on ${q(target.name)}.${
          q(rel.refField)
        } = ${q(j.table)}.${q(j.refField)} where ${q(j.table)}.${q(j.field)} in (${marks})`,
      ).all(...chunk) as Row[];
      for (const r of found) {
        const owner = r[`pivot_${j.field}`];
        const item = toArray(r);
        item.pivot = Object.fromEntries(
          pivotColumns.map((c) => [c.name, readValue(c, r[`pivot_${c.name}`])]),
        );
        const list = (out.get(owner) as Rec[] | undefined) ?? [];
        list.push(item);
        out.set(owner, list);
      }
    }
    return out;
  }

  /** `GET /r` (with or without `ids`). */
  list(ctx: CallContext, idsFromRecords?: string): Response {
    const idsRaw = ctx.option("ids") ?? idsFromRecords;
    const ids = idsRaw !== undefined && idsRaw.trim() !== ""
      ? idsRaw.split(",").map((s) => s.trim()).filter(Boolean)
      : null;
    const s = this.scopeSql();
    // getSelectionCriteria parses the filter (its 400s) before the query; the query then fails
    // as SQLite fails it (fields, group, order), and only its rows' relations are loaded (an unknown
    // one is a 400); count_only counts after all that (BaseSystemResource::handleGET).
    const f = this.filterSql(ctx);
    const sel = this.selection(ctx.option("fields"));
    const clauses = this.clauses(ctx);
    this.failOnSql(sel, clauses.errors);
    const rels = this.relationsRequested(ctx);
    let where = `(${s.sql}) AND (${f.sql})`;
    const values = [...s.values, ...f.values];
    // countByRequest: the criteria, without a model's selectByRequest reducer.
    const counted = this.desc.scope?.listsOnly
      ? { where: `(${f.sql})`, values: [...f.values] }
      : { where, values: [...values] };
    const count = () =>
      Number(
        (stmt(ctx.db, `SELECT COUNT(*) AS n FROM ${q(this.t.name)} WHERE ${counted.where}`)
          .get(...counted.values) as { n: number }).n,
      );
    if (ids) {
      // BaseModel::selectByIds adds "id IN (...)" to the request's own criteria: the filter,
      // limit and offset still apply (an id they leave out is "not found").
      where += ` AND ${q(this.pk)} IN (${ids.map(() => "?").join(",")})`;
      values.push(...ids.map((id) => this.keyValue(id)));
    } else if (ctx.flag("count_only")) {
      return json(count());
    }
    const { group, order } = clauses;
    // GROUP BY, then ORDER BY.
    const orderBy = `${group ? ` GROUP BY ${group}` : ""}${order ? ` ORDER BY ${order}` : ""}`;
    let limit = Number(ctx.option("limit") ?? "");
    if (!Number.isInteger(limit) || limit < 1 || limit > ctx.maxRecords) limit = ctx.maxRecords;
    let offset = Number(ctx.option("offset", "skip") ?? "");
    if (!Number.isInteger(offset) || offset < 0) offset = 0;
    const rows = stmt(
      ctx.db,
      `SELECT * FROM ${q(this.t.name)} WHERE ${where}${orderBy} LIMIT ? OFFSET ?`,
    ).all(...values, limit, offset) as Row[];
    if (ids) return this.selectedByIds(ctx, ids, rows, sel, rels);
    const list = this.view(ctx, rows, sel, rels);
    const meta: Rec = {};
    if (ctx.flag("include_count")) meta.count = count();
    if (ctx.flag("include_schema")) meta.schema = tableSchema(this.t);
    return this.answer(ctx, list, meta);
  }

  /**
   * The end of every list answer: BaseSystemResource::handleGET/POST/PATCH/DELETE all finish
   * with ResourcesWrapper::cleanResources($result, as_list, id_field, '*', !empty($meta)), then
   * handleGET adds `meta`. With `as_list` the records become their `id_field` values (default
   * the key; see {@link asList}); wrapResources wraps them in `resource` unless a `wrap` option
   * says false (wrapping on demand wins over the meta's force_wrap: PHP then answers the list's
   * numeric keys beside `meta`). Single-record answers (by id) never come here.
   */
  private answer(ctx: CallContext, records: Rec[], meta: Rec = {}, status = 200): Response {
    const list = ctx.flag("as_list") ? this.asList(ctx, records) : records;
    const hasMeta = Object.keys(meta).length > 0;
    if (ctx.option("wrap") === undefined || ctx.flag("wrap")) {
      return json(wrap(list, hasMeta ? meta : undefined), status);
    }
    return json(hasMeta ? { ...list, meta } : list, status);
  }

  /**
   * cleanResources' `as_list`: `id_field` is trimmed of commas and split at them (each name
   * trimmed). One name is array_column() (records without it are skipped, a null value is
   * kept); several make each record "(a,b)", PHP's string concatenation of the values (a missing
   * one is ""), a comma put only after a non-empty() text. A list whose first item is not a
   * record (an empty one) is left as it is.
   */
  private asList(ctx: CallContext, records: Rec[]): unknown[] {
    const first = records[0];
    if (!first || typeof first !== "object") return records;
    const names = phpTrim(ctx.option("id_field") ?? this.pk, ",").split(",").map((n) => phpTrim(n));
    if (names.length === 1) {
      return records.filter((r) => Object.hasOwn(r, names[0])).map((r) => r[names[0]]);
    }
    return records.map((r) => {
      let out = "";
      for (const name of names) {
        if (!phpEmpty(out)) out += ",";
        const v = Object.hasOwn(r, name) ? r[name] : "";
        // PHP's "Array to string conversion", which Laravel raises as an error.
        if (v !== null && typeof v === "object") {
          throw new DfError(500, "Server Error", { bare: true });
        }
        out += strval(v);
      }
      return `(${out})`;
    });
  }

  /**
   * The answer of an `ids` selection: the records in query order (id, or `order`) when each id
   * matched one, as BaseModel::selectByIds answers; else DreamFactory's batch error listing, in
   * the ids' order, each found record or a 404 up to the first miss (all with `continue`).
   */
  private selectedByIds(
    ctx: CallContext,
    ids: string[],
    rows: Row[],
    sel: FieldSelection,
    rels: RelationDef[],
  ): Response {
    const views = this.view(ctx, rows, sel, rels);
    if (rows.length === ids.length) {
      // BaseSystemResource::handleGET adds meta.schema after either branch, ids or not.
      return this.answer(
        ctx,
        views,
        ctx.flag("include_schema") ? { schema: tableSchema(this.t) } : {},
      );
    }
    const entries: unknown[] = [];
    const failed: number[] = [];
    const cont = ctx.flag("continue");
    for (const [i, id] of ids.entries()) {
      // selectByIds looks each id up in the records it answers (`$id == $record[$pk]`): a
      // `fields` without the key finds none of them.
      const at = views.findIndex((v) =>
        v[this.pk] !== undefined && String(v[this.pk]) === String(this.keyValue(id))
      );
      if (at >= 0) {
        entries.push(views[at]);
        continue;
      }
      failed.push(i);
      entries.push(this.notFound(id).toBatchEntry());
      if (!cont) break;
    }
    throw batchError("retrieved", failed, entries);
  }

  /** `GET /r/{id}`. */
  get(ctx: CallContext, id: string): Response {
    // selectById: the query fails on its fields before a missing record is a 404.
    const sel = this.selection(ctx.option("fields"));
    this.failOnSql(sel);
    const row = this.find(ctx.db, id);
    if (!row) throw this.notFound(id);
    return json(this.view(ctx, [row], sel, this.relationsRequested(ctx))[0]);
  }

  // ---------------------------------------------------------------- writing

  /**
   * The answer to a write: BaseModel::buildResult. `fields` defaults to the key; exactly the
   * key's name without `related` is the key alone, anything else selectById's record, which
   * names only what `fields` selects (`fields=name` leaves the key out).
   */
  writeView(ctx: CallContext, row: Row): Rec {
    const raw = ctx.option("fields");
    const fields = raw === undefined || raw === "" ? this.pk : raw;
    const relsRaw = ctx.option("related");
    if (fields === this.pk && (!relsRaw || !relsRaw.trim())) {
      return { [this.pk]: readValue(columnOf(this.t, this.pk)!, row[this.pk]) };
    }
    const sel = this.selection(fields);
    this.failOnSql(sel);
    return this.view(ctx, [row], sel, this.relationsRequested(ctx))[0];
  }

  private columnsFor(rec: Rec, forCreate: boolean): Record<string, SQLInputValue> {
    const out: Record<string, SQLInputValue> = {};
    const ro = new Set([
      "created_date",
      "last_modified_date",
      "created_by_id",
      "last_modified_by_id",
    ]);
    // Eloquent keeps attributes in the order they are set: a new model's insert lists the
    // fields as the record gives them (fill()); an update's dirty attributes come in the loaded
    // row's order, the table's.
    const columns = forCreate
      ? Object.keys(rec).map((name) => columnOf(this.t, name)).filter((c) => c !== undefined)
      : this.t.columns.filter((c) => c.name in rec);
    for (const c of columns) {
      if (c.kind === "id" || ro.has(c.name)) continue;
      if (!forCreate && c.name === this.pk) continue;
      out[c.name] = writeValue(c, rec[c.name]);
    }
    return out;
  }

  private relationPayloads(rec: Rec): [RelationDef, unknown][] {
    return this.t.relations.filter((r) => r.name in rec).map((r) => [r, rec[r.name]]);
  }

  /**
   * Inserts a record as BaseModel::create does: the record's fields, then `created_by_id`, then
   * Eloquent's timestamps (updated before created), unless the descriptor's `splitInsert` moves
   * some to a save right after the insert.
   */
  private insertRow(ctx: CallContext, rec: Rec): Row {
    const all = this.columnsFor(rec, true);
    const now = sqlDateTime();
    if (hasColumn(this.t, "created_by_id") && ctx.userId !== null) all.created_by_id = ctx.userId;
    if (hasColumn(this.t, "last_modified_date")) all.last_modified_date = now;
    if (hasColumn(this.t, "created_date")) all.created_date = now;
    const { insert: cols, after = {} } = this.desc.splitInsert?.(all, ctx) ?? { insert: all };
    const keys = Object.keys(cols);
    const sql = keys.length
      ? `insert into ${q(this.t.name)} (${keys.map(q).join(", ")}) values (${
        keys.map(() => "?").join(", ")
      })`
      : `insert into ${q(this.t.name)} default values`;
    const values = keys.map((k) => cols[k]);
    let key: unknown;
    try {
      const res = stmt(ctx.db, sql).run(...values);
      key = this.pk === "id" ? Number(res.lastInsertRowid) : cols[this.pk];
    } catch (e) {
      throw this.desc.sqlError?.(e as Error, "create", sql) ??
        sqlError(e, sql, values as SqlValue[]);
    }
    const later = Object.keys(after);
    if (later.length) {
      const sql = `update ${q(this.t.name)} set ${
        later.map((k) => `${q(k)} = ?`).join(", ")
      } where ${q(this.pk)} = ?`;
      const values = [...later.map((k) => after[k]), key as SQLInputValue];
      try {
        stmt(ctx.db, sql).run(...values);
      } catch (e) {
        throw this.desc.sqlError?.(e as Error, "update", sql) ??
          sqlError(e, sql, values as SqlValue[]);
      }
    }
    return stmt(ctx.db, `SELECT * FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ?`).get(
      key as SQLInputValue,
    ) as Row;
  }

  private updateRow(ctx: CallContext, old: Row, rec: Rec): Row {
    const cols = this.columnsFor(rec, false);
    if (hasColumn(this.t, "last_modified_date")) cols.last_modified_date = sqlDateTime();
    if (hasColumn(this.t, "last_modified_by_id") && ctx.userId !== null) {
      cols.last_modified_by_id = ctx.userId;
    }
    const keys = Object.keys(cols);
    if (keys.length) {
      const sql = `update ${q(this.t.name)} set ${
        keys.map((k) => `${q(k)} = ?`).join(", ")
      } where ${q(this.pk)} = ?`;
      const values = [...keys.map((k) => cols[k]), old[this.pk] as SQLInputValue];
      try {
        stmt(ctx.db, sql).run(...values);
      } catch (e) {
        throw this.desc.sqlError?.(e as Error, "update", sql) ??
          sqlError(e, sql, values as SqlValue[]);
      }
    }
    return stmt(ctx.db, `SELECT * FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ?`).get(
      old[this.pk] as SQLInputValue,
    ) as Row;
  }

  private stripReadOnly(input: Rec): Rec {
    const out = { ...input };
    for (const k of this.desc.readOnly ?? []) delete out[k];
    return out;
  }

  /**
   * The `required` rule: on update only the fields the change sets are checked. Like Laravel's
   * validator, every missing field is reported, in the rules' order.
   */
  private checkRequired(input: Rec, update: boolean) {
    const context: Record<string, string[]> = {};
    for (const f of this.desc.required ?? []) {
      if (update && !(f in input)) continue;
      if (input[f] === undefined || input[f] === null || input[f] === "") {
        const attribute = f.replace(/_/g, " ");
        context[f] = [
          this.desc.requiredMessage?.(attribute) ?? `The ${attribute} field is required.`,
        ];
      }
    }
    if (Object.keys(context).length) throw invalidData(context);
  }

  /** Creates one record with its children; returns the stored row. */
  createOne(ctx: CallContext, input: Rec): Row {
    if (!input || typeof input !== "object" || Array.isArray(input)) {
      throw new DfError(400, "Invalid record: each record must be a JSON object.");
    }
    this.checkRequired(input, false);
    const clean = this.stripReadOnly(input);
    const create = () => {
      const rec = this.desc.beforeCreate ? this.desc.beforeCreate(clean, ctx) : clean;
      const row = this.insertRow(ctx, rec);
      for (const [rel, value] of this.relationPayloads(rec)) {
        writeRelation(ctx, rel, row, value, true, this.t.name);
      }
      this.desc.afterWrite?.("create", row, null, ctx);
      return row;
    };
    return this.desc.wrapCreateErrors ? this.asModel("create", create) : create();
  }

  /** Updates one record (partial) with its children; returns the stored row. */
  updateOne(ctx: CallContext, id: unknown, input: Rec): Row {
    const old = this.findForWrite(ctx.db, id);
    if (!old) throw this.notFound(id);
    if (!input || typeof input !== "object" || Array.isArray(input)) {
      throw new DfError(400, "Invalid record: each record must be a JSON object.");
    }
    const clean = this.stripReadOnly(input);
    return this.asModel("update", () => {
      if (this.desc.requiredOnUpdate) this.checkRequired(clean, true);
      const rec = this.desc.beforeUpdate ? this.desc.beforeUpdate(clean, old, ctx) : clean;
      const row = this.updateRow(ctx, old, rec);
      for (const [rel, value] of this.relationPayloads(rec)) {
        writeRelation(ctx, rel, row, value, false, this.t.name);
      }
      this.desc.afterWrite?.("update", row, old, ctx);
      return row;
    });
  }

  /** Updates one record and builds its answer, both inside the model's error wrapping. */
  private updated(ctx: CallContext, id: unknown, input: Rec): Rec {
    const row = this.updateOne(ctx, id, input);
    return this.asModel("update", () => this.writeView(ctx, row));
  }

  /**
   * Runs the model part of an update or delete: what fails there becomes DreamFactory's 500
   * "Failed to <op> resource: <message>" (not-found and identifier errors are raised before).
   */
  private asModel<T>(op: "create" | "update" | "delete", fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      const mode = this.desc.wrapModelErrors ?? "all";
      if (mode === "none" || (e instanceof DfError && guards.has(e))) throw e;
      if (mode === "server" && e instanceof DfError && (e.status === 400 || e.status === 403)) {
        throw e;
      }
      const message = e instanceof Error ? e.message : String(e);
      throw new DfError(500, `Failed to ${op} resource: ${message}`);
    }
  }

  /** Deletes one record; returns its view from before the delete. */
  deleteOne(ctx: CallContext, id: unknown): Rec {
    const old = this.findForWrite(ctx.db, id);
    if (!old) throw this.notFound(id);
    return this.asModel("delete", () => {
      this.desc.beforeDelete?.(old, ctx);
      const view = this.writeView(ctx, old);
      stmt(ctx.db, `DELETE FROM ${q(this.t.name)} WHERE ${q(this.pk)} = ?`).run(
        old[this.pk] as SQLInputValue,
      );
      this.desc.afterWrite?.("delete", old, old, ctx);
      return view;
    });
  }

  /**
   * Runs `op` on each item with DreamFactory's batch semantics: stop at the first failure
   * (earlier ones stay), `continue` (all run), `rollback` (one transaction, undone on failure).
   */
  batch<T>(ctx: CallContext, verb: BatchVerb, items: T[], op: (item: T, i: number) => Rec): Rec[] {
    const rollback = ctx.flag("rollback");
    const cont = ctx.flag("continue") && !rollback;
    const entries: unknown[] = [];
    const failed: number[] = [];
    const db = ctx.db;
    db.exec(rollback ? "BEGIN" : "SAVEPOINT batch");
    try {
      for (const [i, item] of items.entries()) {
        db.exec("SAVEPOINT rec");
        try {
          entries.push(op(item, i));
          db.exec("RELEASE rec");
        } catch (e) {
          db.exec("ROLLBACK TO rec");
          db.exec("RELEASE rec");
          failed.push(i);
          entries.push(
            e instanceof DfError ? e.toBatchEntry() : new DfError(500, String(e)).toBatchEntry(),
          );
          if (!cont) break;
        }
      }
    } catch (e) {
      db.exec(rollback ? "ROLLBACK" : "ROLLBACK TO batch");
      if (!rollback) db.exec("RELEASE batch");
      throw e;
    }
    if (failed.length && rollback) {
      db.exec("ROLLBACK");
      throw batchError(verb, failed, entries, true);
    }
    db.exec(rollback ? "COMMIT" : "RELEASE batch");
    if (failed.length) throw batchError(verb, failed, entries);
    return entries as Rec[];
  }

  /** Runs a single by-id write atomically (children included). */
  private atomic<T>(db: DatabaseSync, fn: () => T): T {
    db.exec("SAVEPOINT one");
    try {
      const out = fn();
      db.exec("RELEASE one");
      return out;
    } catch (e) {
      db.exec("ROLLBACK TO one");
      db.exec("RELEASE one");
      throw e;
    }
  }

  /** Answers one request on this resource (`id` is the path segment after the resource). */
  handle(ctx: CallContext, method: string, id: string | undefined, payload: unknown): Response {
    const special = this.desc.intercept?.(this, ctx, method, id, payload);
    if (special) return special;
    if (method === "GET") {
      if (id !== undefined) return this.get(ctx, id);
      // GET (usually tunnelled through POST) with records in the body selects those records.
      const records = Array.isArray(payload) ? payload : (payload as Rec | undefined)?.resource;
      const keys = Array.isArray(records)
        ? records.map((r) => (r && typeof r === "object" ? (r as Rec)[this.pk] : r))
          .filter((k) => k !== undefined && k !== null).join(",")
        : undefined;
      return this.list(ctx, keys || undefined);
    }
    if (method === "POST") {
      if (id !== undefined) {
        throw new DfError(400, "Create record by identifier not currently supported.");
      }
      const records = recordsOf(payload);
      // df-system BaseSystemResource: an empty record list is "no records", not an empty batch.
      if (!records.length) throw new DfError(400, NO_RECORDS_MESSAGE);
      this.desc.validateAll?.(records, ctx);
      const out = this.batch(
        ctx,
        "created",
        records,
        (r) => this.writeView(ctx, this.createOne(ctx, r)),
      );
      return this.answer(ctx, out, {}, 201);
    }
    if (method === "PATCH" || method === "PUT") {
      if (id !== undefined) {
        const rec = payload && typeof payload === "object" && !Array.isArray(payload)
          ? payload as Rec
          : {};
        return json(this.atomic(ctx.db, () => this.updated(ctx, id, rec)));
      }
      const records = recordsOf(payload);
      if (!records.length) throw new DfError(400, NO_RECORDS_MESSAGE);
      const idsRaw = ctx.option("ids");
      if (idsRaw !== undefined && idsRaw.trim() !== "") {
        // updateByIds: explode(',') keeps empty ids, which fail as keys.
        const ids = idsRaw.split(",").map((s) => s.trim());
        const change = records[0];
        return this.answer(
          ctx,
          this.batch(
            ctx,
            "updated",
            ids,
            (i) => this.updated(ctx, this.bulkKey({ [this.pk]: i }), change),
          ),
        );
      }
      const fix = this.desc.fixUpdateRecord;
      const list = fix ? records.map((r) => fix(r)) : records;
      return this.answer(
        ctx,
        this.batch(ctx, "updated", list, (r) => this.updated(ctx, this.bulkKey(r), r as Rec)),
      );
    }
    if (method !== "DELETE") throw unhandledVerb(method);
    if (id !== undefined) return json(this.atomic(ctx.db, () => this.deleteOne(ctx, id)));
    const idsRaw = ctx.option("ids");
    // deleteByIds makes each id a record of its own; bulkDelete reads each record's key.
    let records: unknown[] | null = null;
    if (idsRaw !== undefined && idsRaw.trim() !== "") {
      records = idsRaw.split(",").map((s) => ({ [this.pk]: s.trim() }));
    } else if (payload !== undefined) {
      // No records (a bare object, an empty list) is on to the filter, else a 400.
      const given = unwrapResources(payload);
      if (Array.isArray(given) && given.length) records = given;
    }
    if (!records) {
      if (ctx.option("filter")) {
        throw new DfError(
          500,
          "Delete by filter is not supported on system resources; pass ids or records.",
        );
      }
      throw new DfError(400, "No filter or records given for delete request.");
    }
    return this.answer(
      ctx,
      this.batch(ctx, "deleted", records, (r) => this.deleteOne(ctx, this.bulkKey(r))),
    );
  }

  /**
   * The key of one record of a bulk PATCH or DELETE, as BaseModel::bulkUpdate/bulkDelete read it
   * (`array_get($record, $pk)`: null unless the record is an object carrying it), after
   * updateInternal/deleteInternal's first checks: an empty() record is 400 "There are no fields
   * in the record to create . ", an empty() key 400 'Identifying field "id" can not be empty for
   * update request . ' (naming "id" whatever the key).
   */
  private bulkKey(record: unknown): unknown {
    if (phpEmpty(record)) {
      throw new DfError(400, "There are no fields in the record to create . ");
    }
    const key = record && typeof record === "object" && !Array.isArray(record)
      ? (record as Rec)[this.pk]
      : undefined;
    if (phpEmpty(key)) {
      throw new DfError(400, `Identifying field "id" can not be empty for update request . `);
    }
    return key;
  }
}
