/**
 * Record and schema behaviours checked against DreamFactory's PHP source (df-database's
 * BaseDbTableResource and DbSchemaResource, df-sqldb's Table) where no transcript covers them.
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

function errorOf(body: unknown): Rec {
  return (body as { error: Rec }).error;
}

/** A sandbox with a `todo` table (auto-increment id, a few typed columns). */
async function withTodo(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "todo",
        field: [
          { name: "id", type: "id" },
          { name: "title", type: "string" },
          { name: "done", type: "boolean", default: false },
          { name: "price", type: "decimal", allow_null: true },
          { name: "qty", type: "integer", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("POST keeps an explicit auto-increment id; a null id is refused as NOT NULL", async () => {
  await withTodo(async (sb) => {
    const created = await sb.call("POST", "db/_table/todo", { resource: [{ id: 42, title: "a" }] });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    assert.deepEqual(created.body, { resource: [{ id: 42 }] });
    assert.deepEqual((await sb.call("GET", "db/_table/todo?fields=id,title")).body, {
      resource: [{ id: 42, title: "a" }],
    });
    // Without an id the key continues from the explicit one.
    assert.deepEqual((await sb.call("POST", "db/_table/todo", [{ title: "b" }])).body, {
      resource: [{ id: 43 }],
    });
    const nullId = await sb.call("POST", "db/_table/todo", {
      resource: [{ id: null, title: "c" }],
    });
    assert.equal(nullId.status, 400);
    const err = errorOf(nullId.body);
    assert.equal(err.code, 1000);
    assert.deepEqual((err.context as Rec).resource, [{
      code: 400,
      context: null,
      message: "Field 'id' can not be NULL.",
      status_code: 400,
    }]);
  });
});

Deno.test("POST/PATCH/PUT on _schema/{table} for a missing table are 404s, not creates", async () => {
  await withTodo(async (sb) => {
    const def = { field: [{ name: "id", type: "id" }, { name: "title", type: "string" }] };
    for (const method of ["POST", "PATCH", "PUT"]) {
      const r = await sb.call(method, "db/_schema/newtbl", def);
      assert.equal(r.status, 404, `${method}: ${JSON.stringify(r.body)}`);
      assert.equal(
        errorOf(r.body).message,
        "Table &quot;newtbl&quot; does not exist in the database.",
      );
    }
    assert.deepEqual((await sb.call("GET", "db/_table")).body, { resource: [{ name: "todo" }] });
    // An existing table is still merged into.
    const merged = await sb.call("PATCH", "db/_schema/todo", {
      field: [{ name: "note", type: "string", allow_null: true }],
    });
    assert.equal(merged.status, 200, JSON.stringify(merged.body));
    assert.deepEqual(merged.body, { name: "todo" });
  });
});

Deno.test("PATCH/PUT of a record with no known column skip the update and answer the ids", async () => {
  await withTodo(async (sb) => {
    await sb.call("POST", "db/_table/todo", [{ title: "a" }]);
    const byId = await sb.call("PATCH", "db/_table/todo/1", { titel: "typo" });
    assert.equal(byId.status, 200, JSON.stringify(byId.body));
    assert.deepEqual(byId.body, { id: 1 });
    assert.deepEqual(
      (await sb.call("PUT", "db/_table/todo", { resource: [{ id: 1, titel: "typo" }] })).body,
      { resource: [{ id: 1 }] },
    );
    assert.deepEqual(
      (await sb.call("PATCH", "db/_table/todo?ids=1", { resource: [{ titel: "typo" }] })).body,
      { resource: [{ id: 1 }] },
    );
    assert.deepEqual(
      (await sb.call("PATCH", "db/_table/todo?filter=id%3D1", { resource: [{ titel: "x" }] }))
        .body,
      { resource: [{ id: 1 }] },
    );
    assert.deepEqual((await sb.call("GET", "db/_table/todo/1?fields=title")).body, {
      title: "a",
    });
  });
});

Deno.test("PATCH by filter answers the filter's rows after the update, paged", async () => {
  await withTodo(async (sb) => {
    await sb.call("POST", "db/_table/todo", [{ title: "a" }, { title: "b" }, {
      title: "c",
      done: true,
    }]);
    // Every matched row is updated, but none matches the filter afterwards.
    const gone = await sb.call("PATCH", "db/_table/todo?filter=done%3Dfalse", {
      resource: [{ done: true }],
    });
    assert.equal(gone.status, 200, JSON.stringify(gone.body));
    assert.deepEqual(gone.body, { resource: [] });
    assert.deepEqual(
      (await sb.call("GET", "db/_table/todo?filter=done%3Dtrue&count_only=true")).body,
      3,
    );
    // limit/offset/order shape the answer, not the update.
    const paged = await sb.call(
      "PATCH",
      "db/_table/todo?filter=done%3Dtrue&order=id%20desc&limit=1&offset=1&fields=id,qty",
      { resource: [{ qty: 7 }] },
    );
    assert.deepEqual(paged.body, { resource: [{ id: 2, qty: 7 }] });
    assert.deepEqual((await sb.call("GET", "db/_table/todo?fields=qty")).body, {
      resource: [{ qty: 7 }, { qty: 7 }, { qty: 7 }],
    });
  });
});

Deno.test("DELETE by filter deletes only the page limit/offset/order select", async () => {
  await withTodo(async (sb) => {
    await sb.call("POST", "db/_table/todo", ["a", "b", "c", "d"].map((title) => ({ title })));
    const r = await sb.call("DELETE", "db/_table/todo?filter=done%3Dfalse&limit=2&order=id%20desc");
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual(r.body, { resource: [{ id: 4 }, { id: 3 }] });
    assert.deepEqual((await sb.call("GET", "db/_table/todo?fields=id")).body, {
      resource: [{ id: 1 }, { id: 2 }],
    });
  });
});

Deno.test("DELETE by filter without a limit stops at the max records cap", async () => {
  const sb = await sandbox({ maxRecords: 3 });
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "t",
        field: [{ name: "id", type: "id" }, { name: "v", type: "integer" }],
      }],
    });
    await sb.call("POST", "db/_table/t", [1, 2, 3, 4, 5].map((v) => ({ v })));
    const r = await sb.call("DELETE", "db/_table/t?filter=v%3E0");
    assert.deepEqual(r.body, {
      resource: [{ id: 1 }, { id: 2 }, { id: 3 }],
      meta: { count: 5, next: 3 },
    });
    assert.deepEqual((await sb.call("GET", "db/_table/t?fields=id")).body, {
      resource: [{ id: 4 }, { id: 5 }],
    });
  } finally {
    await sb.close();
  }
});

