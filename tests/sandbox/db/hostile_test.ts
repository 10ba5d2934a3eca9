/**
 * Hostile input against the SQLite service: quotes, `OR 1=1`, comment markers, unicode, very long
 * strings and NUL bytes in values, filters, identifiers and ids. Every value must round-trip
 * verbatim, no identifier may reach SQL unless it is in the schema, and nothing may leak.
 */
import assert from "node:assert/strict";
import { createSqliteService } from "../../../lib/sandbox/db/mod.ts";
import type { ServiceHandler } from "../../../lib/sandbox/types.ts";
import { call } from "./direct.ts";

type Rec = Record<string, unknown>;

const NASTY = [
  "'; DROP TABLE person; --",
  `" OR 1=1 --`,
  "x' OR '1'='1",
  "/* comment */ SELECT * FROM sqlite_master",
  "名前 👍 é ñ Ω \u202e",
  "a\u0000b\u0000",
  "back\\slash %_ wild",
  "x".repeat(1_000_000),
];

async function setup(): Promise<ServiceHandler> {
  const h = createSqliteService(
    { id: 2, name: "db", type: "sqlite", is_active: true, config: {} },
    { dataDir: null, maxRecords: 1000 },
  );
  const r = await call(h, "POST", "_schema", {
    body: {
      resource: [{
        name: "person",
        field: [
          { name: "id", type: "id" },
          { name: "name", type: "text" },
          { name: "secret", type: "string", default: 'it\'s "quoted" -- ; /*' },
        ],
      }],
    },
  });
  assert.equal(r.status, 200);
  await call(h, "POST", "_table/person", { body: [{ name: "alice" }, { name: "bob" }] });
  return h;
}

async function intact(h: ServiceHandler): Promise<void> {
  assert.deepEqual((await call(h, "GET", "_table")).body, { resource: [{ name: "person" }] });
  const alice = await call(h, "GET", "_table/person/1");
  assert.deepEqual(alice.body, { id: 1, name: "alice", secret: `it's "quoted" -- ; /*` });
}

Deno.test("hostile values are stored and returned verbatim, byte for byte", async () => {
  const h = await setup();
  try {
    const created = await call(h, "POST", "_table/person?fields=*", {
      body: NASTY.map((name) => ({ name })),
    });
    assert.equal(created.status, 200);
    const rows = (created.body as { resource: Rec[] }).resource;
    assert.deepEqual(rows.map((r) => r.name), NASTY);
    for (const [i, value] of NASTY.entries()) {
      const back = await call(h, "GET", `_table/person/${i + 3}?fields=name`);
      assert.equal((back.body as Rec).name, value, `value ${i} round-trips`);
    }
    // Updating through a filter whose value is hostile touches exactly the matching row.
    const upd = await call(
      h,
      "PATCH",
      `_table/person?filter=${encodeURIComponent(`name = 'x' OR 1=1`)}`,
      {
        body: { resource: [{ name: "changed" }] },
      },
    );
    assert.ok(upd.status === 200 || upd.status === 400, "a parse error or a literal match");
    assert.equal(
      (await call(
        h,
        "GET",
        `_table/person?count_only=true&filter=${encodeURIComponent("name = 'changed'")}`,
      )).body,
      0,
      "OR 1=1 inside a value never widens an update",
    );
    await intact(h);
  } finally {
    h.close?.();
  }
});

Deno.test("hostile filters never widen a read and unknown fields are refused", async () => {
  const h = await setup();
  try {
    for (
      const filter of [
        "name = 'nobody' OR 1=1",
        "name = 'nobody' OR 1=1 --",
        "name = 'nobody'; DROP TABLE person; --",
        "name = 'nobody' /* */ OR /* */ 1=1",
        "(name = 'nobody') OR (1 = 1)",
        "(name = 'nobody') OR (sqlite_master.name = 'x')",
        "name = (SELECT name FROM sqlite_master LIMIT 1)",
      ]
    ) {
      const r = await call(h, "GET", `_table/person?filter=${encodeURIComponent(filter)}`);
      if (r.status === 200) {
        assert.deepEqual((r.body as Rec).resource, [], `no rows leak for ${filter}`);
      } else {
        assert.ok(r.status === 400 || r.status === 500, `${filter}: ${r.status}`);
        assert.doesNotMatch(r.text, /alice|bob/, "no data in errors");
      }
    }
    await intact(h);
  } finally {
    h.close?.();
  }
});

