/**
 * SQL compilation: values only ever travel as bound parameters, proven on hostile values both by
 * the shape of the SQL text and by running it on a real SQLite database (node:sqlite).
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import {
  type ColumnInfo,
  compileDreamFactoryFilter,
  compileFilter,
  type FilterNode,
  roleFiltersToNode,
} from "../../lib/filter/mod.ts";
import { combineWithRoleFilters, roleFilterString } from "../../lib/filter/role.ts";

const COLS: ColumnInfo[] = [
  { name: "id", type: "id" },
  { name: "name", type: "string" },
  { name: "age", type: "integer" },
  { name: "active", type: "boolean" },
  { name: "Owner_Id", type: "reference" },
];

/** Every token the compiler may emit; anything else in the SQL would be an injected value. */
const SAFE_TOKEN =
  /\s+|"(?:[^"]|"")*"|\?|!=|>=|<=|=|>|<|\(|\)|,|\b(?:NOT|LIKE|IN|IS|NULL|AND|OR|ALL|CURRENT_TIMESTAMP|CURRENT_DATE|CURRENT_TIME)\b|^[01]$/y;

function assertSafeSql(sql: string) {
  SAFE_TOKEN.lastIndex = 0;
  let at = 0;
  while (at < sql.length) {
    SAFE_TOKEN.lastIndex = at;
    const m = SAFE_TOKEN.exec(sql);
    assert.ok(m && m[0].length > 0, `unexpected SQL text at ${at}: ${sql.slice(at, at + 40)}`);
    at += m[0].length;
  }
  // identifiers are only the known columns
  for (const id of sql.match(/"(?:[^"]|"")*"/g) ?? []) {
    assert.ok(COLS.some((c) => `"${c.name}"` === id), `unknown identifier ${id}`);
  }
}

const HOSTILE = [
  "' OR 1=1 --",
  "x'); DROP TABLE t; --",
  '" OR ""="',
  "/* comment */ 1",
  "-- tail",
  "a\u0000b",
  "日本語 ✓ émoji 🎉",
  "%_\\",
  "x".repeat(10_000),
  "(SELECT 1)",
  ") or (1=1",
  "{user.id}",
];

function db(rows: { id: number; name: string; age: number | null }[]) {
  const d = new DatabaseSync(":memory:");
  d.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, age INTEGER, active INTEGER, "Owner_Id" INTEGER)',
  );
  const ins = d.prepare('INSERT INTO t (id, name, age, active, "Owner_Id") VALUES (?, ?, ?, 1, 1)');
  for (const r of rows) ins.run(r.id, r.name, r.age);
  return d;
}

function select(d: DatabaseSync, where: { sql: string; params: (string | number | null)[] }) {
  return d.prepare(`SELECT id FROM t WHERE ${where.sql} ORDER BY id`).all(...where.params).map((
    r,
  ) => (r as { id: number }).id);
}

const eq = (field: string, value: string | number): FilterNode => ({
  type: "comparison",
  field,
  op: "=",
  negated: false,
  value,
});

Deno.test("hostile values only ever appear as bound parameters (AST path)", () => {
  const rows = HOSTILE.map((name, i) => ({ id: i + 1, name, age: i }));
  const d = db(rows);
  try {
    for (const [i, value] of HOSTILE.entries()) {
      for (const mode of ["system", "table"] as const) {
        const c = compileFilter(eq("name", value), COLS, { mode });
        assertSafeSql(c.sql);
        assert.deepEqual(c.params, [value]);
        assert.deepEqual(
          select(d, c),
          [i + 1],
          `exactly the row named ${JSON.stringify(value.slice(0, 30))}`,
        );
        const list = compileFilter(
          { type: "comparison", field: "name", op: "in", negated: false, values: [value, "zzz"] },
          COLS,
          { mode },
        );
        assertSafeSql(list.sql);
        assert.deepEqual(select(d, list), [i + 1]);
      }
    }
  } finally {
    d.close();
  }
});

Deno.test("hostile filter strings through DreamFactory's parser stay in params", () => {
  const d = db([{ id: 1, name: "a", age: 1 }, { id: 2, name: "b", age: 2 }]);
  try {
    for (
      const f of [
        "name = 'x' OR 1=1 --'",
        "name = x; DROP TABLE t",
        "(name = 'a') or (name = '' OR ''='')",
        "name = /* */ 'a'",
        "name like '%' or 1=1",
        "name in ('a') or 1=1",
        "name contains ') or (1=1'",
      ]
    ) {
      let c;
      try {
        c = compileDreamFactoryFilter(f, COLS, { mode: "table" })!;
      } catch {
        continue; // refused by DreamFactory's rules: also safe
      }
      assertSafeSql(c.sql);
      const ids = select(d, c);
      assert.ok(ids.length <= 1, `${f} matched ${ids}`); // never "everything" via injection
    }
    assert.equal((d.prepare("SELECT count(*) AS n FROM t").get() as { n: number }).n, 2);
  } finally {
    d.close();
  }
});

