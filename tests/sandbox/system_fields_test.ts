/**
 * `fields` on system resources as DreamFactory 7 answers it: df-core's BaseModel hands the list
 * (split at commas, unchecked) to Eloquent, Laravel double-quotes each name and SQLite reads a
 * quoted name that is no column as the string it spells, under a column named by that quoted
 * text. Only a name SQLite cannot read that way (qualified, another table's `x.*`, bad syntax) is
 * a 500 quoting SQLite.
 */
import assert from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

/** The short 500 DreamFactory answers for an SQLite error on a system resource (its message
 * htmlentities-encoded, as every DreamFactory message is). */
function sqlite500(r: { status: number; body: unknown }, error: string) {
  const message = `SQLSTATE[HY000]: General error: 1 ${error}`.replace(/"/g, "&quot;");
  assert.deepEqual([r.status, r.body], [500, { error: { code: "HY000", message } }]);
}

Deno.test("an unknown name in fields is the string it spells, keyed by its quoted name, on every read", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }, { name: "b" }] });
    const list = await call(sb, "GET", "system/role?fields=id,nosuch", { token });
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(list.body.resource, [
      { id: 1, '"nosuch"': "nosuch" },
      { id: 2, '"nosuch"': "nosuch" },
    ]);
    const only = await call(sb, "GET", "system/role?fields=nosuch", { token });
    assert.deepEqual(only.body.resource, [{ '"nosuch"': "nosuch" }, { '"nosuch"': "nosuch" }]);
    const one = await call(sb, "GET", "system/role/1?fields=id,nosuch", { token });
    assert.deepEqual([one.status, one.body], [200, { id: 1, '"nosuch"': "nosuch" }]);
    const byIds = await call(sb, "GET", "system/role?ids=1&fields=nosuch", { token });
    assert.deepEqual([byIds.status, byIds.body], [200, { resource: [{ '"nosuch"': "nosuch" }] }]);
    // Records posted with a GET override select the same way.
    const tunnelled = await call(sb, "POST", "system/role?fields=name,nosuch", {
      token,
      headers: { "X-HTTP-Method": "GET" },
      body: { resource: [{ id: 2 }] },
    });
    assert.deepEqual(tunnelled.body, { resource: [{ name: "b", '"nosuch"': "nosuch" }] });
  });
});

Deno.test("a user's appended attributes and relations follow the selected names", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "U", email: "u@x.com" }],
    });
    const id = made.body.resource[0].id;
    const r = await call(
      sb,
      "GET",
      "system/user?fields=id,nosuch&related=lookup_by_user_id,user_to_app_to_role_by_user_id",
      { token },
    );
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const [user] = r.body.resource;
    assert.deepEqual(user, {
      id,
      '"nosuch"': "nosuch",
      confirmed: true,
      expired: false,
      lookup_by_user_id: [],
      user_to_app_to_role_by_user_id: [],
    });
    // The SELECT's order, then User::$appends, then the relations.
    assert.deepEqual(Object.keys(user), [
      "id",
      '"nosuch"',
      "confirmed",
      "expired",
      "lookup_by_user_id",
      "user_to_app_to_role_by_user_id",
    ]);
    // An appended attribute's name is no column either: its constant comes with it.
    const appended = await call(sb, "GET", `system/user/${id}?fields=confirmed`, { token });
    assert.deepEqual(appended.body, {
      '"confirmed"': "confirmed",
      confirmed: true,
      expired: false,
    });
  });
});

Deno.test("writes answer the fields they are asked for, unknown names included (buildResult)", async () => {
  await withSandbox(async (sb, token) => {
    const post = await call(sb, "POST", "system/role?fields=nosuch", {
      token,
      body: [{ name: "a" }, { name: "b" }],
    });
    assert.deepEqual([post.status, post.body], [201, {
      resource: [{ '"nosuch"': "nosuch" }, { '"nosuch"': "nosuch" }],
    }]);
    const patch = await call(sb, "PATCH", "system/role/1?fields=id,nosuch", {
      token,
      body: { description: "d" },
    });
    assert.deepEqual([patch.status, patch.body], [200, { id: 1, '"nosuch"': "nosuch" }]);
    const put = await call(sb, "PUT", "system/role?fields=nosuch,description", {
      token,
      body: [{ id: 2, description: "e" }],
    });
    assert.deepEqual(put.body, { resource: [{ '"nosuch"': "nosuch", description: "e" }] });
    const del = await call(sb, "DELETE", "system/role?ids=1,2&fields=name,nosuch", { token });
    assert.deepEqual(del.body, {
      resource: [{ name: "a", '"nosuch"': "nosuch" }, { name: "b", '"nosuch"': "nosuch" }],
    });
    // The key alone only for `fields` spelling the key exactly (or none).
    const upper = await call(sb, "POST", "system/role?fields=ID", { token, body: [{ name: "c" }] });
    assert.deepEqual(upper.body, { resource: [{ id: 3 }] });
  });
});

Deno.test("fields are split at commas only, and SQLite resolves each name", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }] });
    const get = async (fields: string) =>
      (await call(sb, "GET", `system/role/1?fields=${encodeURIComponent(fields)}`, { token })).body;
    // explode(',', ...) keeps the space: " name" is no column (Laravel trims only the ends).
    assert.deepEqual(await get("id, name"), { id: 1, '" name"': " name" });
    // Any case of a column, or the rowid, is that column under its own name; a repeat keeps its
    // first place.
    const cased = await get("NAME,Id,rowid,name");
    assert.deepEqual(cased, { name: "a", id: 1 });
    assert.deepEqual(Object.keys(cased), ["name", "id"]);
    // A trailing comma selects "" (an empty quoted name); a quote in a name is doubled.
    assert.deepEqual(await get("id,"), { id: 1, '""': "" });
    assert.deepEqual(await get('a"b'), { '"a""b"': 'a"b' });
    // `*` and `<table>.*` are every column; a qualified column is that column.
    const all = await get("nosuch,role.*");
    assert.equal(Object.keys(all)[0], '"nosuch"');
    assert.equal(all.name, "a");
    assert.equal(all.is_active, false);
    assert.deepEqual(await get("main.role.name"), { name: "a" });
  });
});

