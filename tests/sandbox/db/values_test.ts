/**
 * How record values are converted on write and typed on read, and what by-id updates answer,
 * checked against DreamFactory's PHP source: df-database's Schema::typecastToNative and
 * BaseDbTableResource, df-sqldb's Table (addToTransaction, commitTransaction).
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

function errorOf(body: unknown): Rec {
  return (body as { error: Rec }).error;
}

/** A sandbox with an `item` table: an auto-increment id and columns of several DF types. */
async function withItems(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "item",
        field: [
          { name: "id", type: "id" },
          { name: "title", type: "string", allow_null: true },
          { name: "done", type: "boolean", default: false },
          { name: "qty", type: "integer", allow_null: true },
          { name: "small", type: "smallint", allow_null: true },
          { name: "price", type: "decimal", allow_null: true },
          { name: "big", type: "bigint", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const seeded = await sb.call("POST", "db/_table/item", [{ title: "a", qty: 1 }]);
    assert.equal(seeded.status, 200, JSON.stringify(seeded.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("a JSON boolean for an integer column is refused, as PHP's is_numeric(true) is false", async () => {
  await withItems(async (sb) => {
    const created = await sb.call("POST", "db/_table/item", [{ title: "b", qty: true }]);
    assert.equal(created.status, 400, JSON.stringify(created.body));
    const err = errorOf(created.body);
    assert.equal(err.code, 1000);
    assert.deepEqual((err.context as Rec).resource, [{
      code: 400,
      context: null,
      message: "Field 'qty' must be a valid integer.",
      status_code: 400,
    }]);
    // By id the inner error is answered directly.
    const patched = await sb.call("PATCH", "db/_table/item/1", { qty: false });
    assert.equal(patched.status, 400, JSON.stringify(patched.body));
    assert.equal(errorOf(patched.body).message, "Field 'qty' must be a valid integer.");
    assert.deepEqual((await sb.call("GET", "db/_table/item?fields=id,qty")).body, {
      resource: [{ id: 1, qty: 1 }],
    });
    // Boolean columns take booleans; numeric strings still convert for integer columns.
    const ok = await sb.call("PATCH", "db/_table/item/1", { done: true, qty: "7" });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const row = (await sb.call("GET", "db/_table/item/1")).body as Rec;
    assert.deepEqual([row.done, row.qty], [true, 7]);
  });
});

Deno.test("an update with no known field skips the UPDATE and answers the id, found or not", async () => {
  await withItems(async (sb) => {
    // df-sqldb's addToTransaction only updates (and only then checks the record exists) when
    // the parsed record is not empty.
    for (const method of ["PATCH", "PUT"]) {
      const byId = await sb.call(method, "db/_table/item/99", { nope: 1 });
      assert.equal(byId.status, 200, `${method}: ${JSON.stringify(byId.body)}`);
      assert.deepEqual(byId.body, { id: 99 });
    }
    // The id is answered cast to the key's type.
    assert.deepEqual((await sb.call("PATCH", "db/_table/item/1.5", { nope: 1 })).body, { id: 1 });
    const byIds = await sb.call("PATCH", "db/_table/item?ids=1,99", { resource: [{ nope: 1 }] });
    assert.equal(byIds.status, 200, JSON.stringify(byIds.body));
    assert.deepEqual(byIds.body, { resource: [{ id: 1 }, { id: 99 }] });
    const byRecords = await sb.call("PATCH", "db/_table/item", [{ id: 99, nope: 1 }]);
    assert.equal(byRecords.status, 200, JSON.stringify(byRecords.body));
    assert.deepEqual(byRecords.body, { resource: [{ id: 99 }] });
    // A known field still makes a missing record a 404.
    const known = await sb.call("PATCH", "db/_table/item/99", { title: "x" });
    assert.equal(known.status, 404, JSON.stringify(known.body));
    assert.equal(errorOf(known.body).message, "Record with identifier '99' not found.");
    // Asking for fields reads the records back (commitTransaction): missing ones are left out,
    // none found is a 404, wrapped in a 500 by patchRecordById / updateRecordById.
    const some = await sb.call("PATCH", "db/_table/item?ids=1,99&fields=id,title", {
      resource: [{ nope: 1 }],
    });
    assert.deepEqual(some.body, { resource: [{ id: 1, title: "a" }] });
    const none = await sb.call("PATCH", "db/_table/item?ids=99&fields=*", {
      resource: [{ nope: 1 }],
    });
    assert.equal(none.status, 404, JSON.stringify(none.body));
    assert.equal(errorOf(none.body).message, "No records were found using the given identifiers.");
    const patched = await sb.call("PATCH", "db/_table/item/99?fields=*", { nope: 1 });
    assert.equal(patched.status, 500, JSON.stringify(patched.body));
    assert.equal(
      errorOf(patched.body).message,
      "Failed to patch records from 'item'.\nNo records were found using the given identifiers.",
    );
    const put = await sb.call("PUT", "db/_table/item/99?fields=*", { nope: 1 });
    assert.equal(
      errorOf(put.body).message,
      "Failed to update records from 'item'.\nNo records were found using the given identifiers.",
    );
    assert.deepEqual((await sb.call("GET", "db/_table/item?fields=id")).body, {
      resource: [{ id: 1 }],
    });
  });
});

Deno.test("date and time values are written in the column's native format, as DateTime parses them", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "event",
        field: [
          { name: "id", type: "id" },
          { name: "day", type: "date", allow_null: true },
          { name: "at", type: "datetime", allow_null: true },
          { name: "ts", type: "timestamp", allow_null: true },
          { name: "tm", type: "time", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    // Schema::typecastToNative formats `new DateTime($value)` as Y-m-d, Y-m-d H:i:s or H:i:s:
    // an ISO timestamp from a JavaScript client loses its T, fraction and zone.
    const created = await sb.call("POST", "db/_table/event", [{
      day: "2024-01-05T10:20:30.000Z",
      at: "2024-01-05T10:20:30.123Z",
      ts: "2024-01-05",
      tm: "9:05",
    }, {
      day: "2024-02-30",
      at: "2024-01-05 10:20:30+02:00",
      ts: "not a date",
      tm: "2024-01-05T23:59:59Z",
    }]);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual((await sb.call("GET", "db/_table/event")).body, {
      resource: [
        {
          id: 1,
          day: "2024-01-05",
          at: "2024-01-05 10:20:30",
          ts: "2024-01-05 00:00:00",
          tm: "09:05:00",
        },
        // PHP rolls Feb 30 over; text it cannot parse is stored as sent.
        { id: 2, day: "2024-03-01", at: "2024-01-05 10:20:30", ts: "not a date", tm: "23:59:59" },
      ],
    });
    // A filter reads a value the way a write stores it: the text written finds its row.
    for (
      const [field, text, ids] of [
        ["day", "2024-01-05T10:20:30.000Z", [1]],
        ["at", "2024-01-05T10:20:30.123Z", [1, 2]],
        ["tm", "9:05", [1]],
        ["ts", "not a date", [2]],
      ] as const
    ) {
      const filter = encodeURIComponent(`${field} = '${text}'`);
      const found = await sb.call("GET", `db/_table/event?filter=${filter}&fields=id`);
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.deepEqual(
        (found.body as { resource: Rec[] }).resource.map((r) => r.id),
        ids,
        `${field} = '${text}'`,
      );
    }
  } finally {
    await sb.close();
  }
});

Deno.test("an id_field that is no column is skipped; none left cannot identify records", async () => {
  await withItems(async (sb) => {
    // getIdsInfo keeps the known names only.
    assert.deepEqual((await sb.call("GET", "db/_table/item?id_field=nope,title&ids=a")).body, {
      resource: [{ id: 1, title: "a", done: false, qty: 1, small: null, price: null, big: null }],
    });
    // None left: initTransaction's 500, wrapped by the by-id methods (outside the record loop).
    const list = await sb.call("GET", "db/_table/item?id_field=nope&ids=1");
    assert.equal(list.status, 500, JSON.stringify(list.body));
    assert.equal(errorOf(list.body).message, "Identifying field(s) could not be determined.");
    const cases: [string, string][] = [
      ["GET", "retrieve"],
      ["PATCH", "patch"],
      ["PUT", "update"],
      ["DELETE", "delete"],
    ];
    for (const [method, verb] of cases) {
      const body = method === "GET" || method === "DELETE" ? undefined : { title: "x" };
      const r = await sb.call(method, "db/_table/item/1?id_field=nope", body);
      assert.equal(r.status, 500, `${method}: ${JSON.stringify(r.body)}`);
      assert.equal(
        errorOf(r.body).message,
        `Failed to ${verb} records from 'item'.\nIdentifying field(s) could not be determined.`,
      );
    }
    // The same wrapping for the flags check of patchRecordsByIds / deleteRecordsByIds.
    const flags = await sb.call("DELETE", "db/_table/item/1?rollback=true&continue=true");
    assert.equal(flags.status, 500, JSON.stringify(flags.body));
    assert.equal(
      errorOf(flags.body).message,
      "Failed to delete records from 'item'.\nRollback and continue operations can not be requested at the same time.",
    );
    // A filter read does not need identifying fields.
    assert.equal((await sb.call("GET", "db/_table/item?id_field=nope&fields=id")).status, 200);
    assert.equal((await sb.call("GET", "db/_table/item/1")).status, 200, "nothing was deleted");
  });
});

Deno.test("an empty list of records is refused like a missing one on POST, PUT and PATCH", async () => {
  await withItems(async (sb) => {
    const cases: [string, string, unknown][] = [
      ["POST", "db/_table/item", { resource: [] }],
      ["POST", "db/_table/item", []],
      ["PATCH", "db/_table/item", { resource: [] }],
      ["PUT", "db/_table/item?ids=1", []],
      ["PATCH", "db/_table/item?filter=id%3D1", { resource: [] }],
    ];
    for (const [method, path, body] of cases) {
      const r = await sb.call(method, path, body);
      assert.equal(r.status, 400, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.match(String(errorOf(r.body).message), /^No record\(s\) detected in request\./);
    }
  });
});

Deno.test("a record without its id is refused as checkForIds does, quoting the record with print_r", async () => {
  await withItems(async (sb) => {
    const r = await sb.call("PATCH", "db/_table/item", [{ id: 1, title: "b" }, {
      title: "c",
      tags: { a: 1, b: [true, false, null] },
    }]);
    assert.equal(r.status, 400, JSON.stringify(r.body));
    const resource = (errorOf(r.body).context as Rec).resource as Rec[];
    assert.deepEqual(resource[0], { id: 1 });
    assert.equal(
      resource[1].message,
      "Required id field(s) not found in record 1: Array\n(\n    [title] =&gt; c\n" +
        "    [tags] =&gt; Array\n        (\n            [a] =&gt; 1\n" +
        "            [b] =&gt; Array\n                (\n                    [0] =&gt; 1\n" +
        "                    [1] =&gt; \n                    [2] =&gt; \n                )\n\n" +
        "        )\n\n)\n",
    );
    // A delete by records goes on with the id `false`, which an integer key refuses.
    const del = await sb.call("DELETE", "db/_table/item", [{ title: "a" }]);
    assert.equal(del.status, 400, JSON.stringify(del.body));
    assert.deepEqual(((errorOf(del.body).context as Rec).resource as Rec[])[0], {
      code: 400,
      context: null,
      message: "Field 'id' must be a valid integer.",
      status_code: 400,
    });
  });
  // On create only a required key (no default, not auto-increment) must be given.
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "code",
        field: [{ name: "code", type: "string", is_primary_key: true, allow_null: false }, {
          name: "label",
          type: "string",
          allow_null: true,
        }],
      }],
    });
    const created = await sb.call("POST", "db/_table/code", [{ label: "x" }]);
    assert.equal(created.status, 400, JSON.stringify(created.body));
    assert.equal(
      ((errorOf(created.body).context as Rec).resource as Rec[])[0].message,
      "Required id field(s) not found in record 0: Array\n(\n    [label] =&gt; x\n)\n",
    );
    assert.equal((await sb.call("POST", "db/_table/code", [{ code: "a" }])).status, 200);
  } finally {
    await sb.close();
  }
});

Deno.test("bigint takes values as sent and reads back as intval; smallint is an integer", async () => {
  await withItems(async (sb) => {
    // bigint falls to typecastToNative's default: no 400; text stays text in SQLite and reads
    // back through PHP's intval.
    const created = await sb.call("POST", "db/_table/item", [
      { title: "b", big: "abc" },
      { title: "c", big: "12abc" },
      { title: "d", big: " 7" },
      { title: "e", big: true },
    ]);
    assert.equal(created.status, 200, JSON.stringify(created.body));
    const read = await sb.call("GET", "db/_table/item?fields=big&filter=id%3E1");
    assert.deepEqual(read.body, {
      resource: [{ big: 0 }, { big: 12 }, { big: 7 }, { big: 1 }],
    });
    // A smallint column reads back as integer (Schema::extractSimpleType): values are cast.
    const bad = await sb.call("POST", "db/_table/item", [{ title: "f", small: "abc" }]);
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
  });
});

Deno.test("records written with fields asked for are read back once, in key order or `order`", async () => {
  await withItems(async (sb) => {
    // commitTransaction reads them back with one whereIn query (run through runQuery).
    const created = await sb.call("POST", "db/_table/item?fields=id,title", [
      { id: 9, title: "z" },
      { id: 5, title: "y" },
    ]);
    assert.deepEqual(created.body, { resource: [{ id: 5, title: "y" }, { id: 9, title: "z" }] });
    const patched = await sb.call("PATCH", "db/_table/item?fields=id,title", [
      { id: 9, title: "p" },
      { id: 1, title: "q" },
    ]);
    assert.deepEqual(patched.body, { resource: [{ id: 1, title: "q" }, { id: 9, title: "p" }] });
    const ordered = await sb.call("PATCH", "db/_table/item?ids=1,5,9,5&fields=id&order=id%20desc", {
      resource: [{ qty: 3 }],
    });
    assert.deepEqual(ordered.body, { resource: [{ id: 9 }, { id: 5 }, { id: 1 }] });
    // Without fields each record answers its id, in the order given.
    assert.deepEqual(
      (await sb.call("PATCH", "db/_table/item?ids=9,1", { resource: [{ qty: 4 }] })).body,
      {
        resource: [{ id: 9 }, { id: 1 }],
      },
    );
  });
});

Deno.test("the NULL messages name the field in lower case, as parseRecord does", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "person",
        field: [{ name: "id", type: "id" }, { name: "FirstName", type: "string" }, {
          name: "Age",
          type: "integer",
        }],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const missing = await sb.call("POST", "db/_table/person", [{ Age: 3 }]);
    assert.equal(
      ((errorOf(missing.body).context as Rec).resource as Rec[])[0].message,
      "Required field 'firstname' can not be NULL.",
    );
    const nulled = await sb.call("POST", "db/_table/person", [{ FirstName: "a", Age: null }]);
    assert.equal(
      ((errorOf(nulled.body).context as Rec).resource as Rec[])[0].message,
      "Field 'age' can not be NULL.",
    );
    // typecastToNative names it as the schema does.
    const bad = await sb.call("POST", "db/_table/person", [{ FirstName: "a", Age: "x" }]);
    assert.equal(
      ((errorOf(bad.body).context as Rec).resource as Rec[])[0].message,
      "Field 'Age' must be a valid integer.",
    );
  } finally {
    await sb.close();
  }
});

