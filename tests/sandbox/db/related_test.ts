/**
 * `related` reads on db tables checked against df-database's
 * BaseDbTableResource::retrieveRelatedRecords / retrieveRelationRecords.
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

/** post (has_many comment, many_many tag through post_tag), tags linked out of key order. */
async function withBlog(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const ref = (t: string) => ({ type: "reference", ref_table: t, ref_field: "id" });
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        { name: "post", field: [{ name: "id", type: "id" }, { name: "title", type: "string" }] },
        { name: "tag", field: [{ name: "id", type: "id" }, { name: "label", type: "string" }] },
        {
          name: "comment",
          field: [
            { name: "id", type: "id" },
            { name: "post_id", ...ref("post"), allow_null: true },
            { name: "body", type: "string" },
          ],
        },
        {
          name: "post_tag",
          field: [
            { name: "id", type: "id" },
            { name: "post_id", ...ref("post") },
            { name: "tag_id", ...ref("tag") },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    for (
      const [t, rows] of Object.entries({
        post: [{ title: "p1" }, { title: "p2" }],
        tag: [{ label: "a" }, { label: "b" }, { label: "c" }],
        comment: [{ post_id: 1, body: "c1" }, { post_id: 2, body: "c2" }, {
          post_id: 1,
          body: "c3",
        }],
        post_tag: [{ post_id: 1, tag_id: 3 }, { post_id: 1, tag_id: 1 }],
      })
    ) {
      const w = await sb.call("POST", `db/_table/${t}`, { resource: rows });
      assert.equal(w.status, 200, JSON.stringify(w.body));
    }
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("related fields: the match column added to map records back is removed again", async () => {
  await withBlog(async (sb) => {
    const many = await sb.call(
      "GET",
      "db/_table/post?fields=title&related=comment_by_post_id&comment_by_post_id.fields=body",
    );
    assert.deepEqual(many.body, {
      resource: [
        { title: "p1", id: 1, comment_by_post_id: [{ body: "c1" }, { body: "c3" }] },
        { title: "p2", id: 2, comment_by_post_id: [{ body: "c2" }] },
      ],
    });
    const one = await sb.call(
      "GET",
      "db/_table/comment/1?fields=body&related=post_by_post_id&post_by_post_id_fields=title",
    );
    assert.deepEqual(one.body, { body: "c1", post_id: 1, post_by_post_id: { title: "p1" } });
    // Asked for, the column stays.
    const kept = await sb.call(
      "GET",
      "db/_table/post/1?fields=id&related=comment_by_post_id&comment_by_post_id.fields=post_id,body",
    );
    assert.deepEqual(kept.body, {
      id: 1,
      comment_by_post_id: [{ post_id: 1, body: "c1" }, { post_id: 1, body: "c3" }],
    });
    // A space after the comma does not hide it (addToFields tests with strpos).
    const spaced = await sb.call(
      "GET",
      `db/_table/post/1?fields=id&related=comment_by_post_id&comment_by_post_id.fields=${
        encodeURIComponent("body, post_id")
      }`,
    );
    assert.deepEqual(spaced.body, {
      id: 1,
      comment_by_post_id: [{ body: "c1", post_id: 1 }, { body: "c3", post_id: 1 }],
    });
  });
});

Deno.test("related many_many records follow the junction rows' order", async () => {
  await withBlog(async (sb) => {
    const r = await sb.call("GET", "db/_table/post/1?fields=id&related=tag_by_post_tag");
    assert.deepEqual(r.body, {
      id: 1,
      tag_by_post_tag: [{ id: 3, label: "c" }, { id: 1, label: "a" }],
    });
  });
});

Deno.test("related relations come back in the schema's order; '*' ignores per-relation options", async () => {
  await withBlog(async (sb) => {
    const r = await sb.call(
      "GET",
      "db/_table/post/2?fields=id&related=tag_by_post_tag,comment_by_post_id",
    );
    assert.deepEqual(Object.keys(r.body as object), [
      "id",
      "comment_by_post_id",
      "tag_by_post_tag",
    ]);
    const all = await sb.call(
      "GET",
      "db/_table/post/1?fields=id&related=*&comment_by_post_id.fields=body&comment_by_post_id.limit=1",
    );
    assert.deepEqual((all.body as Record<string, unknown>).comment_by_post_id, [
      { id: 1, post_id: 1, body: "c1" },
      { id: 3, post_id: 1, body: "c3" },
    ]);
  });
});

Deno.test("a relation's limit caps the records of the whole page, not of each row (one query per relation)", async () => {
  await withBlog(async (sb) => {
    const get = async (q: string) => (await sb.call("GET", `db/_table/post?fields=id&${q}`)).body;
    // retrieveRelationRecords reads `(post_id IN (1,2))` once, with the relation's limit.
    assert.deepEqual(await get("related=comment_by_post_id&comment_by_post_id.limit=1"), {
      resource: [
        { id: 1, comment_by_post_id: [{ id: 1, post_id: 1, body: "c1" }] },
        { id: 2, comment_by_post_id: [] },
      ],
    });
    assert.deepEqual(
      await get(
        "related=comment_by_post_id&comment_by_post_id_limit=2&comment_by_post_id_order=id%20desc",
      ),
      {
        resource: [
          { id: 1, comment_by_post_id: [{ id: 3, post_id: 1, body: "c3" }] },
          { id: 2, comment_by_post_id: [{ id: 2, post_id: 2, body: "c2" }] },
        ],
      },
    );
    // many_many: the junction rows first, then `(id IN (3,1))` with the limit.
    assert.deepEqual(await get("related=tag_by_post_tag&tag_by_post_tag.limit=1"), {
      resource: [{ id: 1, tag_by_post_tag: [{ id: 1, label: "a" }] }, {
        id: 2,
        tag_by_post_tag: [],
      }],
    });
    // A page of one row (a record by id) is capped the same way.
    assert.deepEqual(
      (await sb.call(
        "GET",
        "db/_table/post/1?fields=id&related=comment_by_post_id&comment_by_post_id.limit=1",
      ))
        .body,
      { id: 1, comment_by_post_id: [{ id: 1, post_id: 1, body: "c1" }] },
    );
  });
});