Deno.test("property: any string value is bound, never spliced (fast-check)", () => {
  const d = db([]);
  try {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ unit: "binary", maxLength: 200 }), fc.constantFrom(...HOSTILE)),
        fc.constantFrom("=", "!=", "like", "contains", "starts with", "ends with", "<", ">="),
        fc.constantFrom("system", "table"),
        (value, op, mode) => {
          const node: FilterNode = {
            type: "or",
            children: [
              { type: "comparison", field: "NAME", op: op as "=", negated: false, value },
              {
                type: "not",
                child: { type: "comparison", field: "age", op: "is null", negated: false },
              },
            ],
          };
          const c = compileFilter(node, COLS, { mode: mode as "system" });
          assertSafeSql(c.sql);
          assert.equal(c.params.length, 1);
          d.prepare(`SELECT id FROM t WHERE ${c.sql}`).all(...c.params); // valid SQL
        },
      ),
      { numRuns: 500 },
    );
  } finally {
    d.close();
  }
});

Deno.test("params, lookups and role row filters", () => {
  assert.deepEqual(
    compileDreamFactoryFilter("(owner_id = {user.id}) and (name = :n)", COLS, {
      mode: "table",
      params: { ":n": "it's" },
      lookups: { "user.id": "9" },
    }),
    { sql: '"Owner_Id" = ? AND "name" = ?', params: [9, "it's"] },
  );
  // a param value holding SQL stays a value
  const c = compileDreamFactoryFilter("name = :n", COLS, {
    mode: "table",
    params: { n: "1) OR (1=1" },
  })!;
  assert.deepEqual(c, { sql: '"name" = ?', params: ["1) OR (1=1"] });

  const filters = [
    { name: "owner_id", operator: "=", value: "{user.id}" },
    { name: "name", operator: "is not null", value: null },
  ];
  assert.equal(roleFilterString(filters, "AND"), "(owner_id = {user.id}) AND (name IS NOT NULL)");
  const node = roleFiltersToNode(filters, "AND")!;
  assert.deepEqual(compileFilter(node, COLS, { mode: "table", lookups: { "user.id": "4" } }), {
    sql: '"Owner_Id" = ? AND "name" IS NOT NULL',
    params: [4],
  });
  assert.equal(roleFiltersToNode([], "OR"), null);
  const combined = combineWithRoleFilters("(age > 1) or (age < 0)", filters, "OR")!;
  assert.equal(
    combined,
    "((age > 1) or (age < 0)) AND ((owner_id = {user.id}) OR (name IS NOT NULL))",
  );
  assert.deepEqual(
    compileDreamFactoryFilter(combined, COLS, { mode: "table", lookups: { "user.id": "4" } }),
    {
      sql: '("age" > ? OR "age" < ?) AND ("Owner_Id" = ? OR "name" IS NOT NULL)',
      params: [1, 0, 4],
    },
  );
  assert.throws(
    () => roleFilterString([{ name: "", operator: "=", value: 1 }], "AND"),
    /server-side filter/,
  );
});

Deno.test("compiled filters run on SQLite with DreamFactory's meaning", () => {
  const d = db([
    { id: 1, name: "Ann", age: 31 },
    { id: 2, name: "Ben", age: 45 },
    { id: 3, name: "Cy", age: 20 },
    { id: 4, name: "O'Brien", age: null as unknown as number },
  ]);
  const run = (f: string) => select(d, compileDreamFactoryFilter(f, COLS, { mode: "table" })!);
  try {
    assert.deepEqual(run("age > 25"), [1, 2]);
    assert.deepEqual(run("(age > 25) and (name like 'B%')"), [2]);
    assert.deepEqual(run("(age < 25) or (age > 40)"), [2, 3]);
    assert.deepEqual(run("(age < 25) or (age > 40) and (name = Ann)"), [3]);
    assert.deepEqual(run("((age < 25) or (age > 40)) and (name != Ben)"), [3]);
    assert.deepEqual(run("NOT ((age < 25) or (age > 40))"), [1]);
    assert.deepEqual(run("age is null"), [4]);
    assert.deepEqual(run("name = 'O'Brien'"), [4]);
    assert.deepEqual(run("name = 'O''Brien'"), []); // doubled quote: matches nothing (§6.2)
    assert.deepEqual(run("name contains n"), [1, 2, 4]);
    assert.deepEqual(run("name not in (Ann, Ben)"), [3, 4]);
    assert.deepEqual(run("name starts with c"), [3]); // LIKE ignores ASCII case on SQLite
    assert.deepEqual(run("name = Ann and age = 31"), []); // ONE comparison: name = 'Ann and age = 31'
  } finally {
    d.close();
  }
});