Deno.test("a missing record's 404 prints the id as cast to the key's type", async () => {
  await withItems(async (sb) => {
    for (const id of ["0099", "99.5", "%2099"]) {
      const r = await sb.call("GET", `db/_table/item/${id}`);
      assert.equal(r.status, 404, JSON.stringify(r.body));
      assert.equal(errorOf(r.body).message, "Record with identifier '99' not found.");
    }
    const del = await sb.call("DELETE", "db/_table/item?ids=1,099");
    assert.equal(
      ((errorOf(del.body).context as Rec).resource as Rec[])[1].message,
      "Record with identifier '99' not found.",
    );
  });
});

Deno.test("an empty id inside the ids list is kept and fails as an id", async () => {
  await withItems(async (sb) => {
    const r = await sb.call("GET", "db/_table/item?ids=,1,,1,&fields=id");
    assert.equal(r.status, 400, JSON.stringify(r.body));
    assert.deepEqual(errorOf(r.body).context, {
      error: [1],
      resource: [{ id: 1 }, {
        code: 400,
        context: null,
        message: "Field 'id' must be a valid integer.",
        status_code: 400,
      }],
    });
    // Commas at the ends are trimmed.
    assert.deepEqual((await sb.call("GET", "db/_table/item?ids=1,&fields=id")).body, {
      resource: [{ id: 1 }],
    });
  });
});

