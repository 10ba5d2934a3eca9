/**
 * `/api/v2/{service}/_table[/{table}[/{id}]]`: DreamFactory's record API on a SQLite database.
 * Reads are bounded pages read by statement iteration; writes go record by record through the
 * batch rules; every value is bound; the role's row filters narrow reads, updates and deletes and
 * are checked against written rows.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { phpTrim } from "../../filter/dreamfactory.ts";
import {
  type BatchVerb,
  DfError,
  json,
  NO_RECORDS_MESSAGE,
  recordsOf,
  toBool,
  toDfError,
  wrap,
} from "../http.ts";
import type { AccessGrant, RequestContext } from "../types.ts";
import { type BatchMode, batchMode, runBatch } from "./batch.ts";
import { type Catalog, isRequired, type TableInfo, tableSummary, tableToJson } from "./catalog.ts";
import { type Clause, NO_CLAUSE } from "./clauses.ts";
import { writeParents, writeRelated } from "./related_write.ts";
import {
  attachRelated,
  attachRelatedPage,
  checkClauses,
  columnAlias,
  countSql,
  forEachRow,
  parseFields,
  parseGroup,
  parseOrder,
  type RelatedRequest,
  type SelectItem,
  type SelectSpec,
  selectSql,
  typedRow,
  withRelationKeys,
} from "./select.ts";
import { all, q, run, scalar, wrapFailure } from "./sql.ts";
import { fromSqlValue, isIntegerType, type SqlValue, toSqlValue } from "./types.ts";
import { and, clientFilter, idWhere, roleFilter, type Where } from "./where.ts";
import { unhandledVerb } from "../verbs.ts";

/** What the record resource needs from its service. */
export interface DbEnv {
  db: DatabaseSync;
  catalog: Catalog;
  serviceId: number;
  serviceName: string;
  maxRecords: number;
}

/** DreamFactory's message when a role's row filters reject a write. */
export const DENIED_FIELDS = "Denied access to some of the requested fields.";

const VERB_BITS: Record<string, number> = { GET: 1, POST: 2, PUT: 4, PATCH: 8, DELETE: 16 };

/** The verbs of a mask, in DreamFactory's order. */
export function maskVerbs(mask: number): string[] {
  return Object.entries(VERB_BITS).filter(([, b]) => (mask & b) !== 0).map(([v]) => v);
}

/** Per-request view of one table: options, access, filters. */
class TableRequest {
  readonly env: DbEnv;
  readonly ctx: RequestContext;
  readonly table: TableInfo;
  readonly grant: AccessGrant | null;
  readonly role: Where;
  /** What the request parses once however many ids it reads (its options do not change). */
  private readonly parsed = new Map<string, { value: unknown } | { error: unknown }>();

  constructor(env: DbEnv, ctx: RequestContext, table: TableInfo) {
    this.env = env;
    this.ctx = ctx;
    this.table = table;
    // Row filters are looked up for the table, even on a by-id call (df-database's
    // BaseDbTableResource asks for `_table/<name>` without the id).
    this.grant = ctx.access(`_table/${table.name}`);
    this.role = roleFilter(table, this.grant, ctx.lookups);
  }

  /** `parse()`'s value, or its error, from the first call with `key`; again on every later call,
   * so a by-id loop fails each id as before without parsing again. */
  private once<T>(key: string, parse: () => T): T {
    let m = this.parsed.get(key);
    if (!m) {
      try {
        m = { value: parse() };
      } catch (error) {
        m = { error };
      }
      this.parsed.set(key, m);
    }
    if ("error" in m) throw m.error;
    return m.value as T;
  }

  /** parseFields on this table, once per `fields` text. */
  fieldItems(fields: string | undefined): SelectItem[] {
    return this.once(`fields:${fields ?? "*"}`, () => parseFields(this.table, fields));
  }

  /** An option; an empty value counts as absent, as PHP's `empty()` does in DreamFactory. */
  opt(name: string, ...aliases: string[]): string | undefined {
    const v = this.ctx.option(name, ...aliases);
    return v === undefined || v === null || String(v).trim() === "" ? undefined : String(v);
  }

  /** The `filter` (or `where`) option; unlike other options one of only spaces is kept, since
   * DreamFactory tests it with PHP's `empty()` and then fails on it. (Only a body sent without a
   * JSON content type can still hold one: Laravel trims query and JSON values first.) */
  filterOpt(): string | undefined {
    const v = this.ctx.option("filter", "where");
    return v === undefined || v === null || String(v) === "" ? undefined : String(v);
  }

  flag(name: string, ...aliases: string[]): boolean {
    return this.ctx.flag(name, ...aliases);
  }

  get db(): DatabaseSync {
    return this.env.db;
  }

  /** Filter `params` from the body (object) or the query string (JSON). */
  params(): Record<string, unknown> {
    const p = this.ctx.payload as Record<string, unknown> | undefined;
    if (
      p && typeof p === "object" && !Array.isArray(p) && p.params && typeof p.params === "object"
    ) {
      return p.params as Record<string, unknown>;
    }
    const raw = this.ctx.url.searchParams.get("params");
    if (raw) {
      try {
        const v = JSON.parse(raw);
        if (v && typeof v === "object") return v as Record<string, unknown>;
      } catch { /* not JSON: no params */ }
    }
    return {};
  }

  /** The client filter ANDed with the role's filters. */
  where(): Where {
    const filter = this.filterOpt();
    return and(clientFilter(this.table, filter, this.params(), this.ctx.lookups), this.role);
  }

  /**
   * Identifying fields: the known names in `id_field` when given (df-sqldb's getIdsInfo skips
   * names that are not columns), else the primary key. None at all is initTransaction's 500.
   */
  idFields(): string[] {
    const raw = this.opt("id_field");
    const names = raw
      ? raw.split(",").map((s) => s.trim()).filter(Boolean).flatMap((n) => {
        const f = this.table.byName.get(n.toLowerCase());
        return f ? [f.name] : [];
      })
      : this.table.primaryKey;
    if (names.length === 0) {
      throw new DfError(500, "Identifying field(s) could not be determined.");
    }
    return names;
  }

  /** The `ids` option as a list of strings (comma list or a body array). */
  ids(): string[] | null {
    const p = this.ctx.payload as Record<string, unknown> | undefined;
    if (p && typeof p === "object" && !Array.isArray(p) && Array.isArray(p.ids)) {
      return (p.ids as unknown[]).map(String);
    }
    const raw = this.opt("ids");
    if (raw === undefined || raw.trim() === "") return null;
    // An empty id inside the list stays (and fails as an id).
    return splitIds(raw);
  }

  /**
   * The relations to read, in the schema's relation order (retrieveRelatedRecords walks the
   * table's relations, not the request). Per-relation `<rel>.fields|limit|order|group` only apply
   * to relations named in the list; `*` and always_fetch read with fields `*` and the max limit.
   */
  related(): RelatedRequest[] {
    return this.once("related", () => this.parseRelated());
  }

