/**
 * `order` and `group` on db tables, as df-sqldb's Table::runQuery hands them to Laravel and
 * SQLite. One sort term goes through Query\Builder::orderBy($field, $direction): the direction
 * must be asc or desc (Laravel throws otherwise) and the field is quoted as an identifier, which
 * SQLite reads as a string constant when no column has that name (its double-quoted-string
 * fallback, on in the SQLite builds PHP links to), so an unknown name sorts by nothing. Several
 * terms go through orderByRaw as written. Group fields that are columns are quoted; others go in
 * raw (parseGroupBy's DB::raw). Only a `;` is refused up front.
 *
 * The sandbox never runs that text. It reads it with a small SQLite-like tokenizer, runs the
 * equivalent built from the schema, and reports the error SQLite would raise for DreamFactory's
 * statement ("no such column: x", 'near "x": syntax error', "2nd ORDER BY term out of range -
 * should be between 1 and 3"). Terms it cannot read that way (expressions, functions, comments,
 * keywords) are refused with a 400 that says so.
 *
 * @module
 */
import { phpTrim } from "../../filter/dreamfactory.ts";
import { DfError, phpEmpty } from "../http.ts";
import type { TableInfo } from "./catalog.ts";
import { q, QueryFailure } from "./sql.ts";

/** One output column of a SELECT: its SQL expression (what a column position refers to). */
export interface ClauseColumn {
  sql: string;
}

/**
 * The errors SQLite would raise for a clause. SQLite's resolveOrderGroupBy walks the terms once
 * (a position below 1 or above 65535 fails there, as does a name that is no column), then checks
 * the remaining positions against the result columns.
 */
export interface ClauseErrors {
  /** Raised while parsing: reported before any other, in the statement's text order. */
  syntax?: string;
  /** The first term failing the walk ("no such column: x", "1st ORDER BY term out of range..."). */
  walk?: string;
  /** The first position beyond the result columns, reported after the walk. */
  position?: string;
}

/** An ORDER BY or GROUP BY clause: DreamFactory's text, the sandbox's SQL, SQLite's errors. */
export interface Clause {
  /** The clause as DreamFactory's SQL holds it ("" for none), for error messages. */
  text: string;
  /** The SQL the sandbox runs instead, built from the schema ("" for none: constants only). */
  sql: string;
  /** What SQLite would answer for `text`. */
  errors: ClauseErrors;
}

/** What a clause can name: the table and its columns, by lower-case name. */
export interface ClauseTable {
  name: string;
  byName: ReadonlyMap<string, { name: string }>;
}

/** No clause. */
export const NO_CLAUSE: Clause = { text: "", sql: "", errors: {} };

/** DreamFactory's (df-sqldb runQuery's) message for an order clause holding a `;`. */
const BAD_ORDER = "Invalid order by clause in request.";
/** DreamFactory's (df-sqldb parseGroupBy's) message for a group field holding a `;`. */
const BAD_GROUP = "Invalid group by clause in request.";

/** SQLite's keywords (sqlite.org/lang_keywords.html), plus TRUE and FALSE. */
const KEYWORDS = new Set(
  ("ABORT ACTION ADD AFTER ALL ALTER ALWAYS ANALYZE AND AS ASC ATTACH AUTOINCREMENT BEFORE BEGIN " +
    "BETWEEN BY CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT CREATE CROSS " +
    "CURRENT CURRENT_DATE CURRENT_TIME CURRENT_TIMESTAMP DATABASE DEFAULT DEFERRABLE DEFERRED " +
    "DELETE DESC DETACH DISTINCT DO DROP EACH ELSE END ESCAPE EXCEPT EXCLUDE EXCLUSIVE EXISTS " +
    "EXPLAIN FAIL FILTER FIRST FOLLOWING FOR FOREIGN FROM FULL GENERATED GLOB GROUP GROUPS HAVING " +
    "IF IGNORE IMMEDIATE IN INDEX INDEXED INITIALLY INNER INSERT INSTEAD INTERSECT INTO IS ISNULL " +
    "JOIN KEY LAST LEFT LIKE LIMIT MATCH MATERIALIZED NATURAL NO NOT NOTHING NOTNULL NULL NULLS OF " +
    "OFFSET ON OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY QUERY RAISE RANGE " +
    "RECURSIVE REFERENCES REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING RIGHT ROLLBACK " +
    "ROW ROWS SAVEPOINT SELECT SET TABLE TEMP TEMPORARY THEN TIES TO TRANSACTION TRIGGER UNBOUNDED " +
    "UNION UNIQUE UPDATE USING VACUUM VALUES VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT TRUE FALSE")
    .split(" "),
);

