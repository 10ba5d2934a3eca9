/**
 * The printer's contract, checked over many generated trees (fast-check): whenever printFilter
 * succeeds, DreamFactory's own reading of the output (parseDreamFactoryFilter) means the same as
 * the tree — by the canonical meaning key and by the rows SQLite returns; when it fails, it is a
 * FilterSyntaxError. The forgiving parser reads the canonical output back to the same meaning.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import {
  type ColumnInfo,
  compileFilter,
  type FilterNode,
  FilterSyntaxError,
  type FilterValue,
  normalizeFilter,
  parseDreamFactoryFilter,
  parseFilter,
  printFilter,
} from "../../lib/filter/mod.ts";
import { meaningKey } from "../../lib/filter/normalize.ts";
import { printComparison, provedComparison } from "../../lib/filter/printer.ts";

const COLS: ColumnInfo[] = [
  { name: "id", type: "id" },
  { name: "name", type: "string" },
  { name: "note", type: "text" },
  { name: "age", type: "integer" },
];
const TEXT_FIELDS = ["name", "note"];

/** Benign text: letters, digits, spaces, common punctuation DreamFactory reads fine. */
const benignText = fc.stringMatching(/^[A-Za-z0-9 _.@%-]{0,12}$/);
/** Anything, including quotes, operators, parentheses, commas and unicode. */
const wildText = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.stringMatching(/^[a-c '"=<>!(),%_\\]{0,8}$/),
  fc.constantFrom(
    "O'Brien",
    'say "hi"',
    "'quoted'",
    "a=b",
    "x) and (y",
    "not in",
    "is null",
    "50%",
    "😀",
    "a)and(b",
    "x) || (y",
    "p)&&(q",
    "(a) or (b)",
    "not (x)",
    " NOT ",
    "x is null",
    "a like b",
    " eq ",
    "v NOT IN w",
    "{user.id}",
    "\\'",
    "",
  ),
);

function comparison(text: fc.Arbitrary<string>): fc.Arbitrary<FilterNode> {
  const textCmp = fc.record({
    type: fc.constant("comparison" as const),
    field: fc.constantFrom(...TEXT_FIELDS),
    op: fc.constantFrom(
      "=",
      "!=",
      ">",
      "<=",
      "like",
      "contains",
      "starts with",
      "ends with",
    ) as fc.Arbitrary<"=">,
    negated: fc.boolean(),
    value: fc.oneof(
      { weight: 8, arbitrary: text as fc.Arbitrary<FilterValue> },
      { weight: 1, arbitrary: fc.boolean() as fc.Arbitrary<FilterValue> },
      { weight: 1, arbitrary: fc.constantFrom<FilterValue>({ param: "p" }, -2, 0.5, 7) },
    ),
  }).map((c) => ({
    ...c,
    negated: ["like", "contains", "starts with", "ends with"].includes(c.op) && c.negated,
  }));
  const ageCmp = fc.record({
    type: fc.constant("comparison" as const),
    field: fc.constant("age"),
    op: fc.constantFrom("=", "!=", ">", ">=", "<", "<=") as fc.Arbitrary<"=">,
    negated: fc.constant(false),
    value: fc.nat(60) as fc.Arbitrary<FilterValue>,
  });
  const list = fc.record({
    type: fc.constant("comparison" as const),
    field: fc.constantFrom(...TEXT_FIELDS),
    op: fc.constantFrom("in", "not in") as fc.Arbitrary<"in">,
    negated: fc.constant(false),
    values: fc.array(text as fc.Arbitrary<FilterValue>, { minLength: 1, maxLength: 3 }),
  });
  const nullCmp = fc.record({
    type: fc.constant("comparison" as const),
    field: fc.constantFrom("name", "age"),
    op: fc.constantFrom("is null", "is not null") as fc.Arbitrary<"is null">,
    negated: fc.constant(false),
  });
  return fc.oneof(
    { weight: 4, arbitrary: textCmp },
    { weight: 2, arbitrary: ageCmp },
    { weight: 1, arbitrary: list },
    { weight: 1, arbitrary: nullCmp },
  ) as fc.Arbitrary<FilterNode>;
}

function tree(text: fc.Arbitrary<string>): fc.Arbitrary<FilterNode> {
  const { node } = fc.letrec<{ node: FilterNode }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      comparison(text),
      fc.record({
        type: fc.constantFrom("and" as const, "or" as const),
        children: fc.array(tie("node"), { minLength: 2, maxLength: 3 }),
      }),
      fc.record({ type: fc.constant("not" as const), child: tie("node") }),
    ),
  }));
  return node;
}