Deno.test("identifiers come only from the schema: fields, order, group, ids, related, names", async () => {
  const h = await setup();
  try {
    // DreamFactory's own refusals (400), Laravel's and SQLite's errors for what DreamFactory
    // would send (500), and the sandbox's refusal of raw SQL it would have to run (400): the
    // request's text never reaches SQLite, and nothing leaks.
    const bad: [string, number][] = [
      ["_table/person?fields=id,(SELECT%20sql%20FROM%20sqlite_master)", 400],
      ["_table/person?fields=id%3BDROP%20TABLE%20person", 400],
      ["_table/person?fields=name%22%20FROM%20sqlite_master%20--", 400],
      ["_table/person?order=id%3B%20DROP%20TABLE%20person", 400],
      ["_table/person?order=(CASE%20WHEN%201%20THEN%20id%20END)", 500],
      ["_table/person?order=id%20desc%2C%20name%20--", 400],
      ["_table/person?order=id%2C(SELECT%20name%20FROM%20sqlite_master)", 400],
      ["_table/person?group=id%29%20UNION%20SELECT%201", 500],
      ["_table/person?group=name%2Csqlite_master.name", 500],
      ["_table/person?fields=SUM(id)%20FROM%20sqlite_master%20--", 400],
    ];
    for (const [path, status] of bad) {
      const r = await call(h, "GET", path);
      assert.equal(r.status, status, `${path}: ${r.text}`);
      assert.doesNotMatch(r.text, /alice|bob/, "no data in errors");
    }
    // An id_field that is no column is skipped (df-sqldb's getIdsInfo): none left is a 500.
    const idField = await call(h, "GET", "_table/person?id_field=id%20OR%201%3D1&ids=1");
    assert.equal(idField.status, 500);
    assert.match(idField.text, /Identifying field\(s\) could not be determined\./);
    const odd = await call(h, "GET", "_table/person/1%20OR%201%3D1");
    assert.ok(odd.status === 400 || odd.status === 404, "not a valid id, never a match");
    const ids = await call(h, "GET", `_table/person?ids=${encodeURIComponent("1 OR 1=1,2")}`);
    assert.equal(ids.status, 400);
    assert.equal((await call(h, "GET", `_table/${encodeURIComponent('person" --')}`)).status, 404);
    assert.equal((await call(h, "GET", `_table/sqlite_master`)).status, 404);
    assert.equal((await call(h, "GET", `_table/_dfkit_meta`)).status, 404, "side table hidden");
    const rel = await call(h, "GET", "_table/person/1?related=x%22%3B--&fields=id");
    assert.deepEqual(rel.body, { id: 1 });
    for (
      const name of [
        't"; DROP TABLE person; --',
        "sqlite_x",
        "_dfkit_meta",
        "a b",
        "名前",
        "x".repeat(65),
      ]
    ) {
      const r = await call(h, "POST", "_schema", {
        body: { resource: [{ name, field: [{ name: "id", type: "id" }] }] },
      });
      assert.equal(r.status, 400, `table name ${JSON.stringify(name).slice(0, 40)}`);
    }
    const field = await call(h, "POST", "_schema", {
      body: {
        resource: [{
          name: "ok",
          field: [{ name: 'a" TEXT); DROP TABLE person; --', type: "string" }],
        }],
      },
    });
    assert.equal(field.status, 400);
    const dbType = await call(h, "POST", "_schema", {
      body: {
        resource: [{ name: "ok", field: [{ name: "a", db_type: "text); DROP TABLE person; --" }] }],
      },
    });
    assert.equal(dbType.status, 400);
    // Unknown (hostile) keys in records are dropped, never used as columns.
    const rec = await call(h, "POST", "_table/person?fields=*", {
      body: [{ name: "carol", 'name" = 1; --': "x", "id) VALUES (99); --": 1 }],
    });
    assert.deepEqual((rec.body as { resource: Rec[] }).resource[0].name, "carol");
    await intact(h);
  } finally {
    h.close?.();
  }
});

Deno.test("error messages are HTML-encoded and carry no stack or file paths", async () => {
  const h = await setup();
  try {
    const r = await call(
      h,
      "GET",
      `_table/person/${encodeURIComponent("<script>alert(1)</script>")}?id_field=name`,
    );
    assert.equal(r.status, 404);
    assert.match(r.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(r.text, /<script>/);
    assert.doesNotMatch(r.text, /\.ts:\d+|\/work\//);
  } finally {
    h.close?.();
  }
});