/** Names SQLite reads as the rowid when no column has them. */
const ROWID_NAMES = new Set(["rowid", "_rowid_", "oid"]);

/** The largest integer SQLite reads as a column position (sqlite3ExprIsInteger: 32 bits). */
const MAX_INTEGER = 2147483647;
/** Positions above this fail during resolveOrderGroupBy's walk, before names are looked up. */
const MAX_POSITION = 0xffff;

type TokKind = "id" | "dq" | "str" | "int" | "," | "." | "*" | ")";

interface Tok {
  kind: TokKind;
  /** The token as written (what SQLite's syntax errors quote). */
  text: string;
  /** Identifier or string value (quotes removed, doubled quotes undone). */
  value: string;
}

/** A term's subject. */
type Primary =
  | { kind: "name"; parts: Tok[] }
  | { kind: "position"; n: number }
  | { kind: "constant" };

interface Term {
  primary: Primary;
  dir?: "ASC" | "DESC";
  nulls?: "FIRST" | "LAST";
}

/** The sandbox's refusal of clause text it cannot evaluate without running it. */
function unsupported(
  what: "order" | "group",
  text: string,
  how = "passes it to the database as raw SQL",
): DfError {
  const terms = what === "order"
    ? "column names, column positions and quoted names, each optionally followed by asc or desc " +
      "and nulls first or nulls last"
    : "column names, column positions and quoted names";
  return new DfError(
    400,
    `The sandbox does not run this ${what} clause: '${text}'. DreamFactory ${how}; the ` +
      `sandbox evaluates only ${terms}.`,
  );
}

const ID_START = /[A-Za-z_\u0080-\uffff]/;
const ID_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const SPACE = /[ \t\n\f\r]/;

/** Splits clause text into tokens; anything beyond names, literals, `,` `.` `*` `)` is refused. */
function tokenize(s: string, refuse: () => DfError): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (SPACE.test(c)) {
      i++;
    } else if (ID_START.test(c)) {
      let j = i + 1;
      while (j < s.length && ID_PART.test(s[j])) j++;
      out.push({ kind: "id", text: s.slice(i, j), value: s.slice(i, j) });
      i = j;
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < s.length && /[0-9]/.test(s[j])) j++;
      // 1.5, 1e3, 1a: numbers SQLite reads as constants or refuses; not evaluated here.
      if (j < s.length && (ID_PART.test(s[j]) || s[j] === ".")) throw refuse();
      out.push({ kind: "int", text: s.slice(i, j), value: s.slice(i, j) });
      i = j;
    } else if (c === '"' || c === "'") {
      let j = i + 1;
      let value = "";
      for (;;) {
        if (j >= s.length) throw refuse(); // unterminated
        if (s[j] === c) {
          if (s[j + 1] === c) {
            value += c;
            j += 2;
            continue;
          }
          break;
        }
        value += s[j++];
      }
      out.push({ kind: c === '"' ? "dq" : "str", text: s.slice(i, j + 1), value });
      i = j + 1;
    } else if (c === "," || c === "." || c === "*" || c === ")") {
      out.push({ kind: c, text: c, value: c });
      i++;
    } else {
      throw refuse();
    }
  }
  return out;
}

function isKeyword(t: Tok | undefined): boolean {
  return t?.kind === "id" && KEYWORDS.has(t.value.toUpperCase());
}

function isWord(t: Tok | undefined, ...words: string[]): boolean {
  return t?.kind === "id" && words.includes(t.value.toUpperCase());
}

export function nearError(text: string): string {
  return `near "${text}": syntax error`;
}

/**
 * Reads the terms of a clause as SQLite's parser would (names of one to three parts, positions,
 * string constants; with `sort`, asc/desc and nulls first/last after each). Stops at the first
 * syntax error, which it returns; `after` is the word DreamFactory's SQL has after the clause.
 */
