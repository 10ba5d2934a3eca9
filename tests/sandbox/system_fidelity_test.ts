/**
 * System resources answering as DreamFactory 7 does where no transcript covers the case: what the
 * df-system resources and df-core models do with empty record lists, model errors on update and
 * delete, `ids` with the other options, order directions and validation messages.
 */
import assert from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

const NO_RECORDS =
  `No record(s) detected in request. Please make sure record(s) are wrapped in a 'resource' tag. Example: {&quot;resource&quot;:[{&quot;record&quot;:1},{&quot;record&quot;:2}]}`;

Deno.test("an empty record list is 'no records' for POST, PATCH and DELETE", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/role", {
      token,
      body: { resource: [{ name: "r" }] },
    });
    assert.equal(made.status, 201);
    for (
      const [method, path, body] of [
        ["POST", "system/role", { resource: [] }],
        ["POST", "system/lookup", []],
        ["PATCH", "system/role", { resource: [] }],
        ["PATCH", `system/role?ids=${made.body.resource[0].id}`, { resource: [] }],
        ["PUT", "system/role", []],
      ] as const
    ) {
      const r = await call(sb, method, path, { token, body });
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.equal(messageOf(r), NO_RECORDS, `${method} ${path}`);
    }
    const del = await call(sb, "DELETE", "system/role", { token, body: { resource: [] } });
    assert.equal(del.status, 400);
    assert.equal(messageOf(del), "No filter or records given for delete request.");
    const left = await call(sb, "GET", "system/role?fields=name", { token });
    assert.deepEqual(left.body.resource, [{ name: "r" }]);
  });
});
