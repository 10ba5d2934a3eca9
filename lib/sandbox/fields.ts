/**
 * `fields` of a system resource, as DreamFactory selects them. DbRequestCriteria's
 * getSelectionCriteria splits the value at commas (`explode(',', $value)`: no trimming, Laravel's
 * TrimStrings only trimmed the whole value) and df-core's BaseModel::selectByRequest, selectById
 * and selectByIds (buildResult too, answering a write) hand that list, after the model's
 * cleanFields, to Eloquent's `get()`/`find()`: nothing checks it against the table's columns.
 * Laravel's Grammar::wrap double-quotes each dotted segment (a lone `*` stays bare) and SQLite
 * resolves the list:
 *
 * - a column, in any case, comes back under its own name (`NAME` is `name`); `rowid`, `oid` and
 *   `_rowid_` are the integer key's column, or a `rowid` column on a table keyed by name;
 * - any other one-segment name is the string constant it spells (SQLite's double-quoted string
 *   fallback, on in the SQLite builds PHP links to), in a column named as SQLite names an
 *   expression, by its text, quotes included: `fields=id,nosuch` answers
 *   `{"id":1,"\"nosuch\"":"nosuch"}`, and `fields=id, name` a `"\" name\""` key;
 * - `*` and `<table>.*` are every column; a qualified name that is no column is SQLite's "no such
 *   column: a.b", another table's `x.*` "no such table: x", and `*` or a fourth segment where
 *   SQLite's grammar has none a syntax error: each DreamFactory's 500 quoting SQLite.
 *
 * Keys keep the SELECT's order (a name given twice keeps its first place) and the model's hidden
 * attributes are left out; the resource's presenter then adds its appended attributes. Laravel's
 * aliases (`a as b`) and JSON paths (`a->b`) are refused with a 400: what the model's casts and
 * hidden list make of a renamed attribute is not modelled.
 *
 * @module
 */
import { type ClauseTable, nearError, resolveWrapped } from "./db/clauses.ts";
import { DfError } from "./http.ts";
import { columnOf, readValue, type Rec, type Row } from "./columns.ts";
import type { ColumnDef, TableDef } from "./tables.ts";

/** One item of the SELECT list. */
type Item =
  | { kind: "all" }
  | { kind: "column"; column: ColumnDef }
  | { kind: "rowid" }
  | { kind: "constant"; key: string; value: string };

/** SQLite's errors for a SELECT list, by the step of preparing the statement that raises them. */
export interface SelectErrors {
  /** Parsing: before anything else, in the statement's text order. */
  syntax?: string;
  /** Expanding `x.*`: after parsing, before any name is resolved. */
  expand?: string;
  /** Resolving names: the result columns before the ORDER BY terms. */
  walk?: string;
}

/** A system resource's `fields`, resolved against its table. */
export interface FieldSelection {
  /** The list after the model's cleanFields (`["*"]` for an absent or empty `fields`). */
  readonly fields: readonly string[];
  readonly items: readonly Item[];
  /** What SQLite would answer instead of rows (nothing when empty). */
  readonly errors: SelectErrors;
  /** Whether the query loads this column (named in any case, or by `*`). */
  loads(column: string): boolean;
}

const clauseTables = new WeakMap<TableDef, ClauseTable>();

/** A system table as clauses.ts resolves names in it (built once per table). */
export function clauseTable(t: TableDef): ClauseTable {
  let c = clauseTables.get(t);
  if (!c) {
    c = { name: t.name, byName: new Map(t.columns.map((col) => [col.name.toLowerCase(), col])) };
    clauseTables.set(t, c);
  }
  return c;
}

/**
 * The token SQLite's parser stops at in a wrapped name whose segments hold a bare `*` it cannot
 * take (only `*` and `name.*` are result columns), or at a fourth segment (names have at most
 * three parts); undefined when it parses.
 */
function syntaxStop(segments: string[]): string | undefined {
  if (segments[0] === "*") return segments.length > 1 ? "." : undefined;
  if (segments[1] === "*") return segments.length > 2 ? "." : undefined;
  if (segments[2] === "*") return "*";
  return segments.length > 3 ? "." : undefined;
}

/**
 * Resolves `fields` against table `t` as DreamFactory's query would; `clean` is the model's
 * cleanFields (Service's, say). Throws only the sandbox's own 400 for an alias or a JSON path.
 */
export function selectFields(
  t: TableDef,
  raw: string | undefined,
  clean?: (fields: string[]) => string[],
): FieldSelection {
  const fields = clean
    ? clean(raw === undefined || raw === "" ? ["*"] : raw.split(","))
    : raw === undefined || raw === ""
    ? ["*"]
    : raw.split(",");
  const table = clauseTable(t);
  const items: Item[] = [];
  const errors: SelectErrors = {};
  for (const field of fields) {
    // Grammar::wrap: stripos($value, ' as ') first, then str_contains($value, '->').
    if (/ as /i.test(field) || field.includes("->")) {
      const what = field.includes("->") && !/ as /i.test(field) ? "a JSON path" : "an alias";
      throw new DfError(
        400,
        `The sandbox does not select this field: '${field}'. DreamFactory hands it to Laravel, ` +
          `which reads it as ${what}; the sandbox selects only names (columns, or the string a ` +
          `quoted unknown name spells).`,
      );
    }
    const segments = field.split(".");
    const stop = syntaxStop(segments);
    if (stop) {
      errors.syntax ??= nearError(stop);
      continue;
    }
    if (segments[segments.length - 1] === "*") {
      if (segments.length === 1 || segments[0].toLowerCase() === t.name.toLowerCase()) {
        items.push({ kind: "all" });
      } else errors.expand ??= `no such table: ${segments[0]}`;
      continue;
    }
    const r = resolveWrapped(table, segments);
    if ("error" in r) errors.walk ??= r.error;
    else if ("constant" in r) {
      // SQLite names the column by the expression's text: the quoted name as Laravel wrote it.
      items.push({ kind: "constant", key: `"${field.replace(/"/g, '""')}"`, value: field });
    } else if (r.column) items.push({ kind: "column", column: columnOf(t, r.column)! });
    else {
      // The rowid is the INTEGER PRIMARY KEY column, under that column's name, when there is one.
      const pk = columnOf(t, t.pk)!;
      items.push(pk.kind === "id" ? { kind: "column", column: pk } : { kind: "rowid" });
    }
  }
  const loaded = new Set<string>();
  for (const item of items) {
    if (item.kind === "all") { for (const c of t.columns) loaded.add(c.name); }
    else if (item.kind === "column") loaded.add(item.column.name);
  }
  return { fields, items, errors, loads: (column) => loaded.has(column) };
}

/**
 * The attributes of `row` the selection loads, in the SELECT's order, without the columns the
 * model hides (the table's hidden ones and `hidden`); `rowid` reads the row's rowid.
 */
export function selectedRecord(
  t: TableDef,
  row: Row,
  sel: FieldSelection,
  hidden: readonly string[] | undefined,
  rowid: () => unknown,
): Rec {
  const out: Rec = {};
  const put = (c: ColumnDef) => {
    if (!c.hidden && !hidden?.includes(c.name)) out[c.name] = readValue(c, row[c.name]);
  };
  for (const item of sel.items) {
    switch (item.kind) {
      case "all":
        t.columns.forEach(put);
        break;
      case "column":
        put(item.column);
        break;
      case "rowid":
        out.rowid = rowid();
        break;
      case "constant":
        out[item.key] = item.value;
    }
  }
  return out;
}