function parseTerms(
  toks: Tok[],
  sort: boolean,
  after: string,
  refuse: () => DfError,
): { terms: Term[]; syntax?: string } {
  const terms: Term[] = [];
  let i = 0;
  const fail = (t: Tok | undefined) => ({ terms, syntax: nearError(t ? t.text : after) });
  for (;;) {
    const t = toks[i];
    let primary: Primary;
    if (!t || t.kind === "," || t.kind === "*" || t.kind === ")" || t.kind === ".") return fail(t);
    if (t.kind === "int") {
      const n = Number(t.value);
      primary = n <= MAX_INTEGER ? { kind: "position", n } : { kind: "constant" };
      i++;
    } else if (t.kind === "str" && toks[i + 1]?.kind !== ".") {
      primary = { kind: "constant" };
      i++;
    } else {
      if (isKeyword(t)) throw refuse();
      const parts = [t];
      i++;
      while (toks[i]?.kind === ".") {
        if (parts.length === 3) return fail(toks[i]);
        const next = toks[i + 1];
        if (next && (next.kind === "id" || next.kind === "dq" || next.kind === "str")) {
          if (isKeyword(next)) throw refuse();
          parts.push(next);
          i += 2;
        } else {
          return fail(next);
        }
      }
      primary = { kind: "name", parts };
    }
    const term: Term = { primary };
    let closed = false; // a direction or nulls ordering ends what an expression could continue
    if (sort && isWord(toks[i], "ASC", "DESC")) {
      term.dir = toks[i].value.toUpperCase() as "ASC" | "DESC";
      i++;
      closed = true;
    }
    if (sort && isWord(toks[i], "NULLS")) {
      const which = toks[i + 1];
      if (!isWord(which, "FIRST", "LAST")) return fail(which);
      term.nulls = which.value.toUpperCase() as "FIRST" | "LAST";
      i += 2;
      closed = true;
    }
    terms.push(term);
    const next = toks[i];
    if (!next) return { terms };
    if (next.kind === ",") {
      i++;
      continue;
    }
    // Words that can never continue a term are SQLite's syntax error; what may still continue an
    // expression (an operator keyword, `*`) or a LIMIT the user adds is not evaluated here.
    if (isWord(next, "ASC", "DESC", "NULLS", "FIRST", "LAST")) return fail(next);
    if (isKeyword(next)) {
      if (!closed || isWord(next, "LIMIT")) throw refuse();
      return fail(next);
    }
    if (!closed && next.kind === "*") throw refuse();
    return fail(next);
  }
}

/** English ordinal as SQLite prints it ("1st", "2nd", "11th", "23rd"). */
function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th"}`;
}

/** What a name resolves to in a one-table SELECT: a column or the rowid, a constant, an error. */
export type Resolved =
  | { sql: string; column?: string }
  | { constant: true }
  | { error: string };

/**
 * What a name resolves to in a one-table SELECT on `table` (SQLite's rules, DQS on). A column
 * comes back with its `column` name as the table spells it; the rowid without one.
 */
function resolveName(table: ClauseTable, parts: Tok[]): Resolved {
  const values = parts.map((p) => p.value);
  const column = values[values.length - 1];
  const qualifierOk = values.length === 1 ||
    (values[values.length - 2].toLowerCase() === table.name.toLowerCase() &&
      (values.length === 2 || values[0].toLowerCase() === "main"));
  if (qualifierOk) {
    const f = table.byName.get(column.toLowerCase());
    if (f) return { sql: q(f.name), column: f.name };
    if (ROWID_NAMES.has(column.toLowerCase())) return { sql: "rowid" };
  }
  // A double-quoted name that is no column is the string constant it spells.
  if (parts.length === 1 && parts[0].kind === "dq") return { constant: true };
  return { error: `no such column: ${values.join(".")}` };
}

/**
 * What SQLite makes of a name Laravel's Grammar::wrap quoted segment by segment (`a.b` is
 * `"a"."b"`): a column (or the rowid) of `table`, the string constant a one-segment name spells
 * when no column has it, or SQLite's "no such column" for a qualified name it cannot resolve.
 */
export function resolveWrapped(table: ClauseTable, segments: string[]): Resolved {
  return resolveName(table, segments.map((s) => ({ kind: "dq", text: `"${s}"`, value: s })));
}