Deno.test("GET ?ids= stops at the first missing id unless continue is set", async () => {
  await withTodo(async (sb) => {
    await sb.call("POST", "db/_table/todo", [{ title: "a" }, { title: "b" }]);
    const notFound = {
      code: 404,
      context: null,
      message: "Record with identifier '999' not found.",
      status_code: 404,
    };
    const stop = await sb.call("GET", "db/_table/todo?ids=999,1&fields=id");
    assert.equal(stop.status, 400);
    assert.deepEqual(errorOf(stop.body).context, { error: [0], resource: [notFound] });
    const cont = await sb.call("GET", "db/_table/todo?ids=999,1&fields=id&continue=true");
    assert.deepEqual(errorOf(cont.body).context, { error: [0], resource: [notFound, { id: 1 }] });
  });
});

Deno.test("batch errors list only ids for written records, even when fields asks for more", async () => {
  await withTodo(async (sb) => {
    const expected = {
      error: [1],
      resource: [{ id: 1 }, {
        code: 400,
        context: null,
        message: "Field 'title' can not be NULL.",
        status_code: 400,
      }, { id: 2 }],
    };
    const post = await sb.call("POST", "db/_table/todo?fields=*&continue=true", {
      resource: [{ title: "a" }, { title: null }, { title: "b" }],
    });
    assert.equal(post.status, 400);
    assert.deepEqual(errorOf(post.body).context, expected);
    const patch = await sb.call("PATCH", "db/_table/todo?fields=*&continue=true", {
      resource: [{ id: 1, qty: 1 }, { id: 2, title: null }, { id: 2, qty: 2 }],
    });
    assert.equal(patch.status, 400);
    assert.deepEqual(errorOf(patch.body).context, expected);
    // Without a failure the fields asked for come back, read after every record is written
    // (one whereIn query: a record written twice comes back once).
    const ok = await sb.call("PATCH", "db/_table/todo?fields=id,qty", {
      resource: [{ id: 1, qty: 5 }, { id: 1, qty: 6 }],
    });
    assert.deepEqual(ok.body, { resource: [{ id: 1, qty: 6 }] });
  });
});

