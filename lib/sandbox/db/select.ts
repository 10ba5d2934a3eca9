/**
 * The read side of `_table`: parsing `fields` against a table's schema (identifiers are only ever
 * taken from the schema, never from the request; `order` and `group` in clauses.ts), running
 * bounded SELECTs through statement iteration, typing values, and fetching `related` records.
 *
 * @module
 */
import type { DatabaseSync } from "node:sqlite";
import { phpTrim } from "../../filter/dreamfactory.ts";
import { DfError, phpEmpty } from "../http.ts";
import type { Catalog, RelationInfo, TableInfo } from "./catalog.ts";
import { type Clause, clauseError, NO_CLAUSE, parseGroup, parseOrder } from "./clauses.ts";
import { iterate, q, QueryFailure, renderSql, wrapFailure } from "./sql.ts";
import { fromSqlValue, type SqlValue } from "./types.ts";
import { strval } from "../../php.ts";
import { and, clientFilter, type Where } from "./where.ts";

export { parseGroup, parseOrder };

/** One output column: its SQL expression, its key in the JSON record and its DF type. */
export interface SelectItem {
  sql: string;
  key: string;
  type: string;
}

const TEXT_TYPES = new Set([
  "string",
  "text",
  "mediumtext",
  "longtext",
  "json",
  "jsonb",
  "uuid",
  "timeuuid",
  "array",
  "object",
]);

/**
 * The select expression of a column. SQLite hands text back only up to its first NUL byte, so
 * text values holding one are read as a blob and decoded, to come back byte for byte.
 */
export function columnSql(f: { name: string; type: string }): string {
  const c = q(f.name);
  return TEXT_TYPES.has(f.type)
    ? `CASE WHEN instr(${c}, char(0)) > 0 THEN CAST(${c} AS BLOB) ELSE ${c} END`
    : c;
}

/**
 * Parses `fields` (`*` or a comma list of columns) into select items. df-sqldb's
 * Table::parseSelect takes only the table's columns: anything else, an aggregate such as
 * `COUNT(*)` included, is a 400 "Invalid field requested: <f>". Only the whole value `*` means
 * every column; a list is split as fieldsToArray splits it (commas trimmed from the ends, each
 * name trimmed), so a `*` in a list (`id,*`, `*,`) and an empty name inside it (`id,,name`, `,`)
 * are fields no column has. (Undefined or empty: every column; callers apply parseSelect's
 * `id_field`/primary key fallback first where it applies.)
 */
export function parseFields(table: TableInfo, fields: string | undefined): SelectItem[] {
  if (fields === undefined || fields === "" || fields === "*") {
    return table.fields.map((f) => ({ sql: columnSql(f), key: f.name, type: f.type }));
  }
  const out: SelectItem[] = [];
  // array_map('trim', explode(',', trim($fields, ','))); getColumn($field, true) then finds no
  // column for "*" or "" (strcasecmp against each column's name).
  for (const part of phpTrim(fields, ",").split(",").map((s) => phpTrim(s))) {
    const f = table.byName.get(part.toLowerCase());
    if (!f) throw new DfError(400, `Invalid field requested: ${part}`);
    out.push({ sql: columnSql(f), key: f.name, type: f.type });
  }
  return out;
}

/** A `related` request: which relation, with its own fields/limit/order. */
export interface RelatedRequest {
  rel: RelationInfo;
  fields?: string;
  limit?: number;
  order?: string;
  group?: string;
}

/** Everything a bounded SELECT needs. */
export interface SelectSpec {
  table: TableInfo;
  items: SelectItem[];
  where: Where;
  order?: Clause;
  group?: Clause;
  limit?: number;
  offset?: number;
}

/**
 * The statement DreamFactory's Laravel builder sends for a query, as its QueryException quotes
 * it: `select "a", "b" from "t" where ... group by ... order by ... limit n offset m`, bindings
 * spliced in. (The WHERE is the sandbox's rendering of the filter, close to but not always the
 * text df-sqldb's parser produces.)
 */
function dfStatement(spec: SelectSpec): string {
  const cols = spec.items.map((i) => `"${i.key.replace(/"/g, '""')}"`).join(", ");
  let sql = `select ${cols} from "${spec.table.name.replace(/"/g, '""')}"`;
  if (spec.where.sql !== "1") sql += ` where ${renderSql(spec.where.sql, spec.where.params)}`;
  if (spec.group?.text) sql += ` group by ${spec.group.text}`;
  if (spec.order?.text) sql += ` order by ${spec.order.text}`;
  if (spec.limit !== undefined) sql += ` limit ${spec.limit} offset ${spec.offset ?? 0}`;
  return sql;
}

/**
 * Fails, as DreamFactory's query would, when SQLite rejects its ORDER BY or GROUP BY text: a
 * QueryException quoting the statement (see clauses.ts; the sandbox never runs that text).
 */