/** Resolves terms: the SQL for the sandbox and the errors of SQLite's walk and position check. */
function resolveTerms(
  table: TableInfo,
  terms: Term[],
  columns: ClauseColumn[],
  clause: "ORDER" | "GROUP",
): { sql: string; errors: ClauseErrors } {
  const errors: ClauseErrors = {};
  const out: string[] = [];
  const outOfRange = (i: number) =>
    `${ordinal(i + 1)} ${clause} BY term out of range - should be between 1 and ${columns.length}`;
  terms.forEach((term, i) => {
    let sql: string | null = null;
    const p = term.primary;
    if (p.kind === "name") {
      const r = resolveName(table, p.parts);
      if ("error" in r) errors.walk ??= r.error;
      else if ("sql" in r) sql = r.sql;
    } else if (p.kind === "position") {
      if (p.n < 1 || p.n > MAX_POSITION) errors.walk ??= outOfRange(i);
      else if (p.n > columns.length) errors.position ??= outOfRange(i);
      else sql = columns[p.n - 1].sql;
    }
    // A constant sorts nothing (left out of ORDER BY) but makes one group of every row.
    if (sql === null) {
      if (clause === "GROUP") out.push("''");
      return;
    }
    if (term.dir) sql += ` ${term.dir}`;
    if (term.nulls) sql += ` NULLS ${term.nulls}`;
    out.push(sql);
  });
  return { sql: out.join(", "), errors };
}

/** Laravel's Grammar::wrap of a column name (segments quoted, `*` left bare). */
function laravelWrap(field: string): string {
  return field.split(".").map((s) => s === "*" ? s : `"${s.replace(/"/g, '""')}"`).join(".");
}

/**
 * One Query\Builder::orderBy($field, $direction) on SQLite, what df-sqldb's runQuery does with a
 * single sort term and df-core's BaseModel::selectByRequest with every term: Laravel throws for
 * a direction other than asc/desc (any case) before the query runs, then Grammar::wrap quotes
 * each dotted segment of the field, which SQLite resolves as a column or else reads as a string
 * constant that sorts nothing. `clause` is the order text quoted by the sandbox's refusal.
 */
export function orderByTerm(
  table: ClauseTable,
  field: string,
  direction: string,
  clause: string,
): Clause {
  const dir = direction.toLowerCase();
  if (dir !== "asc" && dir !== "desc") {
    throw new QueryFailure('Order direction must be "asc" or "desc".', 500);
  }
  if (field.includes("->")) {
    throw unsupported("order", clause, "hands it to Laravel, which reads it as a JSON path");
  }
  const text = `${laravelWrap(field)} ${dir}`;
  const segments = field.split(".");
  const syntax = wrappedSyntax(segments);
  if (syntax) return { text, sql: "", errors: { syntax } };
  const r = resolveWrapped(table, segments);
  if ("error" in r) return { text, sql: "", errors: { walk: r.error } };
  if ("constant" in r) return { text, sql: "", errors: {} };
  return { text, sql: `${r.sql} ${dir.toUpperCase()}`, errors: {} };
}

/**
 * SQLite's syntax error for a wrapped name in an expression (ORDER BY, GROUP BY): a `*` segment,
 * or a fourth segment; undefined when it parses.
 */
function wrappedSyntax(segments: string[]): string | undefined {
  for (const [i, s] of segments.entries()) {
    if (i === 3) return nearError(".");
    if (s === "*") return nearError("*");
  }
  return undefined;
}

/**
 * One Query\Builder::groupBy($field) on SQLite, what df-core's BaseModel::selectByRequest does
 * with each comma-separated term of `group` (trimmed, not checked): Grammar::wrap quotes the field
 * as for orderBy, so a name no column has is a string constant putting every row in one group;
 * `x as y` is wrapped as an alias (`"x" as "y"`), which SQLite refuses in a GROUP BY. `clause`
 * is the group text quoted by the sandbox's refusal.
 */