Deno.test("_schema errors use DbSchemaResource's wording", async () => {
  await withTodo(async (sb) => {
    const expect = async (
      method: string,
      path: string,
      body: unknown,
      status: number,
      message: string,
    ) => {
      const r = await sb.call(method, path, body);
      assert.equal(r.status, status, `${method} ${path}: ${JSON.stringify(r.body)}`);
      assert.equal(errorOf(r.body).message, message, `${method} ${path}`);
    };
    await expect("POST", "db/_schema", {}, 400, "No data in schema create request.");
    await expect("PATCH", "db/_schema", { resource: [] }, 400, "No data in schema update request.");
    await expect("DELETE", "db/_schema", undefined, 400, "No data in schema delete request.");
    await expect("DELETE", "db/_schema?ids=nosuch", undefined, 404, "Table 'nosuch' not found.");
    await expect(
      "GET",
      "db/_schema?ids=nosuch",
      undefined,
      404,
      "Table 'nosuch' does not exist in the database.",
    );
    // A nameless definition refuses the whole request, before anything is created.
    await expect(
      "POST",
      "db/_schema",
      { resource: [{ name: "t2", field: [{ name: "id", type: "id" }] }, { field: [] }] },
      400,
      "Table schema received does not have a valid name.",
    );
    assert.deepEqual((await sb.call("GET", "db/_table")).body, { resource: [{ name: "todo" }] });
  });
});

Deno.test("write values convert as typecastToNative does: floatval, '' to null, filter_var booleans", async () => {
  await withTodo(async (sb) => {
    const rows = [
      { title: "a", price: "abc" },
      { title: "b", price: "12.5kg", qty: "" },
      { title: "c", done: "t" },
      { title: "d", done: "y" },
      { title: "e", done: "Yes" },
      { title: "f", done: 2 },
    ];
    const r = await sb.call("POST", "db/_table/todo", { resource: rows });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual((await sb.call("GET", "db/_table/todo?fields=price,qty,done")).body, {
      resource: [
        { price: 0, qty: null, done: false },
        { price: 12.5, qty: null, done: false },
        { price: null, qty: null, done: false },
        { price: null, qty: null, done: false },
        { price: null, qty: null, done: true },
        { price: null, qty: null, done: false },
      ],
    });
    // Refusals typecastToNative shares keep their messages.
    const bad = await sb.call("POST", "db/_table/todo", { resource: [{ title: "g", qty: "x" }] });
    assert.deepEqual((errorOf(bad.body).context as Rec).resource, [{
      code: 400,
      context: null,
      message: "Field 'qty' must be a valid integer.",
      status_code: 400,
    }]);
  });
});

Deno.test("writes by filter: a failing UPDATE or DELETE (a constraint) is wrapped in the 500 naming the table", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        {
          name: "parent",
          field: [{ name: "id", type: "id" }, { name: "code", type: "string", is_unique: true }],
        },
        {
          name: "child",
          field: [
            { name: "id", type: "id" },
            { name: "parent_id", type: "reference", ref_table: "parent", ref_field: "id" },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sb.call("POST", "db/_table/parent", [{ code: "a" }, { code: "b" }]);
    await sb.call("POST", "db/_table/child", [{ parent_id: 1 }]);
    // updateRecordsByFilter's $builder->update() and deleteRecordsByFilter's $builder->delete()
    // run inside their try: the QueryException is wrapped, not answered on its own.
    const update = await sb.call("PATCH", "db/_table/parent?filter=id%3D2", [{ code: "a" }]);
    assert.equal(update.status, 500, JSON.stringify(update.body));
    assert.match(
      String(errorOf(update.body).message),
      /^Failed to update records in 'parent'\.\nSQLSTATE\[23000\]: Integrity constraint violation: 19 UNIQUE constraint failed: parent\.code /,
    );
    assert.equal(errorOf(update.body).status_code, 500);
    const del = await sb.call("DELETE", "db/_table/parent?filter=id%3D1");
    assert.equal(del.status, 500, JSON.stringify(del.body));
    assert.match(
      String(errorOf(del.body).message),
      /^Failed to delete records from 'parent'\.\nSQLSTATE\[23000\]: Integrity constraint violation: 19 FOREIGN KEY constraint failed /,
    );
    assert.equal(errorOf(del.body).status_code, 500);
    const left = await sb.call("GET", "db/_table/parent");
    assert.deepEqual(left.body, { resource: [{ id: 1, code: "a" }, { id: 2, code: "b" }] });
  } finally {
    await sb.close();
  }
});
