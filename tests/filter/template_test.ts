/**
 * The `f` tagged template and `whereClause`: values are quoted so DreamFactory reads exactly them,
 * never as filter syntax; what DreamFactory cannot express is refused.
 */
import assert from "node:assert/strict";
import {
  f,
  Filter,
  FilterSyntaxError,
  isFilter,
  parseDreamFactoryFilter,
  whereClause,
} from "../../lib/filter/mod.ts";

/** What DreamFactory reads from the filter's string: the single comparison's value. */
function dfValue(flt: Filter): unknown {
  const node = parseDreamFactoryFilter(String(flt));
  assert.ok(node && node.type === "comparison", String(flt));
  return node.value ?? node.values;
}

Deno.test("f quotes values and produces the parenthesised form", () => {
  const email = "jo@x.com";
  const n = 5;
  assert.equal(String(f`email = ${email} and id > ${n}`), "(email = 'jo@x.com') and (id > 5)");
  assert.equal(String(f`type in ${["mysql", "pgsql"]}`), "type in ('mysql', 'pgsql')");
  assert.equal(String(f`id not in ${[1, 2]}`), "id not in (1, 2)");
  assert.equal(String(f`active = ${true}`), "active = 1");
  assert.equal(String(f`x = ${null}`), "x is null");
  assert.equal(String(f`x != ${undefined}`), "x is not null");
  assert.equal(String(f`big = ${12345678901234567890n}`), "big = '12345678901234567890'");
  assert.equal(
    String(f`at > ${new Date(Date.UTC(2024, 0, 2, 3, 4, 5))}`),
    "at > '2024-01-02 03:04:05'",
  );
  assert.equal(String(f`name contains ${"smith"}`), "name contains smith");
  assert.equal(String(f`name contains ${"a b"}`), "name like '%a b%'");
  assert.equal(JSON.stringify({ filter: f`a = ${1}` }), '{"filter":"a = 1"}');
});

Deno.test("f: hostile strings stay one value, exactly", () => {
  for (
    const v of [
      "O'Brien",
      "' OR 1=1 --",
      "x' or '1'='1",
      'say "hi"',
      "a) and (b = 1",
      "/* c */",
      "-- d",
      "日本 🎉",
      "x".repeat(10_000),
      "'quoted'",
      ":param",
      "(SELECT 1)",
      "{user.id}",
    ]
  ) {
    let flt: Filter;
    try {
      flt = f`name = ${v}`;
    } catch (e) {
      // refused values must be refused with an explanation, never sent wrongly
      assert.ok(e instanceof FilterSyntaxError, `${v}: ${e}`);
      continue;
    }
    assert.equal(dfValue(flt), v, v);
  }
  // the interpolated text is never parsed as filter syntax
  assert.equal(
    String(f`name = ${"a"} and id = ${"1 or 1=1"}`),
    "(name = 'a') and (id = '1 or 1=1')",
  );
});

Deno.test("f: refuses what DreamFactory cannot express, with the reason", () => {
  assert.throws(() => f`name like ${"a=b%"}`, /contains '='/);
  assert.throws(() => f`name in ${["a,b"]}`, /comma/);
  assert.throws(() => f`name = ${"x) and (y"}`, /\) and \(/);
  assert.throws(() => f`name = ${"{user.email}"}`, /replaces with a lookup/);
  assert.equal(
    String(f`owner_id = {user.id} and name = ${"x"}`),
    "(owner_id = '{user.id}') and (name = 'x')",
  );
  assert.throws(() => f`n = ${NaN}`, /finite number/);
  assert.throws(() => f`n = ${{}}`, /interpolate strings/);
  assert.throws(() => f`n in ${[]}`, /empty array/);
  assert.throws(() => f`n = ${[1]}`, /arrays go after 'in'/);
  assert.throws(() => f`n in ${1}`, /must be an array/);
  assert.throws(() => f`${"name"} = 1`, /where a condition \(or field\) belongs/);
  assert.throws(() => f`a = 1 and b = 2 or c = ${3}`, /mixed/);
  // values are quoted for you and must stand alone
  assert.throws(() => f`name = '${"x"}'`, /do not put quotes around/);
  assert.throws(() => f`name like ${"x"}%`, /must stand alone/);
  assert.throws(() => f`name like %${"x"}`, /must stand alone/);
  try {
    f`id = ${1} and name like ${"a=b"}`;
    assert.fail("accepted a value DreamFactory misreads");
  } catch (err) {
    assert.ok(err instanceof FilterSyntaxError);
    assert.equal(err.input, "id = ${0} and name like ${1}"); // shown as written, not markers
    assert.equal(err.position, 24);
  }
});

Deno.test("f: nested filters and combinators", () => {
  const inner = f`a = ${1} or b = ${2}`;
  assert.equal(String(f`${inner} and c = ${3}`), "((a = 1) or (b = 2)) and (c = 3)");
  assert.equal(
    String(inner.and("c > 1", f`d = ${"x"}`)),
    "((a = 1) or (b = 2)) and (c > 1) and (d = 'x')",
  );
  assert.equal(String(f`x = ${1}`.or(f`y = ${2}`)), "(x = 1) or (y = 2)");
  assert.equal(Deno.inspect(f`x = ${1}`), "Filter(x = 1)");
});

Deno.test("whereClause validates field and operator", () => {
  assert.equal(String(whereClause("name", "like", "J%")), "name like 'J%'");
  assert.equal(String(whereClause("id", "in", [1, 2])), "id in (1, 2)");
  assert.equal(String(whereClause("id", ">=", 3)), "id >= 3");
  assert.equal(String(whereClause("id", "GTE", 3)), "id >= 3");
  assert.equal(String(whereClause("x", "is null")), "x is null");
  assert.equal(String(whereClause("x", "=", null)), "x is null");
  assert.equal(String(whereClause("x", "not  like", "a%")), "x not like 'a%'");
  assert.equal(String(whereClause("name", "=", "O'Brien")), `name = "O'Brien"`);
  assert.throws(() => whereClause("na me", "=", 1), FilterSyntaxError);
  assert.throws(() => whereClause("a; drop", "=", 1), /not a field name/);
  assert.throws(() => whereClause("1a", "=", 1), /not a field name/);
  assert.throws(() => whereClause("a", "ge", 1), /unknown operator 'ge'/);
  assert.throws(() => whereClause("a", "between", 1), /unknown operator/);
  for (const inherited of ["constructor", "toString", "__proto__", " Constructor "]) {
    assert.throws(() => whereClause("a", inherited, 1), /unknown operator/, inherited);
  }
  assert.throws(() => whereClause("a", "in", 1), /non-empty array/);
  assert.throws(() => whereClause("a", ">", null), /is null/);
  assert.throws(() => whereClause("a", "is null", 1), /takes no value/);
  assert.throws(() => whereClause("a", "like", "a=b"), /contains '='/);
});

Deno.test("isFilter", () => {
  assert.equal(isFilter(f`id = ${1}`), true);
  assert.equal(isFilter(whereClause("id", "=", 1)), true);
  assert.equal(
    isFilter(new Filter({ type: "comparison", field: "a", op: "=", negated: false, value: 1 })),
    true,
  );
  assert.equal(isFilter("id = 1"), false);
  assert.equal(isFilter({ toString: () => "id = 1" }), false);
  assert.equal(isFilter(null), false);
});