Deno.test("an object or list for a boolean column is false, as filter_var of an array is", async () => {
  await withItems(async (sb) => {
    assert.equal((await sb.call("PATCH", "db/_table/item/1", { done: true })).status, 200);
    const r = await sb.call("PATCH", "db/_table/item/1", { done: { a: 1 } });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.equal(((await sb.call("GET", "db/_table/item/1")).body as Rec).done, false);
  });
});

Deno.test("an update by id needs a non-empty object body; a list writes nothing", async () => {
  await withItems(async (sb) => {
    for (const body of [undefined, {}, []]) {
      const r = await sb.call("PATCH", "db/_table/item/1", body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(errorOf(r.body).message, "The request contains no valid record fields.");
    }
    const put = await sb.call("PUT", "db/_table/item/1", {});
    assert.equal(errorOf(put.body).message, "The request contains no valid record fields.");
    // A list (or a resource wrapper) names no column: the id is answered, nothing changes.
    const list = await sb.call("PATCH", "db/_table/item/1", [{ title: "x" }]);
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body, { id: 1 });
    const wrapped = await sb.call("PATCH", "db/_table/item/1", { resource: [{ title: "x" }] });
    assert.deepEqual(wrapped.body, { id: 1 });
    assert.equal(((await sb.call("GET", "db/_table/item/1")).body as Rec).title, "a");
  });
});

Deno.test("a by-id URL with commas acts on every id and answers the first one's result", async () => {
  await withItems(async (sb) => {
    await sb.call("POST", "db/_table/item", [{ title: "b" }, { title: "c" }]);
    // *RecordById hand the id to *RecordsByIds, which split it at commas.
    const patched = await sb.call("PATCH", "db/_table/item/2,3", { qty: 9 });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body, { id: 2 });
    assert.deepEqual((await sb.call("GET", "db/_table/item?fields=id,qty")).body, {
      resource: [{ id: 1, qty: 1 }, { id: 2, qty: 9 }, { id: 3, qty: 9 }],
    });
    // The first id's error is answered; a later failure is not (pickResponse(0)).
    const missing = await sb.call("GET", "db/_table/item/99,1?fields=id");
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    assert.equal(errorOf(missing.body).message, "Record with identifier '99' not found.");
    assert.deepEqual((await sb.call("GET", "db/_table/item/1,99?fields=id")).body, { id: 1 });
    const deleted = await sb.call("DELETE", "db/_table/item/3,2,");
    assert.deepEqual(deleted.body, { id: 3 });
    assert.deepEqual((await sb.call("GET", "db/_table/item?fields=id")).body, {
      resource: [{ id: 1 }],
    });
  });
});
