/**
 * Record rules checked against DreamFactory's PHP source: df-sqldb's Table (parseFilterValue,
 * runQuery, commitTransaction) and df-database's Schema (typecastToNative, typecastToClient).
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

function errorOf(body: unknown): Rec {
  return (body as { error: Rec }).error;
}

function ids(body: unknown): unknown[] {
  return (body as { resource: Rec[] }).resource.map((r) => r.id);
}

/** A sandbox with a `thing` table holding columns of several DF types and three rows. */
async function withThings(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "thing",
        field: [
          { name: "id", type: "id" },
          { name: "name", type: "string", allow_null: true },
          { name: "qty", type: "integer", allow_null: true },
          { name: "must", type: "integer", default: 0 },
          { name: "small", type: "smallint", allow_null: true },
          { name: "big", type: "bigint", allow_null: true },
          { name: "day", type: "date", allow_null: true },
          { name: "at", type: "datetime", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const seeded = await sb.call("POST", "db/_table/thing", [
      { name: "a", qty: 1, small: 5, big: 7, day: "2024-01-05", at: "2024-01-05 10:00:00" },
      { name: "b", qty: 2, small: 6, big: 8, day: "2024-01-06", at: "2024-01-06 11:30:00" },
      { name: "c", qty: null, small: null, big: null, day: null, at: null },
    ]);
    assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("filter values are typed by typecastToNative: uncast integer types pass, dates are reformatted, '' is NULL on nullable integers", async () => {
  await withThings(async (sb) => {
    const get = (filter: string) =>
      sb.call("GET", `db/_table/thing?filter=${encodeURIComponent(filter)}`);
    // bigint falls to typecastToNative's default: bound as sent, compared by SQLite. A smallint
    // column reads back as integer (Schema::extractSimpleType), so its values are cast.
    for (const f of ["big = 'abc'", "big like '%7%'"]) {
      const r = await get(f);
      assert.equal(r.status, 200, `${f}: ${JSON.stringify(r.body)}`);
    }
    const small = await get("small = 'x5'");
    assert.equal(small.status, 400, JSON.stringify(small.body));
    assert.equal(errorOf(small.body).message, "Field 'small' must be a valid integer.");
    assert.deepEqual(ids((await get("small = '5'")).body), [1]);
    assert.deepEqual(ids((await get("big in (7, 8)")).body), [1, 2]);
    // date/datetime values go through formatDateTime into the native format first.
    assert.deepEqual(ids((await get("day = '2024-01-05T00:00:00Z'")).body), [1]);
    assert.deepEqual(ids((await get("day = 2024-1-6")).body), [2]);
    assert.deepEqual(ids((await get("at = '2024-01-06T11:30:00'")).body), [2]);
    assert.deepEqual(ids((await get("at > '2024-01-05T12:00'")).body), [2]);
    // Unparsable text is bound as sent (no error, no match).
    assert.deepEqual(ids((await get("day like '2024-01%'")).body), [1, 2]);
    // '' on a nullable integer column is NULL (= NULL matches nothing); not nullable: 400.
    const empty = await get("qty = ''");
    assert.equal(empty.status, 200, JSON.stringify(empty.body));
    assert.deepEqual(ids(empty.body), []);
    const must = await get("must = ''");
    assert.equal(must.status, 400, JSON.stringify(must.body));
    assert.equal(errorOf(must.body).message, "Field 'must' must be a valid integer.");
    // A JSON float parameter for an integer column stays a float (is_float: no intval).
    const params = encodeURIComponent(JSON.stringify({ ":q": 1.5 }));
    const float = await sb.call("GET", `db/_table/thing?filter=qty%20%3D%20%3Aq&params=${params}`);
    assert.equal(float.status, 200, JSON.stringify(float.body));
    assert.deepEqual(ids(float.body), []);
  });
});

Deno.test("ids batched by continue=true are answered in key order when all are found (commitTransaction's whereIn)", async () => {
  await withThings(async (sb) => {
    const got = await sb.call("GET", "db/_table/thing?ids=3,1,2&continue=true");
    assert.deepEqual(ids(got.body), [1, 2, 3]);
    // Without continue the ids are read one by one, in the order given.
    assert.deepEqual(ids((await sb.call("GET", "db/_table/thing?ids=3,1")).body), [3, 1]);
    // A by-id URL holding commas answers the first of the key-ordered results.
    const one = await sb.call("GET", "db/_table/thing/3,1?continue=true&fields=id,name");
    assert.deepEqual(one.body, { id: 1, name: "a" });
    const del = await sb.call("DELETE", "db/_table/thing?ids=3,1&continue=true");
    assert.equal(del.status, 200, JSON.stringify(del.body));
    assert.deepEqual(ids(del.body), [1, 3]);
    // deleteRecords hands the records' ids to deleteRecordsByIds: the same order.
    await sb.call("POST", "db/_table/thing", [{ id: 1, name: "a" }, { id: 3, name: "c" }]);
    const recs = await sb.call("DELETE", "db/_table/thing?continue=true", [{ id: 3 }, { id: 2 }]);
    assert.equal(recs.status, 200, JSON.stringify(recs.body));
    assert.deepEqual(ids(recs.body), [2, 3]);
  });
});

Deno.test('POST without identifying fields (no primary key, unknown id_field) inserts and answers {"": null}', async () => {
  await withThings(async (sb) => {
    const made = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "log",
        field: [{ name: "msg", type: "string", allow_null: true }, {
          name: "n",
          type: "integer",
          allow_null: true,
        }],
      }],
    });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    // createRecords' initTransaction does not require ids; addToTransaction answers
    // [$idName => $id] with both null, and commitTransaction has nothing queued to read back.
    for (const q of ["", "?fields=*"]) {
      const r = await sb.call("POST", `db/_table/log${q}`, [{ msg: "a", n: 1 }, { msg: "b" }]);
      assert.equal(r.status, 200, `${q}: ${JSON.stringify(r.body)}`);
      assert.deepEqual(r.body, { resource: [{ "": null }, { "": null }] });
    }
    const logged = await sb.call("GET", "db/_table/log");
    assert.equal((logged.body as { resource: unknown[] }).resource.length, 4);
    const unknown = await sb.call("POST", "db/_table/thing?id_field=nope", [{ name: "z" }]);
    assert.equal(unknown.status, 200, JSON.stringify(unknown.body));
    assert.deepEqual(unknown.body, { resource: [{ "": null }] });
    const z = await sb.call("GET", "db/_table/thing?filter=name%3Dz");
    assert.deepEqual(ids(z.body), [4]);
  });
});