export function checkClauses(spec: SelectSpec): void {
  const error = clauseError(spec.group ?? NO_CLAUSE, spec.order ?? NO_CLAUSE);
  if (error === undefined) return;
  throw new QueryFailure(`SQLSTATE[HY000]: General error: 1 ${error} (SQL: ${dfStatement(spec)})`);
}

/** The name a SELECT built here gives its `i`-th item (`typedRow` reads rows by it). */
export function columnAlias(i: number): string {
  return `c${i}`;
}

/** Builds the SELECT statement and its bound values (failing as DreamFactory's would). */
export function selectSql(spec: SelectSpec): { sql: string; params: SqlValue[] } {
  checkClauses(spec);
  const cols = spec.items.map((item, i) => `${item.sql} AS "${columnAlias(i)}"`).join(", ");
  let sql = `SELECT ${cols} FROM ${q(spec.table.name)}`;
  const params = [...spec.where.params];
  if (spec.where.sql !== "1") sql += ` WHERE ${spec.where.sql}`;
  if (spec.group?.sql) sql += ` GROUP BY ${spec.group.sql}`;
  if (spec.order?.sql) sql += ` ORDER BY ${spec.order.sql}`;
  if (spec.limit !== undefined) {
    sql += ` LIMIT ? OFFSET ?`;
    params.push(spec.limit, spec.offset ?? 0);
  }
  return { sql, params };
}

/**
 * Builds the COUNT statement matching a SELECT (ignoring limit/offset/order). df-sqldb's runQuery
 * counts before it applies `group`, so the count (count_only, meta.count, meta.next) is of the
 * filtered rows, not of the groups.
 */
export function countSql(spec: SelectSpec): { sql: string; params: SqlValue[] } {
  const where = spec.where.sql !== "1" ? ` WHERE ${spec.where.sql}` : "";
  return {
    sql: `SELECT COUNT(*) FROM ${q(spec.table.name)}${where}`,
    params: [...spec.where.params],
  };
}

/** Converts one raw row into the typed JSON record. */
export function typedRow(
  items: SelectItem[],
  raw: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  items.forEach((item, i) => {
    out[item.key] = fromSqlValue(item.type, raw[columnAlias(i)]);
  });
  return out;
}

/**
 * Reads rows of a SELECT one at a time (statement iteration), typed, and hands each to `each`.
 * Without relations memory stays bounded by one row; with relations the page's rows are held
 * until their related records are attached, since DreamFactory reads each relation once for the
 * whole page (see {@link attachRelatedPage}).
 */
export function forEachRow(
  db: DatabaseSync,
  catalog: Catalog,
  spec: SelectSpec,
  related: RelatedRequest[],
  maxRecords: number,
  each: (row: Record<string, unknown>) => void,
): void {
  const items = withRelationKeys(spec.table, spec.items, related);
  const { sql, params } = selectSql({ ...spec, items });
  if (related.length === 0) {
    for (const raw of iterate(db, sql, params)) each(typedRow(items, raw));
    return;
  }
  const rows: Record<string, unknown>[] = [];
  for (const raw of iterate(db, sql, params)) rows.push(typedRow(items, raw));
  attachRelatedPage(db, catalog, spec.table, rows, related, maxRecords);
  rows.forEach(each);
}

/** Adds the local key columns relations need (DreamFactory returns them too). */
export function withRelationKeys(
  table: TableInfo,
  items: SelectItem[],
  related: RelatedRequest[],
): SelectItem[] {
  const out = [...items];
  for (const r of related) {
    const f = table.byName.get(r.rel.field.toLowerCase());
    if (f && !out.some((i) => i.key === f.name)) {
      out.push({ sql: q(f.name), key: f.name, type: f.type });
    }
  }
  return out;
}

/**
 * BaseDbTableResource::addToFields: whether the relation's match column has to be added to the
 * related `fields` (a list that is neither empty nor `*` and lacks it, by plain substring test).
 * Such a column is only read to map records back and is removed again from each record.
 */
function addsMatchField(fields: string | undefined, name: string): boolean {
  if (fields === undefined || fields === "" || fields === "*") return false;
  return !fields.includes(name); // strpos($fields, $name): spaces after commas do not matter
}

/**
 * Reads the records of `table` matching DreamFactory's internal filter `filter`, as the
 * `_table/<table>` request retrieveVirtualRecords makes: through the filter parser (values
 * split at commas and typed there), with the relation's fields, order, group and limit.
 */