export function groupByTerm(table: ClauseTable, field: string, clause: string): Clause {
  const alias = / as /i.test(field) ? field.split(/\s+as\s+/i) : null;
  const name = alias ? alias[0] : field;
  if (!alias && field.includes("->")) {
    throw unsupported("group", clause, "hands it to Laravel, which reads it as a JSON path");
  }
  const text = alias
    ? `${laravelWrap(name)} as "${(alias[1] ?? "").replace(/"/g, '""')}"`
    : laravelWrap(field);
  const segments = name.split(".");
  const syntax = wrappedSyntax(segments) ?? (alias ? nearError("as") : undefined);
  if (syntax) return { text, sql: "", errors: { syntax } };
  const r = resolveWrapped(table, segments);
  if ("error" in r) return { text, sql: "", errors: { walk: r.error } };
  if ("constant" in r) return { text, sql: "''", errors: {} };
  return { text, sql: r.sql, errors: {} };
}

/**
 * Parses `order` as df-sqldb's runQuery applies it to `table`, whose SELECT has `columns`.
 * Throws DreamFactory's 400 for a `;`, and Laravel's "Order direction must be..." (a plain PHP
 * exception the caller wraps) for one term with a direction other than asc/desc.
 */
export function parseOrder(
  table: TableInfo,
  order: string | undefined,
  columns: ClauseColumn[],
): Clause {
  const raw = phpTrim(order ?? "");
  if (phpEmpty(raw)) return NO_CLAUSE;
  if (raw.includes(";")) throw new DfError(400, BAD_ORDER);
  if (!raw.includes(",")) {
    // Builder::orderBy($spaces[0], $spaces[1] ?? 'asc'): words after the direction are ignored
    // (an empty one, from two spaces, is Laravel's exception).
    const spaces = raw.split(" ");
    return orderByTerm(table, spaces[0], spaces.length > 1 ? spaces[1] : "asc", raw);
  }
  // Builder::orderByRaw($order): the text as written.
  const refuse = () => unsupported("order", raw);
  const { terms, syntax } = parseTerms(tokenize(raw, refuse), true, "limit", refuse);
  if (syntax) return { text: raw, sql: "", errors: { syntax } };
  const { sql, errors } = resolveTerms(table, terms, columns, "ORDER");
  return { text: raw, sql, errors };
}

/**
 * Parses `group` as df-sqldb's runQuery and parseGroupBy apply it: fields split at commas, a
 * column is quoted, anything else goes in raw (a `;` in it is DreamFactory's 400). `order` is
 * the ORDER BY clause that follows in DreamFactory's SQL.
 */
export function parseGroup(
  table: TableInfo,
  group: string | undefined,
  columns: ClauseColumn[],
  order: Clause = NO_CLAUSE,
): Clause {
  const raw = phpTrim(group ?? "");
  // fieldsToArray: '*' is no field at all.
  if (phpEmpty(raw) || raw === "*") return NO_CLAUSE;
  const fields = phpTrim(raw, ",").split(",").map((f) => phpTrim(f));
  const known = fields.map((f) => table.byName.get(f.toLowerCase()));
  fields.forEach((f, i) => {
    if (!known[i] && f.includes(";")) throw new DfError(400, BAD_GROUP);
  });
  const text = fields.map((f, i) => known[i] ? laravelWrap(known[i]!.name) : f).join(", ");
  const terms: Term[] = [];
  for (const [i, f] of fields.entries()) {
    const col = known[i];
    if (col) {
      const part = { kind: "dq" as const, text: `"${col.name}"`, value: col.name };
      terms.push({ primary: { kind: "name", parts: [part] } });
      continue;
    }
    const refuse = () => unsupported("group", f);
    const after = i < fields.length - 1 ? "," : order.text ? "order" : "limit";
    const parsed = parseTerms(tokenize(f, refuse), false, after, refuse);
    if (parsed.syntax) return { text, sql: "", errors: { syntax: parsed.syntax } };
    terms.push(...parsed.terms);
  }
  const { sql, errors } = resolveTerms(table, terms, columns, "GROUP");
  return { text, sql, errors };
}

/**
 * The error SQLite raises for a statement with these clauses, if any: syntax errors first, in
 * text order (GROUP BY precedes ORDER BY); then ORDER BY is resolved, then GROUP BY.
 */
export function clauseError(group: Clause, order: Clause): string | undefined {
  return group.errors.syntax ?? order.errors.syntax ?? order.errors.walk ??
    order.errors.position ?? group.errors.walk ?? group.errors.position;
}