Deno.test("GET with fields present but empty answers the identifying fields, not every field", async () => {
  await withThings(async (sb) => {
    // handleGET defaults fields to * only when the key is absent; an empty value reaches
    // parseSelect, which falls back to id_field, then the primary key.
    assert.deepEqual((await sb.call("GET", "db/_table/thing?fields=&limit=2")).body, {
      resource: [{ id: 1 }, { id: 2 }],
    });
    assert.deepEqual((await sb.call("GET", "db/_table/thing/2?fields=")).body, { id: 2 });
    assert.deepEqual((await sb.call("GET", "db/_table/thing?ids=2,1&fields=")).body, {
      resource: [{ id: 2 }, { id: 1 }],
    });
    assert.deepEqual((await sb.call("GET", "db/_table/thing?fields=&id_field=name&limit=1")).body, {
      resource: [{ name: "a" }],
    });
    // Absent, every field.
    const full = (await sb.call("GET", "db/_table/thing/1")).body as Rec;
    assert.equal(full.name, "a");
    // An empty ids is null after ConvertEmptyStringsToNull: no ids, every record.
    assert.deepEqual(ids((await sb.call("GET", "db/_table/thing?ids=")).body), [1, 2, 3]);
  });
});

Deno.test("a JSON float for an integer column is stored as sent and read back with intval", async () => {
  await withThings(async (sb) => {
    // typecastToNative intval's only text (`if (!is_float($value))`): 1.7 is stored as 1.7.
    const r = await sb.call("POST", "db/_table/thing", [{ name: "f", qty: 1.7 }, {
      name: "g",
      qty: "2.9",
    }]);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((await sb.call("GET", "db/_table/thing?ids=4,5&fields=id,qty")).body, {
      resource: [{ id: 4, qty: 1 }, { id: 5, qty: 2 }],
    });
    const get = async (f: string) =>
      ids((await sb.call("GET", `db/_table/thing?filter=${encodeURIComponent(f)}`)).body);
    assert.deepEqual(await get("(qty > 1) and (qty < 2)"), [4]);
    assert.deepEqual(await get("qty = 2"), [2, 5]);
  });
});