/** Rows covering the generated values' interesting cases. */
function sampleDb(): DatabaseSync {
  const d = new DatabaseSync(":memory:");
  d.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, note TEXT, age INTEGER)");
  const ins = d.prepare("INSERT INTO t (name, note, age) VALUES (?, ?, ?)");
  const names = ["", "a", "b", "O'Brien", "abc", "a=b", "50%", null, "x) and (y", "A B", "0", "1"];
  names.forEach((n, i) => ins.run(n, names[(i * 5) % names.length], i % 3 === 0 ? null : i * 7));
  return d;
}

function rows(d: DatabaseSync, node: FilterNode): number[] {
  const c = compileFilter(node, COLS, { mode: "table", params: { ":p": "a" } });
  return d.prepare(`SELECT id FROM t WHERE ${c.sql} ORDER BY id`).all(...c.params).map((r) =>
    (r as { id: number }).id
  );
}

function checkRoundTrip(node: FilterNode, d: DatabaseSync): "printed" | "refused" {
  let printed: string;
  try {
    printed = printFilter(node);
  } catch (e) {
    assert.ok(e instanceof FilterSyntaxError, `printFilter threw ${e}`);
    return "refused";
  }
  const strict = parseDreamFactoryFilter(printed);
  assert.ok(strict, printed);
  assert.equal(meaningKey(strict), meaningKey(node), `DreamFactory reads ${printed} differently`);
  assert.deepEqual(rows(d, strict), rows(d, node), `rows differ for ${printed}`);
  return "printed";
}

Deno.test("printFilter output means the same to DreamFactory: benign values always print", () => {
  const d = sampleDb();
  try {
    fc.assert(
      fc.property(tree(benignText), (node) => {
        // benign values (no quotes/operators/parens/commas) must never be refused, unless the
        // LIKE value holds a word operator DreamFactory would split on, or a placeholder follows
        // contains/starts with/ends with (DreamFactory adds the % before it would substitute)
        const out = checkRoundTrip(node, d);
        if (out === "refused") {
          assert.throws(
            () => printFilter(node),
            /contains '(in|like|not in|is null|gte|lte|ne|eq|gt|lt|all|contains|starts with|ends with)'|does not substitute placeholders/i,
          );
        }
      }),
      { numRuns: 1500 },
    );
  } finally {
    d.close();
  }
});

Deno.test("printFilter output means the same to DreamFactory: hostile values print or are refused", () => {
  const d = sampleDb();
  let printed = 0;
  let refused = 0;
  try {
    fc.assert(
      fc.property(tree(wildText), (node) => {
        if (checkRoundTrip(node, d) === "printed") printed++;
        else refused++;
      }),
      { numRuns: 1500 },
    );
  } finally {
    d.close();
  }
  // both outcomes really happen (the property is not vacuous)
  assert.ok(printed > 300, `printed ${printed}`);
  assert.ok(refused > 50, `refused ${refused}`);
});

Deno.test("canonical output is re-read by the forgiving parser to the same meaning (idempotent)", () => {
  fc.assert(
    fc.property(tree(fc.oneof(benignText, wildText)), (node) => {
      let printed: string;
      try {
        printed = printFilter(node);
      } catch {
        return;
      }
      const again = parseFilter(printed);
      assert.equal(meaningKey(again), meaningKey(node), printed);
      assert.equal(normalizeFilter(printed), printed);
    }),
    { numRuns: 1500 },
  );
});

Deno.test("the plain-value shortcut prints exactly what the proved path prints", () => {
  const tricky = [
    "and",
    "or",
    "like",
    "in",
    "is",
    "null",
    "1e5",
    "-1",
    ":p",
    "%",
    "a b",
    "a=b",
    "'a'",
  ];
  const numbers = [1e21, -1e-7, 0.1, -0, 2 ** 53 + 2, Number.MAX_VALUE, Number.MIN_VALUE];
  const outcome = (print: () => string) => {
    try {
      return print();
    } catch (e) {
      return `refused: ${(e as Error).name}: ${(e as Error).message}`;
    }
  };
  fc.assert(
    fc.property(
      fc.constantFrom("name", "age", "a.b", "user_id", "X1", "a-b", "a b"),
      fc.constantFrom("=", "!=", ">", ">=", "<", "<=", "like"),
      fc.oneof(
        fc.stringMatching(/^[A-Za-z0-9_%@.+:-]{1,12}$/),
        fc.string({ unit: fc.constantFrom(..."aZ09_%@.+:- '\"\\=<>!(),;"), maxLength: 8 }),
        fc.constantFrom(...tricky),
        fc.integer(),
        fc.double(),
        fc.constantFrom(...numbers),
        fc.boolean(),
      ),
      fc.boolean(),
      (field, op, value, inChain) => {
        const c = { type: "comparison", field, op, value, negated: false } as const;
        assert.equal(
          outcome(() => printComparison(c, inChain)),
          outcome(() => provedComparison(c, inChain)),
        );
      },
    ),
    { numRuns: 5000 },
  );
});
