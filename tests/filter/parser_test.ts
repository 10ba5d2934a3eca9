/**
 * The forgiving client reading: what it accepts, how it canonicalises, and the errors (with
 * position and fix) for what DreamFactory would misread.
 */
import assert from "node:assert/strict";
import {
  type FilterNode,
  FilterSyntaxError,
  normalizeFilter,
  parseFilter,
  printFilter,
} from "../../lib/filter/mod.ts";

const cmp = (
  field: string,
  op: string,
  value?: unknown,
  extra: Record<string, unknown> = {},
): FilterNode =>
  ({
    type: "comparison",
    field,
    op,
    negated: false,
    ...(value === undefined ? {} : { value }),
    ...extra,
  }) as FilterNode;

function syntaxError(input: string, pattern: RegExp, suggestion?: string): FilterSyntaxError {
  try {
    normalizeFilter(input);
  } catch (e) {
    assert.ok(e instanceof FilterSyntaxError, `${input}: ${e}`);
    assert.match(e.message, pattern, input);
    if (suggestion !== undefined) assert.equal(e.suggestion, suggestion, input);
    return e;
  }
  assert.fail(`${input} was accepted`);
}

Deno.test("parses every operator and its word form", () => {
  assert.deepEqual(parseFilter("age = 5"), cmp("age", "=", 5));
  assert.deepEqual(parseFilter("age == 5"), cmp("age", "=", 5));
  assert.deepEqual(parseFilter("age <> 5"), cmp("age", "!=", 5));
  for (
    const [w, op] of [["eq", "="], ["NE", "!="], ["gt", ">"], ["GTE", ">="], ["lt", "<"], [
      "lte",
      "<=",
    ]]
  ) {
    assert.deepEqual(parseFilter(`age ${w} 5`), cmp("age", op, 5));
  }
  assert.deepEqual(parseFilter("name like 'J%'"), cmp("name", "like", "J%"));
  assert.deepEqual(parseFilter("name NOT LIKE 'J%'"), cmp("name", "like", "J%", { negated: true }));
  assert.deepEqual(
    parseFilter("id in (1, 2,3)"),
    cmp("id", "in", undefined, { values: [1, 2, 3] }),
  );
  assert.deepEqual(
    parseFilter("id not in ('a', \"b\")"),
    cmp("id", "not in", undefined, { values: ["a", "b"] }),
  );
  assert.deepEqual(parseFilter("x is null"), cmp("x", "is null"));
  assert.deepEqual(parseFilter("x IS NOT NULL"), cmp("x", "is not null"));
  assert.deepEqual(parseFilter("x contains smith"), cmp("x", "contains", "smith"));
  assert.deepEqual(
    parseFilter("x not contains 'a b'"),
    cmp("x", "contains", "a b", { negated: true }),
  );
  assert.deepEqual(parseFilter("x starts with Jo"), cmp("x", "starts with", "Jo"));
  assert.deepEqual(parseFilter("x ends   WITH 'son'"), cmp("x", "ends with", "son"));
  assert.deepEqual(parseFilter("x = :p"), cmp("x", "=", { param: "p" }));
  assert.deepEqual(parseFilter("x = true"), cmp("x", "=", true));
  assert.deepEqual(parseFilter("x = -1.5e3"), cmp("x", "=", "-1.5e3"));
  assert.deepEqual(parseFilter("x = 007"), cmp("x", "=", "007")); // digits kept as written
  assert.deepEqual(parseFilter("email=jo@x.com"), cmp("email", "=", "jo@x.com"));
  assert.deepEqual(parseFilter("x = null"), cmp("x", "is null"));
  assert.deepEqual(parseFilter("x != NULL"), cmp("x", "is not null"));
  assert.deepEqual(
    parseFilter("d > (CURRENT_DATE)"),
    cmp("d", ">", { expression: "(CURRENT_DATE)" }),
  );
});

