/**
 * System resources' list answers and writes as df-system's BaseSystemResource and df-core's
 * models give them: `as_list` on every list answer, lookups by id, user/admin guards on bulk
 * writes, records without a key, the insert's column order, `delete_storage` and password resets.
 */
import assert from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

Deno.test("as_list: every list answer becomes its id_field values (cleanResources)", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/role?as_list=true", {
      token,
      body: [{ name: "r1", description: "one" }, { name: "r2" }],
    });
    assert.equal(made.status, 201);
    assert.deepEqual(made.body, { resource: [1, 2] });

    // GET lists, with the meta beside the list; `ids` selections too.
    const counted = await call(sb, "GET", "system/role?as_list=true&include_count=true", {
      token,
    });
    assert.deepEqual(counted.body, { resource: [1, 2], meta: { count: 2 } });
    const byIds = await call(sb, "GET", "system/role?ids=2&as_list=true", { token });
    assert.deepEqual(byIds.body, { resource: [2] });
    // Tunnelled GET with records in the body selects by ids as well.
    const tunnelled = await call(sb, "POST", "system/role?as_list=true", {
      token,
      headers: { "X-HTTP-Method": "GET" },
      body: { resource: [{ id: 1 }] },
    });
    assert.deepEqual(tunnelled.body, { resource: [1] });

    // id_field names another field (trimmed, commas around dropped); several give "(a,b)",
    // a missing value "" and no comma after an empty() text.
    const names = await call(sb, "GET", "system/role?as_list=true&id_field=%20name,", { token });
    assert.deepEqual(names.body, { resource: ["r1", "r2"] });
    const pairs = await call(sb, "GET", "system/role?as_list=true&id_field=id,%20description", {
      token,
    });
    assert.deepEqual(pairs.body, { resource: ["(1,one)", "(2,)"] });
    const emptyFirst = await call(sb, "GET", "system/role?as_list=true&id_field=description,id", {
      token,
    });
    assert.deepEqual(emptyFirst.body, { resource: ["(one,1)", "(2)"] });
    // array_column reads the records as answered: `fields` without the id leaves nothing.
    const noId = await call(sb, "GET", "system/role?as_list=true&fields=name", { token });
    assert.deepEqual(noId.body, { resource: [] });

    // Writes: the records answered (the key alone unless fields widen them).
    const patched = await call(sb, "PATCH", "system/role?as_list=true", {
      token,
      body: [{ id: 1, description: "uno" }],
    });
    assert.deepEqual(patched.body, { resource: [1] });
    const byIdsPatch = await call(sb, "PATCH", "system/role?ids=1,2&as_list=true&fields=name", {
      token,
      body: [{ is_active: true }],
    });
    assert.deepEqual(byIdsPatch.body, { resource: [] });
    const named = await call(sb, "PATCH", "system/role?ids=1,2&as_list=true&id_field=name", {
      token,
      body: [{ is_active: true }],
    });
    assert.deepEqual(named.body, { resource: [] });
    const namedWithFields = await call(
      sb,
      "PATCH",
      "system/role?ids=1,2&as_list=true&id_field=name&fields=name",
      { token, body: [{ is_active: true }] },
    );
    assert.deepEqual(namedWithFields.body, { resource: ["r1", "r2"] });

    // By id the record itself is answered: no list to clean.
    const one = await call(sb, "PATCH", "system/role/1?as_list=true", {
      token,
      body: { description: "un" },
    });
    assert.deepEqual(one.body, { id: 1 });
    const got = await call(sb, "GET", "system/role/1?as_list=true&fields=name", { token });
    assert.deepEqual(got.body, { name: "r1" });

    const gone = await call(sb, "DELETE", "system/role?ids=1,2&as_list=true", { token });
    assert.deepEqual(gone.body, { resource: [1, 2] });
    const none = await call(sb, "GET", "system/role?as_list=true", { token });
    assert.deepEqual(none.body, { resource: [] });
  });
});

Deno.test("wrap=false: list answers unwrapped, writes included (wrapResources on demand)", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/role?wrap=false", {
      token,
      body: [{ name: "r1" }],
    });
    assert.equal(made.status, 201);
    assert.deepEqual(made.body, [{ id: 1 }]);
    const listed = await call(sb, "GET", "system/role?wrap=false&as_list=true", { token });
    assert.deepEqual(listed.body, [1]);
    // The meta is added to PHP's list: its keys are the positions.
    const counted = await call(sb, "GET", "system/role?wrap=false&include_count=true&fields=id", {
      token,
    });
    assert.deepEqual(counted.body, { 0: { id: 1 }, meta: { count: 1 } });
    const gone = await call(sb, "DELETE", "system/role?ids=1&wrap=0", { token });
    assert.deepEqual(gone.body, [{ id: 1 }]);
    const wrapped = await call(sb, "GET", "system/role?wrap=true", { token });
    assert.deepEqual(wrapped.body, { resource: [] });
  });
});

Deno.test("send_invite reads records without an id as handleInvitation does (no 'undefined')", async () => {
  await withSandbox(async (sb, token) => {
    // as_list: each item is a number, array_get() of its id is null, and find(null) fails
    // before anything is deleted.
    const listed = await call(sb, "POST", "system/user?send_invite=true&as_list=true", {
      token,
      body: [{ email: "y@x.com" }],
    });
    assert.equal(listed.status, 404);
    assert.equal(messageOf(listed), "User not found with id .");
    const kept = await call(sb, "GET", "system/user?as_list=true&id_field=email", { token });
    assert.deepEqual(kept.body.resource, ["y@x.com"]);
    // A by-id answer without its id (fields leave it out).
    const id = (await call(sb, "GET", "system/user?as_list=true", { token })).body.resource[0];
    const single = await call(sb, "PATCH", `system/user/${id}?send_invite=true&fields=email`, {
      token,
      body: { phone: "1" },
    });
    assert.equal(single.status, 500);
    assert.equal(messageOf(single), "Invalid user id in response.");
  });
});