  private parseRelated(): RelatedRequest[] {
    const raw = this.opt("related") ?? "";
    const all = raw.trim() === "*";
    const named = all ? [] : raw.split(",").map((s) => s.trim().toLowerCase()).filter(Boolean);
    const out: RelatedRequest[] = [];
    for (const rel of this.table.related) {
      // Unknown relation names are ignored on db tables, as DreamFactory does.
      const name = named.find((n) => n === rel.name.toLowerCase());
      if (name === undefined) {
        if (all || rel.alwaysFetch) out.push({ rel });
        continue;
      }
      const requested = raw.split(",").map((s) => s.trim()).find((n) => n.toLowerCase() === name)!;
      const limit = this.opt(`${requested}.limit`, `${requested}_limit`);
      out.push({
        rel,
        fields: this.opt(`${requested}.fields`, `${requested}_fields`),
        limit: limit !== undefined ? Number.parseInt(limit, 10) || undefined : undefined,
        order: this.opt(`${requested}.order`, `${requested}_order`),
        group: this.opt(`${requested}.group`, `${requested}_group`),
      });
    }
    return out;
  }

  batch(): BatchMode {
    return batchMode(this.flag("continue"), this.flag("rollback"));
  }

  /**
   * GET's `fields`: handleGET defaults it to `*` only when the key is absent. Present but blank
   * (Laravel's TrimStrings/ConvertEmptyStringsToNull leave the key, as null) it reaches
   * parseSelect empty, which falls back to `id_field`, then the primary key, then `*`.
   */
  getFields(): string | undefined {
    const raw = this.ctx.option("fields", "select");
    if (raw === undefined || raw.trim() !== "") return raw;
    return this.opt("id_field") ?? (this.table.primaryKey.join(",") || undefined);
  }

  /** Whether a write response needs more than the identifying fields. */
  wantsFullOutput(): boolean {
    return this.opt("fields", "select") !== undefined || this.related().length > 0;
  }

  /** The typed output of one row, by rowid: id fields only unless `fields`/`related` ask more. */
  output(rowid: number, idFields: string[], fields?: string): Record<string, unknown> {
    return this.outputs([rowid], idFields, fields)[0];
  }

  /**
   * The typed output of rows read together (one runQuery in DreamFactory): each relation is read
   * once for all of them, so a relation's `limit` counts across the rows.
   */
  outputs(rowids: number[], idFields: string[], fields?: string): Record<string, unknown>[] {
    const items: SelectItem[] = fields !== undefined || this.wantsFullOutput()
      ? this.fieldItems(fields ?? this.opt("fields", "select"))
      : idFields.map((n) => {
        const f = this.table.byName.get(n.toLowerCase())!;
        return { sql: q(f.name), key: f.name, type: f.type };
      });
    const related = this.related();
    const withKeys = withRelationKeys(this.table, items, related);
    // One SELECT for all the rows (json_each takes the list as one bound value, so no chunking
    // under SQLite's variable limit), answered in the order of `rowids`; a rowid not found is {}.
    const rowidCol = columnAlias(withKeys.length);
    const { sql, params } = selectSql({
      table: this.table,
      items: [...withKeys, { sql: "rowid", key: "", type: "integer" }],
      where: { sql: "rowid IN (SELECT value FROM json_each(?))", params: [JSON.stringify(rowids)] },
    });
    const byRowid = new Map<number, Record<string, unknown>>();
    for (const raw of all(this.db, sql, params)) byRowid.set(Number(raw[rowidCol]), raw);
    const rows = rowids.map((rowid) => {
      const raw = byRowid.get(rowid);
      return raw ? typedRow(withKeys, raw) : undefined;
    });
    const found = rows.filter((r): r is Record<string, unknown> => r !== undefined);
    attachRelatedPage(this.db, this.env.catalog, this.table, found, related, this.env.maxRecords);
    return rows.map((r) => r ?? {});
  }

  /**
   * The columns of DreamFactory's SELECT for this request (df-sqldb's parseSelect): `fields`
   * (GET defaults it to `*`), else `id_field`, else the primary key, else `*`; plus the local
   * keys of the relations asked for. What `order`/`group` column positions refer to.
   */
  selectItems(): SelectItem[] {
    const fields = this.ctx.method === "GET"
      ? this.getFields() ?? "*"
      : this.opt("fields", "select") ?? this.opt("id_field") ??
        (this.table.primaryKey.join(",") || "*");
    let items: SelectItem[];
    try {
      items = this.fieldItems(fields);
    } catch {
      items = this.fieldItems(undefined);
    }
    return withRelationKeys(this.table, items, this.related());
  }

  /**
   * The condition df-sqldb's addToTransaction puts on its builder for one id: `where(<field>,
   * <value>)` for each identifying field (the value typed as checkForIds types it, a failure
   * being that id's 400), and the role's filters.
   */
  idCondition(idFields: string[], id: string): Where {
    const values = idFields.length > 1 ? id.split(",") : [id];
    return and(idWhere(this.table, idFields, values), this.role);
  }

  /**
   * df-sqldb's runQuery on a read by ids (`where` picks the ids, `limit` caps the SELECT):
   * `fields` through parseSelect, `order` and `group` as on any read, and SQLite's answer to the
   * statement, all before any record is looked for, so such a failure wins over a missing id.
   * Returns the ORDER BY the records are sorted by.
   */
  checkIdsRead(where: Where, limit: number): Clause {
    const { items, order, group } = this.once("idsReadClauses", () => {
      const items = this.idsReadItems();
      const order = parseOrder(this.table, this.opt("order", "sort", "order_by"), items);
      return {
        items,
        order,
        group: parseGroup(this.table, this.opt("group", "group_by"), items, order),
      };
    });
    const offset = this.page().offset;
    checkClauses({ table: this.table, items, where, order, group, limit, offset });
    return order;
  }

  /** The columns a read by ids selects: `fields` as GET takes it, plus the relations' keys. */
  idsReadItems(): SelectItem[] {
    return this.once(
      "idsReadItems",
      () => withRelationKeys(this.table, this.fieldItems(this.getFields()), this.related()),
    );
  }

  /** The `limit` of addToTransaction's runQuery for one id: 1 unless the request sets one. */
  idReadLimit(): number {
    return this.opt("limit", "top") === undefined ? 1 : this.page().limit;
  }

  /** Rowid of the row identified by `id` (URL or ids list) within the role's rows, or 404. */
  rowidOf(idFields: string[], id: string): number {
    const w = this.idCondition(idFields, id);
    const rowid = scalar(
      this.db,
      `SELECT rowid FROM ${q(this.table.name)} WHERE ${w.sql} LIMIT 1`,
      w.params,
    );
    if (rowid === undefined) {
      // The message prints the id checkForIds cast to the key's type ('007' -> 7).
      const shown = idFields.length === 1
        ? printR(Object.values(this.givenId(idFields, id))[0])
        : id;
      throw new DfError(404, `Record with identifier '${shown}' not found.`);
    }
    return Number(rowid);
  }