Deno.test("names SQLite cannot read are its 500, in the order it reports them", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }] });
    const get = (path: string) => call(sb, "GET", path, { token });
    sqlite500(await get("system/role?fields=id,role.nosuch"), "no such column: role.nosuch");
    sqlite500(await get("system/role?fields=x.id"), "no such column: x.id");
    sqlite500(await get("system/role?fields=x.*"), "no such table: x");
    sqlite500(await get("system/role?fields=a.b.c.d"), 'near ".": syntax error');
    sqlite500(await get("system/role?fields=main.role.*"), 'near "*": syntax error');
    // selectById runs the query before a missing record is a 404; a write's answer fails alike.
    sqlite500(await get("system/role/99?fields=role.nosuch"), "no such column: role.nosuch");
    const patch = await call(sb, "PATCH", "system/role/1?fields=role.nosuch", {
      token,
      body: { description: "x" },
    });
    assert.equal(patch.status, 500);
    assert.equal(
      messageOf(patch),
      "Failed to update resource: SQLSTATE[HY000]: General error: 1 no such column: role.nosuch",
    );
    // Syntax errors in text order, then another table's `x.*`, then names (fields before order).
    sqlite500(
      await get("system/role?fields=role.nosuch,x.*&order=a.b.c.d"),
      'near ".": syntax error',
    );
    sqlite500(await get("system/role?fields=role.nosuch,x.*&order=role.zz"), "no such table: x");
    sqlite500(
      await get("system/role?fields=role.nosuch&order=role.zz"),
      "no such column: role.nosuch",
    );
    // The query fails before relations are loaded or records counted.
    sqlite500(
      await get("system/role?fields=role.nosuch&related=nosuch"),
      "no such column: role.nosuch",
    );
    sqlite500(
      await get("system/role?fields=role.nosuch&count_only=true"),
      "no such column: role.nosuch",
    );
    // An alias or a JSON path would be renamed by Laravel: the sandbox says it does not model it.
    for (const fields of ["name as n", "name->x"]) {
      const r = await get(`system/role?fields=${encodeURIComponent(fields)}`);
      assert.equal(r.status, 400);
      assert.match(messageOf(r), /^The sandbox does not select this field/);
    }
  });
});

Deno.test("ids and as_list read the records as selected", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }, { name: "b" }] });
    // BaseModel::selectByIds matches the ids on the records answered: without the key, none.
    const r = await call(sb, "GET", "system/role?ids=1,9&fields=name&continue=true", { token });
    assert.equal(r.status, 400);
    assert.deepEqual(r.body.error.context.error, [0, 1]);
    assert.deepEqual(
      r.body.error.context.resource.map((e: { message: string }) => e.message),
      ["Record with identifier '1' not found.", "Record with identifier '9' not found."],
    );
    // array_column() of the records: those without the id field are skipped.
    const names = await call(sb, "GET", "system/role?as_list=true&id_field=name", { token });
    assert.deepEqual(names.body, { resource: ["a", "b"] });
    const none = await call(sb, "GET", "system/role?as_list=true&fields=name", { token });
    assert.deepEqual(none.body, { resource: [] });
    const pairs = await call(sb, "GET", "system/role?as_list=true&id_field=id,nosuch", {
      token,
    });
    assert.deepEqual(pairs.body, { resource: ["(1,)", "(2,)"] });
  });
});

Deno.test("models' cleanFields: Service's config brings id and type, lookups always private", async () => {
  await withSandbox(async (sb, token) => {
    const svc = await call(sb, "GET", "system/service/1?fields=config", { token });
    assert.deepEqual(svc.body, { id: 1, type: "system" });
    const both = await call(sb, "GET", "system/service/1?fields=name,config,nosuch", { token });
    assert.deepEqual(Object.keys(both.body), ["name", '"nosuch"', "id", "type"]);
    // The config column is loaded by `*` and kept when the list names id and type.
    const star = await call(sb, "GET", "system/service/1?fields=id,type,*", { token });
    assert.ok("config" in star.body);
    const starOnly = await call(sb, "GET", "system/service/1?fields=name,*", { token });
    assert.ok(!("config" in starOnly.body));
    await call(sb, "POST", "system/lookup", { token, body: [{ name: "k", value: "v" }] });
    const lookup = await call(sb, "GET", "system/lookup?fields=nosuch", { token });
    assert.deepEqual(lookup.body.resource, [{ '"nosuch"': "nosuch", private: false }]);
  });
});

Deno.test("a table keyed by name answers its rowid as `rowid`", async () => {
  await withSandbox(async (sb, token) => {
    const name = "db._table.todo.get.pre_process";
    await call(sb, "POST", `system/event_script/${name}`, {
      token,
      body: { name, type: "nodejs", content: "1" },
    });
    const r = await call(sb, "GET", "system/event_script?fields=name,rowid,nosuch", { token });
    assert.deepEqual(r.body.resource, [{ name, rowid: 1, '"nosuch"': "nosuch" }]);
  });
});
