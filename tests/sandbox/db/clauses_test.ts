/**
 * `order` and `group` on db tables checked against df-sqldb's Table::runQuery (Builder::orderBy
 * for one sort term, orderByRaw for several, parseGroupBy's DB::raw for unknown group fields) and
 * against SQLite itself: a reference database with double-quoted string literals on (as in the
 * SQLite builds PHP links to) runs DreamFactory's statement, and the sandbox must answer what it
 * answers without ever running the request's text.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import fc from "fast-check";
import { sandbox, type TestSandbox, withContactTable } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

const ROWS = [
  { name: "carol", age: 30 },
  { name: "alice", age: null },
  { name: "bob", age: 25 },
  { name: null, age: 41 },
];

/** A `contact` table (id, name, age) with four rows inserted out of name order. */
function withContacts(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  return withContactTable(ROWS, fn);
}

/** The same table in a plain SQLite database reading unknown double-quoted names as strings. */
function reference(): DatabaseSync {
  const db = new DatabaseSync(":memory:", { enableDoubleQuotedStringLiterals: true });
  db.exec(`CREATE TABLE "contact" ("id" integer PRIMARY KEY, "name" varchar, "age" integer)`);
  const ins = db.prepare(`INSERT INTO "contact" ("name", "age") VALUES (?, ?)`);
  for (const row of ROWS) ins.run(row.name, row.age);
  return db;
}

const ids = (body: unknown) => (body as { resource: Rec[] }).resource.map((r) => r.id);