  /**
   * Rowid of a record carrying its identifying fields (a delete by records). deleteRecords does
   * not check what checkForIds returns: a record without its id goes on as the id `false`, which
   * typecastToNative refuses for integer keys and which matches no other key.
   */
  rowidOfRecord(idFields: string[], record: Record<string, unknown>): number {
    const values = idFields.map((f) => ownValue(record, f));
    if (values.some((v) => v === undefined || v === null)) {
      if (idFields.length === 1) {
        const f = this.table.byName.get(idFields[0].toLowerCase())!;
        toSqlValue(f.type, f.name, false);
        throw new DfError(404, "Record with identifier '' not found.");
      }
      throw new DfError(400, `Required id field(s) not found in record: ${idFields.join(", ")}`);
    }
    return this.rowidOf(idFields, values.map(String).join(","));
  }

  /** Rowid of the row identified by `id` within the role's rows, or undefined. */
  findRowid(idFields: string[], id: string): number | undefined {
    try {
      return this.rowidOf(idFields, id);
    } catch (e) {
      if (e instanceof DfError && e.status === 404) return undefined;
      throw e;
    }
  }

  /**
   * Whether an update of `record` would write nothing: no known column, no automatic column
   * (timestamp_on_update, ...) and no related records. df-sqldb's addToTransaction then skips
   * the UPDATE (`if (!empty($parsed))`) and with it the check that the record exists, answering
   * the id it was given.
   */
  writesNothing(record: unknown, idFields: string[]): boolean {
    if (idFields.length !== 1) return false;
    const p = parseRecord(this.table, asRecord(record), true, this.ctx.session.userId, idFields);
    return p.values.size === 0 && p.related.length === 0;
  }

  /** The id object DreamFactory answers for a record it never read: the id as sent, cast to
   * the key's type (checkForIds runs typecastToNative on it). */
  givenId(idFields: string[], id: string): Record<string, unknown> {
    const f = this.table.byName.get(idFields[0].toLowerCase())!;
    return { [f.name]: fromSqlValue(f.type, toSqlValue(f.type, f.name, id)) };
  }

  /** Fails (403) when a written row no longer satisfies the role's row filters. */
  checkRole(rowids: number[]): void {
    if (this.role.sql === "1" || rowids.length === 0) return;
    const n = scalar(
      this.db,
      `SELECT COUNT(*) FROM ${
        q(this.table.name)
      } WHERE rowid IN (SELECT value FROM json_each(?)) AND NOT (${this.role.sql})`,
      [JSON.stringify(rowids), ...this.role.params],
    );
    if (Number(n) > 0) throw new DfError(403, DENIED_FIELDS);
  }

  // ---- writes -----------------------------------------------------------------------------

  insert(record: unknown): number {
    const rec = writeParents(this.env, this.table, asRecord(record), this.writeOptions());
    const parsed = parseRecord(this.table, rec, false, this.ctx.session.userId);
    const { sql, params } = insertStatement(this.table, parsed);
    const { lastInsertRowid } = run(this.db, sql, params);
    this.checkRole([lastInsertRowid]);
    if (parsed.related.length > 0) {
      writeRelated(this.env, this.table, lastInsertRowid, parsed.related, this.writeOptions());
    }
    return lastInsertRowid;
  }

  update(rowid: number, record: unknown, idFields: string[]): void {
    const rec = writeParents(this.env, this.table, asRecord(record), this.writeOptions());
    const parsed = parseRecord(this.table, rec, true, this.ctx.session.userId, idFields);
    if (parsed.values.size > 0) {
      const set = setList(parsed);
      run(this.db, `update ${q(this.table.name)} set ${set.sql} where rowid = ?`, [
        ...set.params,
        rowid,
      ]);
      this.checkRole([rowid]);
    }
    if (parsed.related.length > 0) {
      writeRelated(this.env, this.table, rowid, parsed.related, this.writeOptions());
    }
  }

  writeOptions() {
    return {
      allowRelatedDelete: this.flag("allow_related_delete"),
      userId: this.ctx.session.userId,
    };
  }

  delete(rowid: number): void {
    run(this.db, `delete from ${q(this.table.name)} where rowid = ?`, [rowid]);
  }

