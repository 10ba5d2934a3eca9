/**
 * System resources reading related data and partial selections as DreamFactory 7 does
 * (df-core BaseModel::selectById/selectByRequest/selectByIds/buildResult, Laravel's eager
 * loading and BelongsToMany, the models' cleanFields and appended attributes, df-system
 * BaseSystemResource::handleGET), where no transcript covers the case.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { adminLogin, call, messageOf, withSandbox } from "./_helpers.ts";

Deno.test("partial fields load only their columns: relations keyed on an unloaded key are empty", async () => {
  await withSandbox(async (sb, token) => {
    const role = await call(sb, "POST", "system/role", {
      token,
      body: [{
        name: "r1",
        role_service_access_by_role_id: [
          { service_id: 1, component: "*", verb_mask: 1, requestor_mask: 1 },
        ],
      }],
    });
    assert.equal(role.status, 201, JSON.stringify(role.body));
    const app = await call(sb, "POST", "system/app", {
      token,
      body: [{ name: "a1", role_id: 1, is_active: true }],
    });
    const appId = app.body.resource[0].id;
    // belongs_to: without its foreign key (role_id) the relation matches nothing, so null.
    const noFk = await call(
      sb,
      "GET",
      `system/app/${appId}?fields=id,name&related=role_by_role_id`,
      {
        token,
      },
    );
    assert.deepEqual(noFk.body, { id: appId, name: "a1", launch_url: "", role_by_role_id: null });
    const withFk = await call(
      sb,
      "GET",
      `system/app/${appId}?fields=role_id&related=role_by_role_id`,
      {
        token,
      },
    );
    assert.equal(withFk.body.role_by_role_id.name, "r1");
    // has_many: without the parent's key (id) no child matches, so [].
    const noKey = await call(
      sb,
      "GET",
      "system/role?fields=name&related=role_service_access_by_role_id",
      { token },
    );
    assert.deepEqual(noKey.body.resource, [{ name: "r1", role_service_access_by_role_id: [] }]);
    const withKey = await call(
      sb,
      "GET",
      "system/role?fields=id&related=role_service_access_by_role_id",
      { token },
    );
    assert.equal(withKey.body.resource[0].role_service_access_by_role_id.length, 1);
    // many_many, the same.
    await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "u@x.com", user_to_app_to_role_by_user_id: [{ app_id: appId, role_id: 1 }] }],
    });
    const users = await call(
      sb,
      "GET",
      "system/user?fields=email&related=role_by_user_to_app_to_role",
      {
        token,
      },
    );
    assert.deepEqual(users.body.resource, [{
      email: "u@x.com",
      confirmed: true,
      expired: false,
      role_by_user_to_app_to_role: [],
    }]);
    // Writes answer through buildResult -> selectById with the same selection: `related` alone
    // selects the key only (has_many found, belongs_to not), `fields` without the key neither.
    const patched = await call(
      sb,
      "PATCH",
      "system/role/1?fields=name&related=role_service_access_by_role_id",
      { token, body: { description: "d" } },
    );
    assert.deepEqual(patched.body, { name: "r1", role_service_access_by_role_id: [] });
    const created = await call(sb, "POST", "system/app?related=role_by_role_id", {
      token,
      body: [{ name: "a2", role_id: 1 }],
    });
    assert.deepEqual(created.body.resource[0], {
      id: created.body.resource[0].id,
      launch_url: "",
      role_by_role_id: null,
    });
    // selectByIds looks the ids up in its answer: without the key none is found.
    const missing = await call(sb, "GET", "system/role?ids=1,99&fields=name", { token });
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error.context, {
      error: [0],
      resource: [{
        code: 404,
        context: null,
        message: "Record with identifier '1' not found.",
        status_code: 404,
      }],
    });
  });
});

Deno.test("partial fields come back in the order they are named (Laravel keeps the select's order)", async () => {
  await withSandbox(async (sb, token) => {
    // As recorded in df-observed/61-get-app.txt: role_id before is_active, as asked.
    const apps = await call(
      sb,
      "GET",
      "system/app?fields=id,name,api_key,role_id,is_active&related=role_by_role_id",
      { token },
    );
    assert.deepEqual(Object.keys(apps.body.resource[0]), [
      "id",
      "name",
      "api_key",
      "role_id",
      "is_active",
      "launch_url",
      "role_by_role_id",
    ]);
    // BaseSystemLookup::cleanFields adds `private` at the end unless it is named.
    await call(sb, "POST", "system/lookup", {
      token,
      body: [{ name: "k", value: "v", private: true }],
    });
    const lookups = await call(sb, "GET", "system/lookup?fields=value,name", { token });
    assert.deepEqual(lookups.body.resource, [{ value: "**********", name: "k", private: true }]);
    assert.deepEqual(Object.keys(lookups.body.resource[0]), ["value", "name", "private"]);
    const named = await call(sb, "GET", "system/lookup?fields=private,name", { token });
    assert.deepEqual(Object.keys(named.body.resource[0]), ["private", "name"]);
  });
});

Deno.test("services: Service::cleanFields trades `config` for id and type; only `*` shows config", async () => {
  await withSandbox(async (sb, token) => {
    const named = await call(sb, "GET", "system/service?fields=name", { token });
    assert.deepEqual(named.body.resource, [{ name: "system" }, { name: "db" }, { name: "user" }]);
    const config = await call(sb, "GET", "system/service?fields=name,config", { token });
    assert.deepEqual(config.body.resource, [
      { name: "system", id: 1, type: "system" },
      { name: "db", id: 2, type: "sqlite" },
      { name: "user", id: 3, type: "user" },
    ]);
    assert.deepEqual(Object.keys(config.body.resource[0]), ["name", "id", "type"]);
    const one = await call(sb, "GET", "system/service/2?fields=config", { token });
    assert.deepEqual(one.body, { id: 2, type: "sqlite" });
    const created = await call(sb, "POST", "system/service?fields=label,config", {
      token,
      body: [{ name: "lite", type: "sqlite", config: { database: "lite.sqlite" } }],
    });
    assert.deepEqual(created.body.resource[0], { label: "lite", id: 4, type: "sqlite" });
  });
});

Deno.test("User's confirmed and expired read the loaded confirm_code and last_modified_date", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/users.sqlite`;
  try {
    let sb = await startSandbox({ port: 0, data });
    let token = await adminLogin(sb);
    const made = await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "old@x.com" }, { email: "new@x.com" }],
    });
    const [oldId, newId] = made.body.resource.map((r: { id: number }) => r.id);
    await call(sb, "POST", "system/role", {
      token,
      body: [{
        name: "r",
        user_to_app_to_role_by_role_id: [{ user_id: oldId, app_id: 1 }],
      }],
    });
    await sb.close();
    // Two pending codes (as an invite leaves them): one older than df.confirm_code_ttl (1440
    // minutes), one fresh.
    const raw = new DatabaseSync(data);
    raw.prepare(`UPDATE user SET confirm_code = 'pending', last_modified_date = ? WHERE id = ?`)
      .run("2020-01-01 00:00:00", oldId);
    raw.prepare(`UPDATE user SET confirm_code = 'pending' WHERE id = ?`).run(newId);
    raw.close();
    sb = await startSandbox({ port: 0, data });
    token = await adminLogin(sb);
    try {
      const get = async (path: string) => (await call(sb, "GET", path, { token })).body;
      const flags = (r: { confirmed: boolean; expired: boolean }) => [r.confirmed, r.expired];
      assert.deepEqual(flags(await get(`system/user/${oldId}`)), [false, true]);
      assert.deepEqual(flags(await get(`system/user/${newId}`)), [false, false]);
      // confirm_code not selected: $this->confirm_code is null, so confirmed and not expired.
      assert.deepEqual(await get(`system/user/${oldId}?fields=id,email`), {
        id: oldId,
        email: "old@x.com",
        confirmed: true,
        expired: false,
      });
      // The code without its date: strtotime(null) is false (0), so any pending code expired.
      assert.deepEqual(flags(await get(`system/user/${newId}?fields=id,confirm_code`)), [
        false,
        true,
      ]);
      const dated = await get(`system/user/${newId}?fields=confirm_code,last_modified_date`);
      assert.deepEqual(Object.keys(dated), ["last_modified_date", "confirmed", "expired"]);
      assert.deepEqual(flags(dated), [false, false]);
      // Related users are whole rows.
      const role = await get("system/role?fields=id&related=user_by_user_to_app_to_role");
      assert.deepEqual(flags(role.resource[0].user_by_user_to_app_to_role[0]), [false, true]);
    } finally {
      await sb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("many_many rows are Laravel's BelongsToMany: one per junction row, in its order, with pivot", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "r1" }, { name: "r2" }],
    });
    // Junction rows in this order: (app 1, role 2), (app 2, role 1), (app 3, role 2).
    const user = await call(sb, "POST", "system/user", {
      token,
      body: [{
        email: "m@x.com",
        user_to_app_to_role_by_user_id: [
          { app_id: 1, role_id: 2 },
          { app_id: 2, role_id: 1 },
          { app_id: 3, role_id: 2 },
        ],
      }],
    });
    const uid = user.body.resource[0].id;
    const read = await call(
      sb,
      "GET",
      `system/user/${uid}?fields=id&related=role_by_user_to_app_to_role,app_by_user_to_app_to_role`,
      { token },
    );
    const roles = read.body.role_by_user_to_app_to_role;
    assert.deepEqual(
      roles.map((r: { id: number; pivot: unknown }) => [r.id, r.pivot]),
      [
        [2, { user_id: uid, role_id: 2 }],
        [1, { user_id: uid, role_id: 1 }],
        [2, { user_id: uid, role_id: 2 }],
      ],
    );
    assert.equal(Object.keys(roles[0]).at(-1), "pivot");
    const apps = read.body.app_by_user_to_app_to_role;
    assert.deepEqual(
      apps.map((a: { name: string; pivot: unknown }) => [a.name, a.pivot]),
      [
        ["admin", { user_id: uid, app_id: 1 }],
        ["api_docs", { user_id: uid, app_id: 2 }],
        ["file_manager", { user_id: uid, app_id: 3 }],
      ],
    );
    // App's launch_url is appended before the pivot relation.
    assert.deepEqual(Object.keys(apps[0]).slice(-2), ["launch_url", "pivot"]);
    // From the role's side: the user once per assignment, after User's appended attributes.
    const r2 = await call(sb, "GET", "system/role/2?related=user_by_user_to_app_to_role", {
      token,
    });
    const users = r2.body.user_by_user_to_app_to_role;
    assert.deepEqual(
      users.map((u: { id: number; pivot: unknown }) => [u.id, u.pivot]),
      [[uid, { role_id: 2, user_id: uid }], [uid, { role_id: 2, user_id: uid }]],
    );
    assert.deepEqual(Object.keys(users[0]).slice(-3), ["confirmed", "expired", "pivot"]);
    // Services through role_service_access: duplicates kept, access-row order, each a Service
    // model (config shown, as no model hides it).
    const role = await call(sb, "POST", "system/role", {
      token,
      body: [{
        name: "r3",
        role_service_access_by_role_id: [
          { service_id: 3, component: "*", verb_mask: 1, requestor_mask: 1 },
          { service_id: 1, component: "*", verb_mask: 1, requestor_mask: 1 },
          { service_id: 3, component: "x", verb_mask: 1, requestor_mask: 1 },
        ],
      }],
    });
    const rid = role.body.resource[0].id;
    const services = (await call(
      sb,
      "GET",
      `system/role/${rid}?fields=id&related=service_by_role_service_access`,
      { token },
    )).body.service_by_role_service_access;
    assert.deepEqual(
      services.map((s: { name: string; pivot: unknown }) => [s.name, s.pivot]),
      [
        ["user", { role_id: rid, service_id: 3 }],
        ["system", { role_id: rid, service_id: 1 }],
        ["user", { role_id: rid, service_id: 3 }],
      ],
    );
    assert.deepEqual(Object.keys(services[0]).slice(-2), ["config", "pivot"]);
    const db = (await call(sb, "GET", "system/app/1?related=service_by_storage_service_id", {
      token,
    })).body;
    assert.equal(db.service_by_storage_service_id, null);
  });
});

Deno.test("ids with include_schema answer meta.schema, as handleGET builds meta after either branch", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "r1" }] });
    const all = await call(sb, "GET", "system/role?include_schema=true", { token });
    const ids = await call(sb, "GET", "system/role?ids=1&include_schema=true&fields=id", { token });
    assert.equal(ids.status, 200);
    assert.deepEqual(ids.body, { resource: [{ id: 1 }], meta: { schema: all.body.meta.schema } });
    // Records in a tunnelled GET's body select the same way.
    const tunnelled = await call(sb, "POST", "system/role?include_schema=true&fields=name", {
      token,
      headers: { "X-HTTP-Method": "GET" },
      body: { resource: [{ id: 1 }] },
    });
    assert.deepEqual(tunnelled.body.meta.schema, all.body.meta.schema);
  });
});

Deno.test("group: each term is Builder::groupBy, so SQLite groups the rows or reports the name", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", {
      token,
      body: [
        { name: "r1", is_active: true },
        { name: "r2", is_active: false },
        { name: "r3", is_active: true },
      ],
    });
    const grouped = await call(
      sb,
      "GET",
      "system/role?group=is_active&fields=id,is_active&include_count=true",
      { token },
    );
    assert.equal(grouped.status, 200);
    // One row per group; countByRequest ignores the grouping.
    assert.deepEqual(
      grouped.body.resource.map((r: { is_active: boolean }) => r.is_active).sort(),
      [false, true],
    );
    assert.equal(grouped.body.meta.count, 3);
    // The group_by alias, read when `group` is absent.
    const alias = await call(sb, "GET", "system/role?group_by=is_active", { token });
    assert.equal(alias.body.resource.length, 2);
    // A quoted name no column has is SQLite's string constant: one group.
    const constant = await call(sb, "GET", "system/role?group=nothing", { token });
    assert.equal(constant.body.resource.length, 1);
    // "0" is empty() to PHP: no grouping.
    assert.equal((await call(sb, "GET", "system/role?group=0", { token })).body.resource.length, 3);
    const unknown = await call(sb, "GET", "system/role?group=role.nothing", { token });
    assert.equal(unknown.status, 500);
    assert.equal(
      messageOf(unknown),
      "SQLSTATE[HY000]: General error: 1 no such column: role.nothing",
    );
    const aliased = await call(sb, "GET", "system/role?group=name%20as%20n", { token });
    assert.equal(
      messageOf(aliased),
      "SQLSTATE[HY000]: General error: 1 near &quot;as&quot;: syntax error",
    );
    // SQLite resolves ORDER BY before GROUP BY.
    const both = await call(sb, "GET", "system/role?group=role.nothing&order=role.none", {
      token,
    });
    assert.equal(messageOf(both), "SQLSTATE[HY000]: General error: 1 no such column: role.none");
  });
});