/** The wrapped 500 retrieveRecordsByFilter answers (htmlentities on the message). */
function failed(table: string, message: string): Rec {
  return {
    error: {
      code: 500,
      context: null,
      message: `Failed to retrieve records from '${table}'.\n${message}`.replace(/"/g, "&quot;"),
      status_code: 500,
    },
  };
}

const ALL = `select "id", "name", "age" from "contact"`;

Deno.test("order: one unknown term sorts by nothing (orderBy quotes it, SQLite reads a string)", async () => {
  await withContacts(async (sb) => {
    const natural = ids((await sb.call("GET", "db/_table/contact")).body);
    for (const order of ["nosuch", "nosuch desc", "nosuch DESC", "NoSuch asc extra words"]) {
      const r = await sb.call("GET", `db/_table/contact?order=${encodeURIComponent(order)}`);
      assert.equal(r.status, 200, `${order}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(ids(r.body), natural, order);
    }
    // A known name sorts, in any case; words after the direction are ignored (nulls last too).
    const byName = await sb.call("GET", "db/_table/contact?fields=id&order=NAME%20desc");
    assert.deepEqual(ids(byName.body), [1, 3, 2, 4]);
    const nulls = await sb.call(
      "GET",
      "db/_table/contact?fields=id&order=age%20asc%20nulls%20last",
    );
    assert.deepEqual(ids(nulls.body), [2, 3, 1, 4], "NULL first: 'nulls last' is ignored");
    // A qualified unknown name is no string: SQLite's error, wrapped.
    const dotted = await sb.call("GET", "db/_table/contact?order=contact.nosuch");
    assert.equal(dotted.status, 500);
    assert.deepEqual(
      dotted.body,
      failed(
        "contact",
        `SQLSTATE[HY000]: General error: 1 no such column: contact.nosuch (SQL: ${ALL} ` +
          `order by "contact"."nosuch" asc limit 1000 offset 0)`,
      ),
    );
  });
});

Deno.test("order: several terms go in raw; an unknown one is SQLite's 500, wrapped with the statement", async () => {
  await withContacts(async (sb) => {
    const r = await sb.call("GET", "db/_table/contact?order=name%20desc%2Cnosuch");
    assert.equal(r.status, 500);
    assert.deepEqual(
      r.body,
      failed(
        "contact",
        "SQLSTATE[HY000]: General error: 1 no such column: nosuch " +
          `(SQL: ${ALL} order by name desc,nosuch limit 1000 offset 0)`,
      ),
    );
    const syntax = await sb.call(
      "GET",
      "db/_table/contact?fields=id&limit=2&order=name%20sideways,id",
    );
    assert.deepEqual(
      syntax.body,
      failed(
        "contact",
        'SQLSTATE[HY000]: General error: 1 near "sideways": syntax error ' +
          `(SQL: select "id" from "contact" order by name sideways,id limit 2 offset 0)`,
      ),
    );
    const ok = await sb.call(
      "GET",
      "db/_table/contact?fields=id&order=age%20desc%20nulls%20last,name",
    );
    assert.deepEqual(ids(ok.body), [4, 1, 3, 2]);
    const position = await sb.call("GET", "db/_table/contact?fields=id,name&order=2%20desc,1");
    assert.deepEqual(ids(position.body), [1, 3, 2, 4]);
  });
});

Deno.test("order: a direction other than asc/desc is Laravel's exception, wrapped in a 500", async () => {
  await withContacts(async (sb) => {
    for (const order of ["name sideways", "nosuch sideways", "name  desc"]) {
      const r = await sb.call("GET", `db/_table/contact?order=${encodeURIComponent(order)}`);
      assert.equal(r.status, 500, order);
      assert.deepEqual(r.body, failed("contact", 'Order direction must be "asc" or "desc".'));
    }
    // DreamFactory's own 400 for a `;` comes first.
    const semi = await sb.call("GET", "db/_table/contact?order=name%20sideways%3B");
    assert.equal(semi.status, 400);
    assert.equal(
      (semi.body as { error: Rec }).error.message,
      "Invalid order by clause in request.",
    );
  });
});

Deno.test("group: a column is quoted, anything else goes in raw (an unknown name is SQLite's 500)", async () => {
  await withContacts(async (sb) => {
    const r = await sb.call("GET", "db/_table/contact?group=nosuch");
    assert.equal(r.status, 500);
    assert.deepEqual(
      r.body,
      failed(
        "contact",
        "SQLSTATE[HY000]: General error: 1 no such column: nosuch " +
          `(SQL: ${ALL} group by nosuch limit 1000 offset 0)`,
      ),
    );
    const mixed = await sb.call("GET", "db/_table/contact?fields=id&group=NAME,,age&order=id");
    assert.deepEqual(
      mixed.body,
      failed(
        "contact",
        'SQLSTATE[HY000]: General error: 1 near ",": syntax error ' +
          `(SQL: select "id" from "contact" group by "name", , "age" order by "id" asc ` +
          "limit 1000 offset 0)",
      ),
    );
    const semi = await sb.call("GET", "db/_table/contact?group=name,x%3By");
    assert.equal(semi.status, 400);
    assert.equal(
      (semi.body as { error: Rec }).error.message,
      "Invalid group by clause in request.",
    );
    // `*` is no field at all (fieldsToArray): no grouping.
    assert.equal(ids((await sb.call("GET", "db/_table/contact?group=*")).body).length, 4);
  });
});

Deno.test("order/group the sandbox cannot evaluate without running them are refused (400)", async () => {
  await withContacts(async (sb) => {
    for (
      const path of [
        "order=name%2C%20length(name)",
        "order=id%20desc%2C%20name%20--",
        "order=name%20collate%20nocase%2Cid",
        "group=lower(name)",
      ]
    ) {
      const r = await sb.call("GET", `db/_table/contact?${path}`);
      assert.equal(r.status, 400, path);
      assert.match((r.body as { error: Rec }).error.message as string, /^The sandbox does not run/);
    }
  });
});

Deno.test("count_only answers before fields, order and group are read", async () => {
  await withContacts(async (sb) => {
    const r = await sb.call(
      "GET",
      "db/_table/contact?count_only=true&fields=nosuch&order=a,nosuch&group=nosuch",
    );
    assert.deepEqual(r, { status: 200, body: 4 });
  });
});

Deno.test("writes by filter: updateRecordsByFilter keeps the UPDATE when its query fails; delete deletes nothing", async () => {
  await withContacts(async (sb) => {
    const patched = await sb.call(
      "PATCH",
      "db/_table/contact?filter=id%3D1&order=name,nosuch",
      { resource: [{ age: 99 }] },
    );
    assert.equal(patched.status, 500);
    assert.equal(
      (patched.body as { error: Rec }).error.message,
      "Failed to update records in 'contact'.\nSQLSTATE[HY000]: General error: 1 no such column: " +
        `nosuch (SQL: select &quot;id&quot; from &quot;contact&quot; where &quot;id&quot; = 1 ` +
        "order by name,nosuch limit 1000 offset 0)",
    );
    assert.equal(((await sb.call("GET", "db/_table/contact/1")).body as Rec).age, 99);
    const deleted = await sb.call("DELETE", "db/_table/contact?filter=id%3D1&order=name%20up");
    assert.equal(deleted.status, 500);
    assert.equal(
      (deleted.body as { error: Rec }).error.message,
      "Failed to delete records from 'contact'.\nOrder direction must be &quot;asc&quot; or " +
        "&quot;desc&quot;.",
    );
    assert.equal((await sb.call("GET", "db/_table/contact/1")).status, 200);
  });
});

/** Pieces of order and group text, valid or not. */
const WORDS = [
  "id",
  "name",
  "AGE",
  "nosuch",
  "contact.name",
  "contact.nosuch",
  "main.contact.age",
  "x.name",
  '"name"',
  '"nosuch"',
  "'x'",
  "rowid",
  "0",
  "1",
  "2",
  "9",
  "70000",
  "99999999999",
  "asc",
  "DESC",
  "nulls first",
  "nulls last",
  "nulls",
  "sideways",
  "*",
  ".",
  ")",
];

/** Any sequence of the pieces (mostly errors), or well-formed sort terms (mostly results). */
const clauseText = fc.oneof(
  fc.array(fc.oneof(fc.constantFrom(...WORDS), fc.constantFrom(",", ", ", " , ")), {
    minLength: 1,
    maxLength: 6,
  }).map((parts) => parts.join(" ").trim()),
  fc.array(
    fc.tuple(
      fc.constantFrom(
        "id",
        "name",
        "age",
        "AGE",
        '"name"',
        '"nosuch"',
        "contact.age",
        "'x'",
        "1",
        "2",
      ),
      fc.constantFrom("", " asc", " desc", " DESC"),
      fc.constantFrom("", " nulls first", " nulls last"),
    ).map(([t, d, n]) => t + d + n),
    { minLength: 1, maxLength: 3 },
  ).map((terms) => terms.join(",")),
).filter((s) => s !== "" && s !== "0");

/** DreamFactory's ORDER BY text for `order`, or null when Laravel throws before the query. */
function dfOrder(order: string): string | null {
  if (order.includes(",")) return order;
  const [field, dir = "asc"] = order.split(" ");
  if (!["asc", "desc"].includes(dir.toLowerCase())) return null;
  const wrapped = field.split(".").map((s) => s === "*" ? s : `"${s.replace(/"/g, '""')}"`);
  return `${wrapped.join(".")} ${dir.toLowerCase()}`;
}

/** DreamFactory's GROUP BY text for `group` (columns quoted, the rest raw). */
function dfGroup(group: string): string {
  const fields = group.replace(/^,+|,+$/g, "").split(",").map((f) => f.trim());
  return fields.map((f) =>
    ["id", "name", "age"].includes(f.toLowerCase()) ? `"${f.toLowerCase()}"` : f
  )
    .join(", ");
}

Deno.test("order/group answer what SQLite answers for DreamFactory's statement (property)", async () => {
  const ref = reference();
  await withContacts(async (sb) => {
    await fc.assert(
      fc.asyncProperty(
        clauseText,
        fc.option(clauseText, { nil: undefined }),
        async (order, group) => {
          if (group !== undefined && (group === "*" || /^[, ]*$/.test(group))) return;
          const q = new URLSearchParams({ fields: "id,name", order });
          if (group !== undefined) q.set("group", group);
          const r = await sb.call("GET", `db/_table/contact?${q}`);
          const orderText = dfOrder(order);
          if (orderText === null) {
            assert.deepEqual(r.body, failed("contact", 'Order direction must be "asc" or "desc".'));
            return;
          }
          if (r.status === 400) {
            // Refused: what only running the text could tell (expressions, keywords).
            assert.match(JSON.stringify(r.body), /The sandbox does not run/, `${order} | ${group}`);
            return;
          }
          const sql = `select "id", "name" from "contact"` +
            (group !== undefined ? ` group by ${dfGroup(group)}` : "") +
            ` order by ${orderText} limit 1000 offset 0`;
          let expected: unknown;
          try {
            expected = ref.prepare(sql).all().map((row) => (row as Rec).id);
          } catch (e) {
            const message = `SQLSTATE[HY000]: General error: 1 ${
              (e as Error).message
            } (SQL: ${sql})`;
            assert.deepEqual(r.body, failed("contact", message), sql);
            return;
          }
          assert.equal(r.status, 200, `${sql}: ${JSON.stringify(r.body)}`);
          const got = ids(r.body);
          if (group === undefined) assert.deepEqual(got, expected, sql);
          else assert.deepEqual([...got].sort(), [...(expected as number[])].sort(), sql);
        },
      ),
      { numRuns: 1000 },
    );
  });
  ref.close();
});

Deno.test("a relation's order is its own _table query: its failure names the related table", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        { name: "post", field: [{ name: "id", type: "id" }, { name: "title", type: "string" }] },
        {
          name: "comment",
          field: [
            { name: "id", type: "id" },
            { name: "post_id", type: "reference", ref_table: "post", ref_field: "id" },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sb.call("POST", "db/_table/post", { resource: [{ title: "a" }, { title: "b" }] });
    await sb.call("POST", "db/_table/comment", { resource: [{ post_id: 1 }, { post_id: 2 }] });
    const got = await sb.call(
      "GET",
      "db/_table/post?related=comment_by_post_id&comment_by_post_id.order=id,nosuch",
    );
    assert.equal(got.status, 500);
    const error = (got.body as { error: Rec }).error;
    assert.equal(error.code, 500);
    assert.match(
      error.message as string,
      /^Failed to retrieve records from 'comment'\.\nSQLSTATE\[HY000\]: General error: 1 no such column: nosuch \(SQL: select &quot;id&quot;, &quot;post_id&quot; from &quot;comment&quot; where .*&quot;post_id&quot; IN \(1, ?2\).* order by id,nosuch limit 1000 offset 0\)$/,
    );
    const direction = await sb.call(
      "GET",
      "db/_table/post/1?related=comment_by_post_id&comment_by_post_id.order=id%20up",
    );
    assert.deepEqual(direction.body, failed("comment", 'Order direction must be "asc" or "desc".'));
  } finally {
    await sb.close();
  }
});
