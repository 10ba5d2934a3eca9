/**
 * Paging, counting and grouping on db tables checked against df-sqldb's Table::runQuery.
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

/** A `comment` table with three rows over two `post_id` values. */
async function withComments(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "comment",
        field: [
          { name: "id", type: "id" },
          { name: "post_id", type: "integer", allow_null: true },
          { name: "body", type: "string" },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const w = await sb.call("POST", "db/_table/comment", {
      resource: [{ post_id: 1, body: "c1" }, { post_id: 2, body: "c2" }, {
        post_id: 1,
        body: "c3",
      }],
    });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("group: count_only and meta.count/next count the filtered rows, not the groups", async () => {
  await withComments(async (sb) => {
    // runQuery counts before it applies groupBy.
    const counted = await sb.call(
      "GET",
      "db/_table/comment?group=post_id&fields=post_id&include_count=true&limit=1",
    );
    assert.deepEqual(counted.body, { resource: [{ post_id: 1 }], meta: { count: 3, next: 1 } });
    const only = await sb.call("GET", "db/_table/comment?group=post_id&count_only=true");
    assert.equal(only.body, 3);
    // With the last group on the page, next still follows the row count.
    const last = await sb.call(
      "GET",
      "db/_table/comment?group=post_id&fields=post_id&include_count=true&limit=2",
    );
    assert.deepEqual(last.body, {
      resource: [{ post_id: 1 }, { post_id: 2 }],
      meta: { count: 3, next: 2 },
    });
  });
});
