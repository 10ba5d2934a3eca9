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