Deno.test("quoted strings with escapes", () => {
  for (const f of ["name = 'O\\'Brien'", "name = 'O''Brien'", 'name = "O\'Brien"']) {
    assert.deepEqual(parseFilter(f), cmp("name", "=", "O'Brien"), f);
    assert.equal(normalizeFilter(f), `name = "O'Brien"`, f);
  }
  assert.deepEqual(parseFilter('name = "say \\"hi\\""'), cmp("name", "=", 'say "hi"'));
  // DreamFactory's own reading of an inner quote (outer quotes only) is accepted too
  assert.deepEqual(parseFilter("name = 'O'Brien'"), cmp("name", "=", "O'Brien"));
  assert.equal(normalizeFilter("(name = 'O'Brien') or (id = 1)"), `(name = "O'Brien") or (id = 1)`);
  syntaxError("name = 'a'b", /the ' inside the value ends it early/);
  assert.deepEqual(parseFilter('name = "a""b"'), cmp("name", "=", 'a"b'));
  assert.deepEqual(parseFilter("name = 'back\\\\slash'"), cmp("name", "=", "back\\slash"));
  assert.deepEqual(parseFilter("name = 'a and b'"), cmp("name", "=", "a and b"));
  assert.deepEqual(parseFilter("name = ''"), cmp("name", "=", ""));
});

Deno.test("precedence NOT > AND, parentheses, chains", () => {
  assert.deepEqual(parseFilter("not a = 1 and b = 2"), {
    type: "and",
    children: [{ type: "not", child: cmp("a", "=", 1) }, cmp("b", "=", 2)],
  });
  assert.deepEqual(parseFilter("(a = 1 or b = 2) and c = 3"), {
    type: "and",
    children: [{ type: "or", children: [cmp("a", "=", 1), cmp("b", "=", 2)] }, cmp("c", "=", 3)],
  });
  assert.deepEqual(parseFilter("a = 1 && b = 2 && c = 3"), {
    type: "and",
    children: [cmp("a", "=", 1), cmp("b", "=", 2), cmp("c", "=", 3)],
  });
  assert.deepEqual(parseFilter("((a = 1))"), cmp("a", "=", 1));
});

Deno.test("canonical form: parenthesised chains, NOT pushed down, booleans as 1/0", () => {
  const cases: [string, string][] = [
    ["a = 1 and b = 2", "(a = 1) and (b = 2)"],
    ["a=1 || b=2", "(a = 1) or (b = 2)"],
    ["(a = 1 or b = 2) and c = 3", "((a = 1) or (b = 2)) and (c = 3)"],
    ["a = 1 or (b = 2 and c = 3)", "(a = 1) or ((b = 2) and (c = 3))"],
    ["not (status = 'x')", "status != 'x'"],
    ["not (a = 1 or b like 'x%')", "(a != 1) and (b not like 'x%')"],
    ["not (a > 1 and b is null)", "(a <= 1) or (b is not null)"],
    ["not x in (1, 2)", "x not in (1, 2)"],
    ["is_active = true", "is_active = 1"],
    ["name contains smith", "name contains smith"],
    ["name contains 'a b'", "name like '%a b%'"],
    ['name ends with "it\'s"', 'name like "%it\'s"'],
    ["email=jo@x.com", "email = 'jo@x.com'"],
    ["age GTE 21", "age >= 21"],
    ["owner_id = {user.id}", "owner_id = '{user.id}'"],
  ];
  for (const [input, out] of cases) assert.equal(normalizeFilter(input), out, input);
});

Deno.test("mixed AND/OR without parentheses is refused with the fix", () => {
  const e = syntaxError(
    "a = 1 and b = 2 or c = 3",
    /AND and OR are mixed without parentheses/,
    "((a = 1) and (b = 2)) or (c = 3)",
  );
  assert.equal(e.position, 16);
  assert.match(e.message, /Write instead: \(\(a = 1\) and \(b = 2\)\) or \(c = 3\)/);
  syntaxError("a = 1 or b = 2 and c = 3", /mixed/, "(a = 1) or ((b = 2) and (c = 3))");
});

Deno.test("unknown operators, unbalanced quotes and parentheses", () => {
  syntaxError("age ge 21", /unknown operator 'ge'; use gte/);
  syntaxError("age le 21", /unknown operator 'le'; use lte/);
  syntaxError("age between 1 and 5", /no BETWEEN/, "(age >= low) and (age <= high)");
  syntaxError("name ~ 'a'", /unknown operator '~'/);
  syntaxError("age => 1", /unknown operator '=>'; use >=/);
  syntaxError("age foo 1", /unknown operator 'foo/);
  const q = syntaxError("name = 'abc", /unbalanced quote/, "name = 'abc'");
  assert.equal(q.position, 7);
  syntaxError("(a = 1", /unbalanced '\('/, "(a = 1)");
  syntaxError("a = 1)", /unbalanced '\)'/);
  syntaxError("(a = 1) xor (b = 2)", /XOR fails/);
  syntaxError("", /empty/);
  syntaxError("()", /empty parentheses/);
  syntaxError("a =", /value is missing/);
  syntaxError("a = 1 and", /condition is missing/);
  syntaxError("name = John Smith", /found 'Smith'.*quote values that contain spaces/);
  syntaxError("id in 1, 2", /must be wrapped in parentheses/);
  syntaxError("id in ()", /list is empty/);
  syntaxError("id in (1, null)", /null in a list never matches/);
  syntaxError("x > null", /null cannot be compared with '>'/);
  syntaxError('"email" = x', /without quotes/, "email = x");
  syntaxError("orders.total > 5", /dotted/);
  syntaxError("x not = 5", /'not' cannot precede/);
  syntaxError("(".repeat(300) + "a = 1" + ")".repeat(300), /nests more than 200 levels/);
  syntaxError("not ".repeat(300) + "a = 1", /nests more than 200 levels/);
});

Deno.test("values DreamFactory would misread are refused with an explanation", () => {
  syntaxError("name like 'a=b%'", /contains '='.*like 'a_b%'/s);
  syntaxError("age > '5=5'", /contains '='/);
  syntaxError("name in ('a,b', 'c')", /contains a comma/);
  syntaxError("name = 'x) and (y'", /contains '\) and \('/);
  syntaxError("name = 'x)or(y'", /contains '\)or\('/);
  syntaxError("name like '%not in%'", /contains 'not in'/);
  syntaxError("name = '\"\\''", /cannot be written/);
  // ...while values that DreamFactory reads fine pass through
  assert.equal(normalizeFilter("name = 'a>b'"), "name = 'a>b'");
  assert.equal(normalizeFilter("name = 'a=b'"), "name = 'a=b'");
  assert.equal(normalizeFilter("name = ':x'"), "name = ':x'");
  assert.equal(normalizeFilter("name = '(x)'"), "name = '(x)'");
  assert.equal(normalizeFilter("name = \"'quoted'\""), "name = \"'quoted'\"");
});

Deno.test("error messages show the position with a caret", () => {
  const e = syntaxError("age ge 21", /at position 4/);
  assert.match(e.message, /\n {2}age ge 21\n {6}\^/);
  assert.equal(e.input, "age ge 21");
});

Deno.test("printFilter refuses trees DreamFactory cannot express", () => {
  assert.throws(
    () => printFilter({ type: "xor", children: [cmp("a", "=", 1), cmp("b", "=", 2)] }),
    FilterSyntaxError,
  );
  assert.throws(() => printFilter(cmp("a", "all", undefined, { values: [1] })), /ALL/);
  assert.throws(() => printFilter({ type: "and", children: [] }), /empty AND/);
  assert.throws(() => printFilter(cmp("a b", "=", 1)), /not a field name/);
  assert.throws(() => printFilter(cmp("a", "=", Infinity)), /Infinity/);
});