  /**
   * Records the rowids matching the request's filter (within the role's rows) in a temporary
   * table, so that filter-wide updates never hold the matches in memory. Returns the match count.
   */
  matchToTemp(): number {
    const w = this.where();
    this.db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${MATCH} (r INTEGER PRIMARY KEY)`);
    run(this.db, `DELETE FROM ${MATCH}`);
    return run(
      this.db,
      `INSERT INTO ${MATCH} (r) SELECT rowid FROM ${q(this.table.name)}${
        w.sql === "1" ? "" : ` WHERE ${w.sql}`
      }`,
      w.params,
    ).changes;
  }

  /** `limit`/`offset` as df-sqldb's runQuery takes them: a limit outside 1..max is the max. */
  page(): { limit: number; offset: number; capped: boolean } {
    const max = this.env.maxRecords;
    const limitRaw = Number.parseInt(this.opt("limit", "top") ?? "", 10);
    const limit = Number.isFinite(limitRaw) ? limitRaw : 0;
    const offsetRaw = Number.parseInt(this.opt("offset", "skip") ?? "", 10);
    const offset = Number.isFinite(offsetRaw) && offsetRaw > 0 ? offsetRaw : 0;
    return limit < 1 || limit > max
      ? { limit: max, offset, capped: true }
      : { limit, offset, capped: false };
  }

  /**
   * The rowids the filter selects now, one page of them (order, limit, offset applied), with
   * runQuery's `meta` (count and next) when asked for or when the page was capped.
   */
  filterPage(): { rowids: number[]; meta?: Record<string, unknown> } {
    const { limit, offset, capped } = this.page();
    const w = this.where();
    const where = w.sql === "1" ? "" : ` WHERE ${w.sql}`;
    const items = this.selectItems();
    const order = parseOrder(this.table, this.opt("order", "sort", "order_by"), items);
    checkClauses({ table: this.table, items, where: w, order, limit, offset });
    const rowids = all(
      this.db,
      `SELECT rowid AS r FROM ${q(this.table.name)}${where} ORDER BY ${
        order.sql ? `${order.sql}, ` : ""
      }rowid LIMIT ? OFFSET ?`,
      [...w.params, limit, offset],
    ).map((row) => Number(row.r));
    const includeCount = this.flag("include_count");
    if (!includeCount && !capped) return { rowids };
    const count = Number(
      scalar(this.db, `SELECT COUNT(*) FROM ${q(this.table.name)}${where}`, w.params),
    );
    const meta: Record<string, unknown> = {};
    if (includeCount || count > this.env.maxRecords) meta.count = count;
    if (count - offset > limit) meta.next = offset + limit;
    return Object.keys(meta).length > 0 ? { rowids, meta } : { rowids };
  }

  /** Fails (403) when a matched row no longer satisfies the role's row filters. */
  checkRoleMatched(): void {
    if (this.role.sql === "1") return;
    const n = scalar(
      this.db,
      `SELECT COUNT(*) FROM ${
        q(this.table.name)
      } WHERE rowid IN (SELECT r FROM ${MATCH}) AND NOT (${this.role.sql})`,
      this.role.params,
    );
    if (Number(n) > 0) throw new DfError(403, DENIED_FIELDS);
  }
}

/** Temporary table of the rowids a filter-wide update works on. */
const MATCH = `temp."_dfkit_match"`;

function valueOf(record: Record<string, unknown>, field: string): unknown {
  if (field in record) return record[field];
  const lower = field.toLowerCase();
  for (const [k, v] of Object.entries(record)) if (k.toLowerCase() === lower) return v;
  return undefined;
}

/** A record's value for a field by its exact name, as checkForIds' array_get reads ids. */
function ownValue(record: Record<string, unknown>, field: string): unknown {
  return Object.hasOwn(record, field) ? record[field] : undefined;
}

/**
 * PHP's print_r($value, true), which DreamFactory puts in "Required id field(s) not found in
 * record <n>: ..." messages.
 */
function printR(value: unknown, indent = 0): string {
  if (value === null || value === undefined || value === false) return "";
  if (value === true) return "1";
  if (typeof value !== "object") return String(value);
  const pad = " ".repeat(indent);
  const entries = Object.entries(value as Record<string, unknown>);
  const lines = entries.map(([k, v]) => `${pad}    [${k}] => ${printR(v, indent + 8)}\n`);
  return `Array\n${pad}(\n${lines.join("")}${pad})\n`;
}

/** checkForIds' refusal of a record without its (required) id fields. */
function requireIds(
  idFields: string[],
  record: Record<string, unknown>,
  index: number,
  required: (field: string) => boolean = () => true,
): void {
  const missing = idFields.some((f) => {
    const v = ownValue(record, f);
    return (v === undefined || v === null) && required(f);
  });
  if (missing) {
    throw new DfError(400, `Required id field(s) not found in record ${index}: ${printR(record)}`);
  }
}

function hasKey(record: Record<string, unknown>, field: string): boolean {
  if (field in record) return true;
  const lower = field.toLowerCase();
  return Object.keys(record).some((k) => k.toLowerCase() === lower);
}

function asRecord(record: unknown): Record<string, unknown> {
  if (!record || typeof record !== "object" || Array.isArray(record)) {
    throw new DfError(400, "No valid fields were found in record.");
  }
  return record as Record<string, unknown>;
}

/**
 * The current time on a write: df-sqldb's Table::getCurrentTimestamp is SqliteSchema's
 * getTimestampForSet, `raw("datetime('now')")`, a Laravel expression written into the statement
 * rather than bound (so a failing statement's message shows `datetime('now')`). SQLite stores
 * UTC `Y-m-d H:i:s`.
 */
export const CURRENT_TIMESTAMP: unique symbol = Symbol("datetime('now')");

/** A parsed column value: bound, or the inlined current time. */
export type WriteValue = SqlValue | typeof CURRENT_TIMESTAMP;

/** A record parsed for writing: column values and related payloads. */
export interface ParsedRecord {
  values: Map<string, WriteValue>;
  related: { name: string; value: unknown }[];
}

/** A value's placeholder: `?`, or the inlined expression. */
function placeholder(v: WriteValue): string {
  return v === CURRENT_TIMESTAMP ? "datetime('now')" : "?";
}

/** The bound values of a parsed record (inlined expressions left out). */
function bound(values: Iterable<WriteValue>): SqlValue[] {
  return [...values].filter((v): v is SqlValue => v !== CURRENT_TIMESTAMP);
}

/** `insert into` for a parsed record, with its bound values. */
export function insertStatement(
  table: TableInfo,
  parsed: ParsedRecord,
): { sql: string; params: SqlValue[] } {
  const cols = [...parsed.values.keys()];
  if (cols.length === 0) return { sql: `insert into ${q(table.name)} default values`, params: [] };
  const marks = [...parsed.values.values()].map(placeholder).join(", ");
  return {
    sql: `insert into ${q(table.name)} (${cols.map(q).join(", ")}) values (${marks})`,
    params: bound(parsed.values.values()),
  };
}

/** The `set` list of an update for a parsed record, with its bound values. */
export function setList(parsed: ParsedRecord): { sql: string; params: SqlValue[] } {
  return {
    sql: [...parsed.values].map(([c, v]) => `${q(c)} = ${placeholder(v)}`).join(", "),
    params: bound(parsed.values.values()),
  };
}

/**
 * DreamFactory's `parseRecord`: walks the table's fields in order, fills automatic fields,
 * drops unknown keys (and auto-increment values on update), enforces NOT NULL and required fields.
 */
export function parseRecord(
  table: TableInfo,
  record: Record<string, unknown>,
  forUpdate: boolean,
  userId: number | null,
  skip: string[] = [],
): ParsedRecord {
  const values = new Map<string, WriteValue>();
  let given = 0;
  for (const f of table.fields) {
    switch (f.type) {
      case "timestamp_on_create":
        if (!forUpdate) values.set(f.name, CURRENT_TIMESTAMP);
        continue;
      case "timestamp_on_update":
        values.set(f.name, CURRENT_TIMESTAMP);
        continue;
      case "user_id_on_create":
        if (!forUpdate && userId !== null) values.set(f.name, userId);
        continue;
      case "user_id_on_update":
        if (userId !== null) values.set(f.name, userId);
        continue;
    }
    if (!hasKey(record, f.name)) {
      if (!forUpdate && !f.allowNull && f.default === null && !f.autoIncrement) {
        // parseRecord names the field by its lower-cased name in both NULL messages.
        throw new DfError(400, `Required field '${f.name.toLowerCase()}' can not be NULL.`);
      }
      continue;
    }
    // df-database's parseRecord drops the id only on update; on create an explicit id is
    // inserted as given (df-sqldb uses insertGetId only when the record has no id).
    if ((forUpdate && f.autoIncrement) || skip.includes(f.name)) continue;
    let value = valueOf(record, f.name);
    if (
      Array.isArray(value) && value.length === 0 && !["json", "jsonb", "array"].includes(f.type)
    ) {
      value = null;
    }
    if (value === null && !f.allowNull) {
      throw new DfError(400, `Field '${f.name.toLowerCase()}' can not be NULL.`);
    }
    if (value && typeof value === "object" && !Array.isArray(value) && "expression" in value) {
      throw new DfError(
        400,
        `Field '${f.name}': SQL expressions are not supported by the sandbox; send a plain value.`,
      );
    }
    values.set(f.name, toSqlValue(f.type, f.name, value, f.allowNull));
    given++;
  }
  const related: { name: string; value: unknown }[] = [];
  for (const rel of table.related) {
    if (hasKey(record, rel.name)) {
      related.push({ name: rel.name, value: valueOf(record, rel.name) });
    }
  }
  // Only a create needs something to write; an update with nothing known skips the UPDATE and
  // still answers the id (df-sqldb's addToTransaction: `if (!empty($parsed))`).
  if (!forUpdate && given === 0 && related.length === 0 && values.size === 0) {
    throw new DfError(400, "No valid fields were found in record.");
  }
  return { values, related };
}

/** Typed identifier object of a row, from the values just written. */
function idOutput(
  table: TableInfo,
  idFields: string[],
  rowid: number,
  db: DatabaseSync,
): Record<string, unknown> {
  if (
    idFields.length === 1 && table.primaryKey.length === 1 && idFields[0] === table.primaryKey[0]
  ) {
    const f = table.byName.get(idFields[0].toLowerCase())!;
    if (f.autoIncrement && isIntegerType(f.type)) return { [f.name]: rowid };
  }
  const items = idFields.map((n) => {
    const f = table.byName.get(n.toLowerCase())!;
    return { sql: q(f.name), key: f.name, type: f.type };
  });
  const { sql, params } = selectSql({ table, items, where: { sql: "rowid = ?", params: [rowid] } });
  const raw = all(db, sql, params)[0];
  return raw ? typedRow(items, raw) : {};
}

/** Answers one `_table` request. */
export function handleTable(
  env: DbEnv,
  ctx: RequestContext,
  tableName: string,
  id: string | undefined,
): Response {
  const table = env.catalog.describe(tableName);
  if (!table) throw new DfError(404, `Table "${tableName}" does not exist in the database.`);
  const r = new TableRequest(env, ctx, table);
  switch (ctx.method) {
    case "GET":
      return id !== undefined ? getOne(r, id) : getMany(r);
    case "POST":
      if (id !== undefined) {
        throw new DfError(400, "Create record by identifier not currently supported.");
      }
      return post(r);
    case "PUT":
    case "PATCH":
      return id !== undefined ? patchOne(r, id) : patchMany(r);
    case "DELETE":
      return id !== undefined ? deleteOne(r, id) : deleteMany(r);
  }
  throw unhandledVerb(ctx.method);
}

/**
 * df-database's retrieveRecordById, patchRecordById, updateRecordById and deleteRecordById answer
 * the record's own error from the batch, but wrap an error raised outside the record loop
 * (initTransaction's "Identifying field(s) could not be determined.", the rollback/continue
 * check, commitTransaction) in a 500 naming the operation.
 */
function outsideLoop<T>(r: TableRequest, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    const verb = { GET: "retrieve", PUT: "update", PATCH: "patch", DELETE: "delete" }[r.ctx.method];
    throw new DfError(
      500,
      `Failed to ${verb} records from '${r.table.name}'.\n${toDfError(e).message}`,
    );
  }
}

function getOne(r: TableRequest, id: string): Response {
  const idFields = outsideLoop(r, () => r.idFields());
  const many = urlIds(idFields, id);
  const batched = batchedByIds(r, many, idFields);
  // Batched ids are read by commitTransaction, outside the record loop: retrieveRecordById wraps
  // its failure.
  const order = batched ? outsideLoop(r, () => checkBatchedRead(r, idFields, many)) : NO_CLAUSE;
  const one = (id: string) => {
    // addToTransaction's runQuery for this id alone: its failure is this id's error.
    if (!batched) r.checkIdsRead(r.idCondition(idFields, id), r.idReadLimit());
    const rowid = r.rowidOf(idFields, id);
    const fields = r.getFields();
    if (fields === undefined && r.related().length === 0) return fullRow(r, rowid);
    return r.output(rowid, idFields, fields);
  };
  if (many.length > 1) {
    return json(
      firstOfMany(
        r,
        many,
        "retrieved",
        { continueOnError: r.flag("continue"), rollback: false },
        one,
        batched ? (out) => batchedOrder(r, idFields, many, order, out) : undefined,
      ),
    );
  }
  return json(one(many[0]));
}

/**
 * The ids of a by-id URL: df-database's *RecordById hand the id to *RecordsByIds, whose
 * validateAsArray splits it at commas (a composite key's values stay together here).
 */
function urlIds(idFields: string[], id: string): string[] {
  return idFields.length === 1 ? splitIds(id) : [id];
}

/** DataValidator::validateAsArray on a comma list: commas trimmed from the ends, each id
 * trimmed, an empty id inside kept. */
function splitIds(raw: string): string[] {
  return raw.replace(/^,+|,+$/g, "").split(",").map((s) => s.trim());
}

/**
 * A by-id call naming several ids (`_table/t/1,2`): every id is processed as *RecordsByIds does
 * (stop at the first failure unless `continue`, undone with `rollback`), and the answer is the
 * first id's result, or its error (BatchException::pickResponse(0)), whatever befell the others.
 * Ids batched by `continue` are answered as `sortBatched` puts them (commitTransaction's query).
 */
function firstOfMany(
  r: TableRequest,
  ids: string[],
  verb: BatchVerb,
  mode: BatchMode,
  fn: (id: string) => unknown,
  sortBatched?: (out: unknown[]) => unknown[],
): unknown {
  let first: { error: unknown } | undefined;
  try {
    const out = runBatch(r.db, ids, verb, mode, (id, i) => {
      try {
        return fn(id);
      } catch (e) {
        if (i === 0) first = { error: e };
        throw e;
      }
    });
    // Reads and deletes batched by `continue`: the first of commitTransaction's results.
    return (sortBatched ? sortBatched(out) : out)[0];
  } catch (e) {
    if (!(e instanceof DfError) || e.code !== 1000) throw e;
    if (first) throw first.error;
    return (e.context as { resource: unknown[] }).resource[0];
  }
}

function fullRow(r: TableRequest, rowid: number): Record<string, unknown> {
  const items = r.fieldItems(undefined);
  const { sql, params } = selectSql({
    table: r.table,
    items,
    where: { sql: "rowid = ?", params: [rowid] },
  });
  const raw = all(r.db, sql, params)[0];
  return raw ? typedRow(items, raw) : {};
}

function readIds(r: TableRequest, ids: string[]): Response {
  const idFields = r.idFields();
  const batched = batchedByIds(r, ids, idFields);
  const order = batched ? checkBatchedRead(r, idFields, ids) : NO_CLAUSE;
  const related = r.related();
  const results: unknown[] = [];
  const failed: number[] = [];
  // retrieveRecordsByIds stops at the first missing record unless `continue` is set.
  const continueOnError = r.flag("continue");
  for (const [i, id] of ids.entries()) {
    try {
      // addToTransaction's runQuery for this id alone: its failure is this id's batch error.
      if (!batched) r.checkIdsRead(r.idCondition(idFields, id), r.idReadLimit());
      const rowid = r.rowidOf(idFields, id);
      const items = r.idsReadItems();
      const { sql, params } = selectSql({
        table: r.table,
        items,
        where: { sql: "rowid = ?", params: [rowid] },
      });
      const row = typedRow(items, all(r.db, sql, params)[0]);
      attachRelated(r.db, r.env.catalog, r.table, row, related, r.env.maxRecords);
      results.push(row);
    } catch (e) {
      failed.push(i);
      results.push(toDfError(e).toBatchEntry());
      if (!continueOnError) break;
    }
  }
  if (failed.length > 0) {
    throw new DfError(400, "Batch Error: Not all requested records could be retrieved.", {
      code: 1000,
      context: { error: failed, resource: results },
    });
  }
  return json(wrap(batched ? batchedOrder(r, idFields, ids, order, results) : results));
}

/**
 * df-sqldb's addToTransaction reads or deletes id by id, in the ids' order, unless `continue` is
 * set for several ids of a one-field key ($needToIterate is false): then the ids are batched and
 * commitTransaction answers its one whereIn query as it comes (when every id was found).
 */
function batchedByIds(r: TableRequest, ids: string[], idFields: string[]): boolean {
  return r.flag("continue") && ids.length > 1 && idFields.length === 1;
}

/**
 * Whether a delete of `ids` answers in key order: batched, and no `order` given. (Batched deletes
 * with an `order` are still answered in the ids' order here, and their `fields`/`order`/`group`
 * are not checked as commitTransaction's runQuery would: only reads follow it so far.)
 */
function deletedInKeyOrder(r: TableRequest, ids: string[], idFields: string[]): boolean {
  return batchedByIds(r, ids, idFields) && r.opt("order") === undefined;
}

/**
 * commitTransaction's runQuery over ids batched by `continue` (`whereIn(<key>, ids)`, the
 * request's own limit): `fields`, `order` and `group` fail the read as a whole, not as one id's
 * error, before any id is matched to a record. An id checkForIds cannot type fails in the record
 * loop, before that query runs: then nothing is checked here. Returns the ORDER BY.
 */
function checkBatchedRead(r: TableRequest, idFields: string[], ids: string[]): Clause {
  const key = r.table.byName.get(idFields[0].toLowerCase())!;
  let values: SqlValue[];
  try {
    values = ids.map((id) => toSqlValue(key.type, key.name, id));
  } catch {
    return NO_CLAUSE;
  }
  const where = and({
    sql: `${q(key.name)} in (${values.map(() => "?").join(", ")})`,
    params: values,
  }, r.role);
  return r.checkIdsRead(where, r.page().limit);
}

/**
 * The results of batched `ids` (one each, all found) in the order of commitTransaction's
 * whereIn query: SQLite's sort by `order` when it sorts by something (the same query on the
 * key, so ties come as SQLite walks it), else the key's order ({@link inKeyOrder}).
 */
function batchedOrder<T>(
  r: TableRequest,
  idFields: string[],
  ids: string[],
  order: Clause,
  results: T[],
): T[] {
  if (!order.sql) return inKeyOrder(ids, results);
  const key = r.table.byName.get(idFields[0].toLowerCase())!;
  const values = ids.map((id) => toSqlValue(key.type, key.name, id));
  const sorted = all(
    r.db,
    `SELECT rowid AS r FROM ${q(r.table.name)} WHERE ${q(key.name)} IN (${
      values.map(() => "?").join(", ")
    }) ORDER BY ${order.sql}`,
    values,
  ).map((row) => Number(row.r));
  const rank = new Map(sorted.map((rowid, i) => [rowid, i]));
  const position = ids.map((id) => rank.get(r.findRowid(idFields, id) ?? -1) ?? sorted.length);
  return results.map((_, i) => i).sort((a, b) => position[a] - position[b]).map((i) => results[i]);
}

/** The results of `ids` in the order SQLite walks the key's index (numbers, then text). */
function inKeyOrder<T>(ids: string[], results: T[]): T[] {
  const key = (i: number) => /^-?\d+$/.test(ids[i]) ? Number(ids[i]) : ids[i];
  const order = results.map((_, i) => i).sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return typeof x === typeof y ? (x < y ? -1 : x > y ? 1 : 0) : typeof x === "number" ? -1 : 1;
  });
  return order.map((i) => results[i]);
}

function getMany(r: TableRequest): Response {
  const ids = r.ids();
  if (ids) return readIds(r, ids);
  const payload = r.ctx.payload as Record<string, unknown> | undefined;
  if (payload && typeof payload === "object") {
    const records = Array.isArray(payload)
      ? payload
      : Array.isArray(payload.resource)
      ? payload.resource as unknown[]
      : null;
    if (records && records.length > 0 && r.filterOpt() === undefined) {
      const idFields = r.idFields();
      return readIds(
        r,
        records.map((rec) => idFields.map((f) => String(valueOf(asRecord(rec), f))).join(",")),
      );
    }
  }
  const max = r.env.maxRecords;
  const { limit, offset, capped: needLimit } = r.page();
  // retrieveRecordsByFilter wraps what is not a RestException (the database's errors, a filter
  // SQLite refuses included, Laravel's order-direction check) in a 500 naming the table.
  try {
    // df-sqldb's runQuery answers count_only before it looks at fields, order or group.
    if (r.flag("count_only")) {
      const c = countSql({ table: r.table, items: [], where: r.where() });
      return json(Number(scalar(r.db, c.sql, c.params)));
    }
    return readPage(r, max, limit, offset, needLimit);
  } catch (e) {
    throw wrapFailure(e, `Failed to retrieve records from '${r.table.name}'.`);
  }
}

/** One page of a filtered read: runQuery's select, order, group, limit and meta. */
function readPage(
  r: TableRequest,
  max: number,
  limit: number,
  offset: number,
  needLimit: boolean,
): Response {
  const asList = r.flag("as_list");
  const idFields = asList ? r.idFields() : [];
  const related = asList ? [] : r.related();
  const items = withRelationKeys(
    r.table,
    asList
      ? idFields.map((n) => {
        const f = r.table.byName.get(n.toLowerCase())!;
        return { sql: q(f.name), key: f.name, type: f.type };
      })
      : parseFields(r.table, r.getFields()),
    related,
  );
  const where = r.where();
  const order = parseOrder(r.table, r.opt("order", "sort", "order_by"), items);
  const spec: SelectSpec = {
    table: r.table,
    items,
    where,
    order,
    group: parseGroup(r.table, r.opt("group", "group_by"), items, order),
    limit,
    offset,
  };
  const includeCount = r.flag("include_count");
  const meta: Record<string, unknown> = {};
  if (includeCount || needLimit) {
    const c = countSql(spec);
    const count = Number(scalar(r.db, c.sql, c.params));
    if (includeCount || count > max) meta.count = count;
    if (count - offset > limit) meta.next = offset + limit;
  }
  if (r.flag("include_schema")) {
    meta.schema = tableToJson(r.table, r.env.serviceId, r.grant?.verbMask ?? 0);
  }
  // Rows are serialised as they are read, so only the JSON text of one page is ever held.
  const parts: string[] = [];
  forEachRow(r.db, r.env.catalog, spec, related, max, (row) => {
    if (asList) {
      const vals = idFields.map((f) => row[f]);
      parts.push(JSON.stringify(vals.length === 1 ? vals[0] : `(${vals.join(",")})`));
    } else parts.push(JSON.stringify(row));
  });
  const metaText = Object.keys(meta).length > 0 ? `,"meta":${JSON.stringify(meta)}` : "";
  return new Response(`{"resource":[${parts.join(",")}]${metaText}}`, {
    status: 200,
    headers: { "Content-Type": "application/json", "Cache-Control": "no-cache, private" },
  });
}

/**
 * The records of a POST, PUT or PATCH body: df-database's handlePost/handlePUT/handlePatch refuse
 * an empty list as they refuse a missing one (`if (empty($records))`).
 */
function writeRecordsOf(payload: unknown): Record<string, unknown>[] {
  const records = recordsOf(payload);
  if (records.length === 0) throw new DfError(400, NO_RECORDS_MESSAGE);
  return records;
}

function post(r: TableRequest): Response {
  const records = writeRecordsOf(r.ctx.payload);
  const mode = r.batch();
  if (keyless(r)) {
    // createRecords' initTransaction does not require ids: with none (no primary key, or an
    // id_field naming no column) addToTransaction inserts and answers [$idName => $id] with both
    // null, i.e. {"": null}; nothing is queued, so commitTransaction reads nothing back even for
    // fields/related.
    return json(wrap(runBatch(r.db, records, "created", mode, (rec) => {
      r.insert(rec);
      return { "": null };
    })));
  }
  const idFields = r.idFields();
  // createRecords' checkForIds (on create) requires only id fields the schema requires.
  const required = (n: string) => isRequired(r.table.byName.get(n.toLowerCase())!);
  return json(wrap(writeBatch(r, records, "created", mode, idFields, (rec, i) => {
    if (rec && typeof rec === "object" && !Array.isArray(rec)) {
      requireIds(idFields, rec, i, required);
    }
    return r.insert(rec);
  })));
}

/** True when getIdsInfo finds no identifying field (no primary key, or unknown id_field). */
function keyless(r: TableRequest): boolean {
  try {
    r.idFields();
    return false;
  } catch {
    return true;
  }
}

/**
 * Runs a create or update batch. Each entry is the record's ids; the fields and related records
 * asked for are read only once every record is written (df-sqldb's addToTransaction answers
 * [id => value] and only commitTransaction, never reached on a failure, reads more), so a batch
 * error lists ids only.
 */
function writeBatch<T>(
  r: TableRequest,
  items: T[],
  verb: "created" | "updated",
  mode: BatchMode,
  idFields: string[],
  write: (item: T, index: number) => Written,
): unknown[] {
  const written: Written[] = [];
  const out = runBatch(r.db, items, verb, mode, (item, index) => {
    const w = write(item, index);
    written.push(w);
    if (typeof w !== "number") return w.id;
    return idFields.length > 0 ? idOutput(r.table, idFields, w, r.db) : {};
  });
  if (!r.wantsFullOutput()) return out;
  // commitTransaction reads the records back by id: one never looked up is left out when it does
  // not exist, and none found at all is a 404.
  const rowids: number[] = [];
  for (const w of written) {
    const rowid = typeof w === "number" ? w : r.findRowid(idFields, w.key);
    if (rowid !== undefined) rowids.push(rowid);
  }
  if (rowids.length === 0 && written.length > 0) {
    throw new DfError(404, "No records were found using the given identifiers.");
  }
  return r.outputs(readBackOrder(r, idFields, rowids), idFields);
}

/**
 * The order of commitTransaction's read-back, one query `whereIn(<first id field>, ids)` run
 * through runQuery: `order` when given, else as SQLite walks it (the key's index when the id
 * field is the key, else the table in rowid order); each record once.
 */
function readBackOrder(r: TableRequest, idFields: string[], rowids: number[]): number[] {
  const unique = [...new Set(rowids)];
  const items = r.selectItems();
  const clause = parseOrder(r.table, r.opt("order", "sort", "order_by"), items);
  // The statement quoted by a failure names the ids by rowid (the key's values for an integer key).
  checkClauses({
    table: r.table,
    items,
    where: {
      sql: `${q(idFields[0] ?? "rowid")} in (${unique.map(() => "?").join(", ")})`,
      params: unique,
    },
    order: clause,
    limit: r.env.maxRecords,
    offset: 0,
  });
  if (unique.length < 2) return unique;
  const key = r.table.primaryKey.length === 1 && idFields[0] === r.table.primaryKey[0]
    ? q(idFields[0])
    : "rowid";
  const order = clause.sql || key;
  return all(
    r.db,
    `SELECT rowid AS r FROM ${
      q(r.table.name)
    } WHERE rowid IN (SELECT value FROM json_each(?)) ORDER BY ${order}`,
    [JSON.stringify(unique)],
  ).map((row) => Number(row.r));
}

/** What a batch write did: the rowid written, or (an update with nothing to write) the id it
 * answers without having looked the record up. */
type Written = number | { id: Record<string, unknown>; key: string };

/** Updates the record identified by `id`, or answers its id when there is nothing to write. */
function updateById(r: TableRequest, idFields: string[], id: string, record: unknown): Written {
  if (r.writesNothing(record, idFields)) return { id: r.givenId(idFields, id), key: id };
  const rowid = r.rowidOf(idFields, id);
  r.update(rowid, record, idFields);
  return rowid;
}

function respondRow(r: TableRequest, rowid: number, idFields: string[]): Record<string, unknown> {
  return r.wantsFullOutput() ? r.output(rowid, idFields) : idOutput(r.table, idFields, rowid, r.db);
}

/** {@link respondRow} for the rows of one runQuery (related records read once for all). */
function respondRows(
  r: TableRequest,
  rowids: number[],
  idFields: string[],
): Record<string, unknown>[] {
  return r.wantsFullOutput()
    ? r.outputs(rowids, idFields)
    : rowids.map((rowid) => idOutput(r.table, idFields, rowid, r.db));
}

function patchOne(r: TableRequest, id: string): Response {
  // patchRecordById/updateRecordById first run validateAsArray($record, null, false, ...): a
  // missing, empty or scalar body is refused; a JSON list is a PHP array whose keys (0, 1, ...)
  // name no column, so nothing is written.
  const payload = r.ctx.payload;
  if (!payload || typeof payload !== "object" || Object.keys(payload).length === 0) {
    throw new DfError(400, "The request contains no valid record fields.");
  }
  const record = Array.isArray(payload) ? {} : payload;
  let mode: BatchMode | undefined;
  const idFields = outsideLoop(r, () => {
    mode = r.batch();
    return r.idFields();
  });
  const one = (id: string) => {
    const w = updateById(r, idFields, id, record);
    if (typeof w === "number") return respondRow(r, w, idFields);
    if (!r.wantsFullOutput()) return w.id;
    const rowid = r.findRowid(idFields, id);
    if (rowid === undefined) {
      // commitTransaction's read-back finds nothing: a NotFoundException outside the loop.
      outsideLoop(r, () => {
        throw new DfError(404, "No records were found using the given identifiers.");
      });
    }
    return r.output(rowid!, idFields);
  };
  const many = urlIds(idFields, id);
  if (many.length > 1) return json(firstOfMany(r, many, "updated", mode!, one));
  return json(runSingle(r, () => one(many[0])));
}

/** Runs a by-id write atomically, returning the inner error directly (no batch wrapper). */
function runSingle<T>(r: TableRequest, fn: () => T): T {
  r.db.exec("SAVEPOINT single_write");
  try {
    const out = fn();
    r.db.exec("RELEASE single_write");
    return out;
  } catch (e) {
    r.db.exec("ROLLBACK TO single_write");
    r.db.exec("RELEASE single_write");
    throw e;
  }
}

function patchMany(r: TableRequest): Response {
  const ids = r.ids();
  const mode = r.batch();
  if (ids) {
    const records = writeRecordsOf(r.ctx.payload);
    const idFields = r.idFields();
    const out = writeBatch(
      r,
      ids,
      "updated",
      mode,
      idFields,
      (id) => updateById(r, idFields, id, records[0]),
    );
    return json(wrap(out));
  }
  const records = writeRecordsOf(r.ctx.payload);
  if (r.filterOpt() !== undefined) {
    const idFields = r.wantsFullOutput() ? [] : r.idFields();
    // df-sqldb's updateRecordsByFilter wraps what is not a RestException (a filter SQLite refuses,
    // the UPDATE's own failure, the query after it) in a 500 naming the table.
    try {
      runSingle(r, () => {
        const parsed = parseRecord(r.table, asRecord(records[0]), true, r.ctx.session.userId);
        if (parsed.values.size > 0 && r.matchToTemp() > 0) {
          const set = setList(parsed);
          run(
            r.db,
            `update ${q(r.table.name)} set ${set.sql} where rowid IN (SELECT r FROM ${MATCH})`,
            set.params,
          );
          r.checkRoleMatched();
        }
      });
      // It answers by running the query again after the UPDATE: rows that no longer match are
      // left out, and limit/offset/order apply to the answer. The UPDATE is not in a
      // transaction: when that query fails (its order, say) the rows stay updated.
      const page = r.filterPage();
      return json(wrap(respondRows(r, page.rowids, idFields), page.meta));
    } catch (e) {
      throw wrapFailure(e, `Failed to update records in '${r.table.name}'.`);
    }
  }
  const idFields = r.idFields();
  const out = writeBatch(r, records, "updated", mode, idFields, (rec, i) => {
    const record = asRecord(rec);
    requireIds(idFields, record, i);
    return updateById(r, idFields, idFields.map((f) => String(record[f])).join(","), record);
  });
  return json(wrap(out));
}

function deleteOne(r: TableRequest, id: string): Response {
  let mode: BatchMode | undefined;
  const idFields = outsideLoop(r, () => {
    mode = r.batch();
    return r.idFields();
  });
  const one = (id: string) => {
    const rowid = r.rowidOf(idFields, id);
    const result = respondRow(r, rowid, idFields);
    r.delete(rowid);
    return result;
  };
  const many = urlIds(idFields, id);
  if (many.length > 1) {
    const inOrder = deletedInKeyOrder(r, many, idFields);
    return json(
      firstOfMany(
        r,
        many,
        "deleted",
        mode!,
        one,
        inOrder ? (out) => inKeyOrder(many, out) : undefined,
      ),
    );
  }
  return json(runSingle(r, () => one(many[0])));
}

function deleteMany(r: TableRequest): Response {
  const ids = r.ids();
  const mode = r.batch();
  if (ids) {
    const idFields = r.idFields();
    const out = runBatch(r.db, ids, "deleted", mode, (id) => {
      const rowid = r.rowidOf(idFields, id);
      const result = respondRow(r, rowid, idFields);
      r.delete(rowid);
      return result;
    });
    return json(wrap(deletedInKeyOrder(r, ids, idFields) ? inKeyOrder(ids, out) : out));
  }
  if (r.filterOpt() !== undefined) {
    const idFields = r.wantsFullOutput() ? [] : r.idFields();
    // df-sqldb's deleteRecordsByFilter runs runQuery (order, take/skip, capped at max records)
    // and then deletes through the same builder: only that page is deleted and answered. A
    // failing query (a filter SQLite refuses, say) deletes nothing; it and a failing DELETE (a
    // foreign key) are wrapped in a 500 naming the table.
    let out: { result: Record<string, unknown>[]; meta?: Record<string, unknown> };
    try {
      out = runSingle(r, () => {
        const page = r.filterPage();
        const result = respondRows(r, page.rowids, idFields);
        if (page.rowids.length > 0) {
          run(
            r.db,
            `delete from ${q(r.table.name)} where rowid IN (SELECT value FROM json_each(?))`,
            [JSON.stringify(page.rowids)],
          );
        }
        return { result, meta: page.meta };
      });
    } catch (e) {
      throw wrapFailure(e, `Failed to delete records from '${r.table.name}'.`);
    }
    return json(wrap(out.result, out.meta));
  }
  const payload = r.ctx.payload;
  let records: Record<string, unknown>[] | null = null;
  try {
    records = recordsOf(payload);
  } catch {
    records = null;
  }
  if (records && records.length > 0) {
    const idFields = r.idFields();
    const out = runBatch(r.db, records, "deleted", mode, (rec) => {
      const rowid = r.rowidOfRecord(idFields, asRecord(rec));
      const result = respondRow(r, rowid, idFields);
      r.delete(rowid);
      return result;
    });
    // deleteRecords hands the records' ids to deleteRecordsByIds.
    const recIds = records.map((rec) =>
      idFields.map((f) => String(valueOf(asRecord(rec), f))).join(",")
    );
    return json(wrap(deletedInKeyOrder(r, recIds, idFields) ? inKeyOrder(recIds, out) : out));
  }
  if (r.flag("force")) {
    runSingle(r, () => {
      if (r.role.sql !== "1") {
        run(r.db, `delete from ${q(r.table.name)} where ${r.role.sql}`, r.role.params);
      } else {
        run(r.db, `delete from ${q(r.table.name)}`);
        const seq = scalar(
          r.db,
          `SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'`,
        );
        if (Number(seq) > 0) {
          run(r.db, `delete from sqlite_sequence where name = ?`, [r.table.name]);
        }
      }
    });
    return json({ success: true });
  }
  throw new DfError(400, "No filter or records given for delete request.");
}