function relatedQuery(
  db: DatabaseSync,
  table: TableInfo,
  filter: string,
  items: SelectItem[],
  opts: { order?: string; group?: string; limit: number },
): Record<string, unknown>[] {
  try {
    const order = parseOrder(table, opts.order, items);
    const spec: SelectSpec = {
      table,
      items,
      where: and(clientFilter(table, filter, {}, {})),
      order,
      group: parseGroup(table, opts.group, items, order),
      limit: opts.limit,
      offset: 0,
    };
    const { sql, params } = selectSql(spec);
    const rows: Record<string, unknown>[] = [];
    for (const raw of iterate(db, sql, params)) rows.push(typedRow(items, raw));
    return rows;
  } catch (e) {
    // The internal request's retrieveRecordsByFilter wraps it; the outer request passes its
    // RestException on as it is.
    throw wrapFailure(e, `Failed to retrieve records from '${table.name}'.`);
  }
}

/**
 * Fetches each requested relation for a page of typed rows and sets it on every row, as
 * BaseDbTableResource::retrieveRelationRecords does: one query per relation for the whole page
 * (`(<ref_field> IN (<the page's distinct values>))`), so the relation's `limit` caps the records
 * of the page, not of each row; each row then takes the records whose match column is strictly
 * equal (`===`) to its value, in the query's order: belongs_to the first or null,
 * has_many/many_many a list. A row whose local value is empty (PHP's `empty()`) gets nothing;
 * many_many reads the junction rows first and follows their order.
 */
export function attachRelatedPage(
  db: DatabaseSync,
  catalog: Catalog,
  table: TableInfo,
  rows: Record<string, unknown>[],
  related: RelatedRequest[],
  maxRecords: number,
): void {
  for (const r of related) {
    const rel = r.rel;
    const single = rel.type === "belongs_to";
    const local = table.byName.get(rel.field.toLowerCase());
    const valueOf = (row: Record<string, unknown>) => local ? row[local.name] : undefined;
    for (const row of rows) row[rel.name] = single ? null : [];
    const target = catalog.describe(rel.refTable);
    const keyField = target?.byName.get(rel.refField.toLowerCase());
    if (!target || !keyField) continue;
    // array_unique + array_filter(!is_null); empty values are left out too (they map to no row).
    const values = [...new Set(rows.map(valueOf).filter((v) => !phpEmpty(v)))];
    if (values.length === 0) continue;
    let items = parseFields(target, r.fields);
    const removeLater = addsMatchField(r.fields, keyField.name);
    if (removeLater) {
      items = [...items, { sql: columnSql(keyField), key: keyField.name, type: keyField.type }];
    }
    const limit = Math.min(r.limit && r.limit > 0 ? r.limit : maxRecords, maxRecords);
    const opts = { order: r.order, group: r.group, limit };
    const matchKey = keyField.name;
    const strip = (rec: Record<string, unknown>) => {
      if (!removeLater) return rec;
      const { [matchKey]: _dropped, ...rest } = rec;
      return rest;
    };
    // implode(): PHP's string conversion of each value (typed rows hold only scalars).
    const inList = (vals: unknown[]) => vals.map(strval).join(",");
    if (rel.type === "many_many") {
      const junction = catalog.describe(rel.junctionTable!);
      const jRef = junction?.byName.get((rel.junctionRefField ?? "").toLowerCase());
      const jField = junction?.byName.get((rel.junctionField ?? "").toLowerCase());
      if (!junction || !jRef || !jField) continue;
      const junctionItems = [jField, jRef].map((f) => ({
        sql: columnSql(f),
        key: f.name,
        type: f.type,
      }));
      const junctionRows = relatedQuery(
        db,
        junction,
        `(${jField.name} IN (${inList(values)})) AND (${jRef.name} IS NOT NULL)`,
        junctionItems,
        { limit: maxRecords },
      );
      const rights = junctionRows.map((j) => j[jRef.name]).filter((v) => v !== null);
      if (rights.length === 0) continue;
      const records = relatedQuery(
        db,
        target,
        `${keyField.name} IN (${inList(rights)})`,
        items,
        opts,
      );
      for (const row of rows) {
        const value = valueOf(row);
        if (phpEmpty(value)) continue;
        const out: Record<string, unknown>[] = [];
        for (const j of junctionRows) {
          if (j[jField.name] !== value) continue;
          for (const rec of records) if (rec[matchKey] === j[jRef.name]) out.push(strip(rec));
        }
        row[rel.name] = out;
      }
      continue;
    }
    const records = relatedQuery(
      db,
      target,
      `(${keyField.name} IN (${inList(values)}))`,
      items,
      opts,
    );
    for (const row of rows) {
      const value = valueOf(row);
      if (phpEmpty(value)) continue;
      const matching = records.filter((rec) => rec[matchKey] === value);
      row[rel.name] = single ? (matching[0] ? strip(matching[0]) : null) : matching.map(strip);
    }
  }
}

/** {@link attachRelatedPage} for one row (a record read or written on its own). */
export function attachRelated(
  db: DatabaseSync,
  catalog: Catalog,
  table: TableInfo,
  row: Record<string, unknown>,
  related: RelatedRequest[],
  maxRecords: number,
): void {
  attachRelatedPage(db, catalog, table, [row], related, maxRecords);
}
