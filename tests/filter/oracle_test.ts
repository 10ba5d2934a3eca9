/**
 * Differential check against DreamFactory's own algorithm: `fixtures/df_parse_oracle.json` holds
 * what df-core's parseFilterString/parseFilterValue (run under PHP 8.2) produced for ~350 generated
 * filters. The strict reading must give the same error (status and message), the same SQL text
 * and parameters, and where the SQL reaches SQLite, the same rows (or the same failure).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { type DfToken, dreamFactoryTokens } from "../../lib/filter/dreamfactory.ts";
import {
  type ColumnInfo,
  type ComparisonNode,
  compileDreamFactoryFilter,
  FilterError,
} from "../../lib/filter/mod.ts";

interface OracleCase {
  filter: string;
  status?: number;
  message?: string;
  short?: boolean;
  where?: string | null;
  params?: (string | number)[];
}
const oracle = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/df_parse_oracle.json", import.meta.url)),
) as { columns: ColumnInfo[]; params: Record<string, string>; cases: OracleCase[] };

const SQL_OP: Record<string, string> = {
  "=": "=",
  "!=": "!=",
  ">": ">",
  ">=": ">=",
  "<": "<",
  "<=": "<=",
  "like": "LIKE",
  "contains": "LIKE",
  "starts with": "LIKE",
  "ends with": "LIKE",
  "in": "IN",
  "not in": "NOT IN",
  "all": "ALL",
  "is null": "IS NULL",
  "is not null": "IS NOT NULL",
};

/** DreamFactory's SQL text for a token stream (its exact spacing), to compare with the oracle. */
function render(tokens: DfToken[]): string {
  const value = (v: unknown) => {
    if (v && typeof v === "object" && "expression" in v) return String(v.expression);
    if (v && typeof v === "object" && "param" in v) {
      const p = oracle.params[`:${v.param}`];
      if (p?.startsWith("(")) return p; // a placeholder holding an expression is inlined
    }
    return "?";
  };
  const cmp = (c: ComparisonNode) => {
    const col = oracle.columns.find((x) => x.name.toLowerCase() === c.field.toLowerCase())!;
    let out = `"${col.name}" ${c.negated ? "NOT " : ""}${SQL_OP[c.op]}`;
    if (c.values) out += ` (${c.values.map(value).join(",")})`;
    else if (c.op !== "is null" && c.op !== "is not null") out += ` ${value(c.value)}`;
    return out;
  };
  return tokens.map((t) =>
    t.t === "(" || t.t === ")"
      ? t.t
      : t.t === "not"
      ? "NOT"
      : t.t === "op"
      ? ` ${t.op.toUpperCase()} `
      : cmp(t.node)
  ).join("");
}

function table(): DatabaseSync {
  const db = new DatabaseSync(":memory:");
  db.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, age INTEGER, active BOOLEAN, created TEXT, day TEXT, score REAL, ref_id INTEGER, "Title" TEXT)',
  );
  const ins = db.prepare(
    'INSERT INTO t (name, age, active, created, day, score, ref_id, "Title") VALUES (?,?,?,?,?,?,?,?)',
  );
  const names = ["x", "pv", "O'Brien", "smith", "a=b", "", "1", "abc", null];
  for (let i = 0; i < 27; i++) {
    ins.run(
      names[i % 9],
      [1, 42, 0, null][i % 4],
      i % 2,
      "2020-01-05 10:00:00",
      "2020-01-05",
      [1.5, 0][i % 2],
      1 + (i % 2),
      ["x", "pv", "1"][i % 3],
    );
  }
  return db;
}

Deno.test("strict reading agrees with DreamFactory's own algorithm on the oracle fixture", () => {
  const db = table();
  const rows = (sql: string, params: unknown[]) =>
    db.prepare(`SELECT id FROM t WHERE ${sql} ORDER BY id`).all(...(params as string[])).map((r) =>
      r.id
    ).join(",");
  const compared = { errors: 0, sql: 0, rows: 0 };
  try {
    for (const c of oracle.cases) {
      const label = JSON.stringify(c.filter);
      let mine: { sql: string; params: unknown[] } | null | FilterError;
      try {
        mine = compileDreamFactoryFilter(c.filter, oracle.columns, {
          mode: "system",
          params: oracle.params,
        });
      } catch (e) {
        if (!(e instanceof FilterError)) throw e;
        mine = e;
      }
      if (c.status !== undefined) {
        assert.ok(mine instanceof FilterError, `${label}: DreamFactory answers ${c.status}`);
        assert.equal(mine.status, c.status, label);
        if (c.status === 400) assert.equal(mine.message, c.message, label);
        if (c.short) assert.equal(mine.short, true, label);
        compared.errors++;
        continue;
      }
      if (c.where === null) {
        assert.equal(mine, null, `${label}: DreamFactory applies no filter`);
        continue;
      }
      const tokens = dreamFactoryTokens(c.filter)!;
      assert.equal(render(tokens), c.where, label);
      compared.sql++;
      let dfRows: string | null = null;
      try {
        dfRows = rows(c.where!, c.params!);
      } catch { /* DreamFactory's SQL fails in the database */ }
      if (dfRows === null) {
        assert.ok(mine instanceof FilterError, `${label}: DreamFactory's SQL fails in SQLite`);
        assert.ok(mine.status === 500 || /Raw SQL/.test(mine.message), label);
        continue;
      }
      if (mine instanceof FilterError && /Raw SQL/.test(mine.message)) continue; // sandbox refusal
      assert.ok(mine && !(mine instanceof FilterError), `${label}: ${mine}`);
      assert.equal(rows(mine.sql, mine.params), dfRows, label);
      compared.rows++;
    }
  } finally {
    db.close();
  }
  assert.ok(
    compared.errors > 100 && compared.sql > 100 && compared.rows > 50,
    JSON.stringify(compared),
  );
});