/** `GET _table`: the tables the caller may read (names, or details with `fields=*`). */
export function listTables(env: DbEnv, ctx: RequestContext): Response {
  const names = env.catalog.tableNames().filter((n) => readable(ctx, `_table/${n}`));
  if (toBool(ctx.option("as_list"))) return json(wrap(names));
  const fields = ctx.option("fields", "select");
  if (!fields) return json(wrap(names.map((name) => ({ name }))));
  const wanted = fields.trim() === "*"
    ? null
    : new Set(fields.split(",").map((s) => s.trim().toLowerCase()));
  const list = names.map((name) => {
    const t = env.catalog.describe(name)!;
    const full: Record<string, unknown> = {
      ...tableSummary(t),
      access: maskVerbs(ctx.access(`_table/${name}`)?.verbMask ?? 0),
    };
    if (!wanted) return full;
    return Object.fromEntries(Object.entries(full).filter(([k]) => wanted.has(k)));
  });
  return json(wrap(list));
}

/**
 * ResourcesWrapper::cleanResources on a resource listing (not `as_list`): without `fields` only
 * the identifier (`name`) stays, `*` keeps everything, else the named keys (comma-separated,
 * trimmed, case-sensitive; array_intersect_key keeps the resource's own key order).
 */
export function cleanResources(
  resources: Record<string, unknown>[],
  fields: string | undefined,
): Record<string, unknown>[] {
  if (fields === undefined || fields === "") return resources.map((r) => ({ name: r.name }));
  if (fields === "*") return resources;
  const wanted = new Set(phpTrim(fields, ",").split(",").map((f) => phpTrim(f)));
  return resources.map((r) => Object.fromEntries(Object.entries(r).filter(([k]) => wanted.has(k))));
}

/** Whether the caller may GET a component of this service. */
export function readable(ctx: RequestContext, component: string): boolean {
  const g = ctx.access(component);
  return !!g && (g.verbMask & 1) !== 0;
}
