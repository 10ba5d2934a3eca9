import { deepStrictEqual, equal, match, ok } from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

/** Each system resource with two records to create and a change to apply (data, not code). */
const RESOURCES: {
  path: string;
  key?: string;
  create: Record<string, unknown>[];
  change: Record<string, unknown>;
  check: string;
}[] = [
  {
    path: "user",
    create: [{ name: "Ann", email: "ann@x.com" }, { name: "Ben", email: "ben@x.com" }],
    change: { phone: "555" },
    check: "phone",
  },
  {
    path: "admin",
    create: [{ name: "Ada", email: "ada@x.com", password: "Secret123!" }, {
      name: "Bo",
      email: "bo@x.com",
    }],
    change: { first_name: "A." },
    check: "first_name",
  },
  {
    path: "role",
    create: [{ name: "r1", is_active: true }, { name: "r2" }],
    change: { description: "changed" },
    check: "description",
  },
  {
    path: "app",
    create: [{ name: "a1", type: 0, is_active: true }, { name: "a2", type: 0 }],
    change: { description: "changed" },
    check: "description",
  },
  {
    path: "service",
    create: [
      { name: "s1", type: "sqlite", is_active: true, config: { database: "s1.sqlite" } },
      { name: "s2", type: "sqlite", config: { database: "s2.sqlite" } },
    ],
    change: { label: "Changed" },
    check: "label",
  },
  {
    path: "lookup",
    create: [{ name: "k1", value: "v1" }, { name: "k2", value: "v2" }],
    change: { value: "v9" },
    check: "value",
  },
  {
    path: "cors",
    create: [{ path: "api/v2/*", origin: "*", method: ["GET"] }, {
      path: "x",
      origin: "http://a.b",
      method: 3,
    }],
    change: { description: "changed" },
    check: "description",
  },
  {
    path: "email_template",
    create: [{ name: "t1", subject: "Hi", to: "a@x.com,b@x.com" }, { name: "t2" }],
    change: { subject: "Hello" },
    check: "subject",
  },
  {
    path: "limit",
    create: [
      { name: "l1", type: "instance", rate: 10, period: "minute" },
      { name: "l2", type: "instance", rate: 5, period: 2 },
    ],
    change: { description: "changed" },
    check: "description",
  },
  {
    path: "event_script",
    key: "name",
    create: [
      { name: "db._table.x.get.pre_process", type: "nodejs", content: "//" },
      { name: "db._table.y.get.pre_process", type: "php", content: "//" },
    ],
    change: { content: "// changed" },
    check: "content",
  },
  {
    path: "custom",
    key: "name",
    create: [{ name: "c1", value: { a: 1 } }, { name: "c2", value: [1, 2] }],
    change: { value: "x" },
    check: "value",
  },
];

for (const r of RESOURCES) {
  Deno.test(`system/${r.path}: create, list, get, PATCH/PUT by id, ids and batch, delete`, async () => {
    await withSandbox(async (sb, token) => {
      const key = r.key ?? "id";
      const created = await call(sb, "POST", `system/${r.path}`, {
        token,
        body: { resource: r.create },
      });
      equal(created.status, 201, JSON.stringify(created.body));
      equal(created.body.resource.length, 2);
      const ids = created.body.resource.map((x: Record<string, unknown>) => String(x[key]));
      ok(ids.every((id: string) => id && id !== "undefined"), "write answers carry the key");
      deepStrictEqual(
        Object.keys(created.body.resource[0]),
        [key],
        "default write view is the key",
      );

      const one = await call(sb, "GET", `system/${r.path}/${encodeURIComponent(ids[0])}`, {
        token,
      });
      if (r.path === "custom") deepStrictEqual(one.body, r.create[0].value);
      else equal(String(one.body[key]), ids[0]);

      const listed = await call(sb, "GET", `system/${r.path}?ids=${ids.join(",")}&fields=${key}`, {
        token,
      });
      equal(listed.status, 200);
      deepStrictEqual(
        listed.body.resource.map((x: Record<string, unknown>) => String(x[key])),
        ids,
      );

      const counted = await call(sb, "GET", `system/${r.path}?include_count=true&limit=1`, {
        token,
      });
      equal(counted.body.resource.length, 1);
      ok(counted.body.meta.count >= 2);
      const n = await call(sb, "GET", `system/${r.path}?count_only=true`, { token });
      equal(typeof n.body, "number");

      const patched = await call(
        sb,
        "PATCH",
        `system/${r.path}/${encodeURIComponent(ids[0])}?fields=${key},${r.check}`,
        { token, body: r.change },
      );
      equal(patched.status, 200, JSON.stringify(patched.body));
      deepStrictEqual(patched.body[r.check], r.change[r.check]);

      const put = await call(sb, "PUT", `system/${r.path}/${encodeURIComponent(ids[1])}`, {
        token,
        body: r.change,
      });
      equal(put.status, 200, JSON.stringify(put.body));
      deepStrictEqual(put.body, { [key]: r.key ? ids[1] : Number(ids[1]) });

      const byIds = await call(sb, "PATCH", `system/${r.path}?ids=${ids.join(",")}`, {
        token,
        body: { resource: [r.change] },
      });
      equal(byIds.status, 200, JSON.stringify(byIds.body));
      equal(byIds.body.resource.length, 2);

      const batch = await call(sb, "PATCH", `system/${r.path}?fields=${key},${r.check}`, {
        token,
        body: {
          resource: ids.map((id: string) => ({ [key]: r.key ? id : Number(id), ...r.change })),
        },
      });
      equal(batch.status, 200, JSON.stringify(batch.body));
      deepStrictEqual(batch.body.resource.map((x: Record<string, unknown>) => x[r.check]), [
        r.change[r.check],
        r.change[r.check],
      ]);

      const del = await call(sb, "DELETE", `system/${r.path}/${encodeURIComponent(ids[0])}`, {
        token,
      });
      equal(del.status, 200);
      const gone = await call(sb, "GET", `system/${r.path}/${encodeURIComponent(ids[0])}`, {
        token,
      });
      equal(gone.status, 404);
      equal(messageOf(gone), `Record with identifier '${ids[0]}' not found.`);
      const delIds = await call(
        sb,
        "DELETE",
        `system/${r.path}?ids=${encodeURIComponent(ids[1])}`,
        {
          token,
        },
      );
      equal(delIds.status, 200);
      equal(delIds.body.resource.length, 1);
    });
  });
}

Deno.test("a fresh sandbox looks like a fresh DreamFactory 7", async () => {
  await withSandbox(async (sb, token) => {
    const services = await call(sb, "GET", "system/service?fields=id,name,type", { token });
    deepStrictEqual(services.body.resource, [
      { id: 1, name: "system", type: "system" },
      { id: 2, name: "db", type: "sqlite" },
      { id: 3, name: "user", type: "user" },
    ]);
    const apps = await call(sb, "GET", "system/app?fields=name,api_key", { token });
    deepStrictEqual(apps.body.resource.map((a: { name: string }) => a.name), [
      "admin",
      "api_docs",
      "file_manager",
    ]);
    equal(
      apps.body.resource[0].api_key,
      "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d",
    );
    deepStrictEqual((await call(sb, "GET", "system/role", { token })).body, { resource: [] });
    const templates = await call(sb, "GET", "system/email_template?fields=name", { token });
    deepStrictEqual(templates.body.resource.map((t: { name: string }) => t.name), [
      "User Invite Default",
      "User Registration Default",
      "Password Reset Default",
    ]);
    const admins = await call(sb, "GET", "system/admin?fields=id,email", { token });
    deepStrictEqual(admins.body.resource, [{
      id: 1,
      email: "admin@example.com",
      confirmed: true,
      expired: false,
    }]);
    const types = await call(sb, "GET", "system/service_type?fields=name", { token });
    ok(types.body.resource.some((t: { name: string }) => t.name === "sqlite"));
    const one = await call(sb, "GET", "system/service_type/nope", { token });
    equal(one.status, 404);
    equal(messageOf(one), "Service type 'nope' not found.");
  });
});

Deno.test("passwords are hashed, never returned; users keep DreamFactory's create quirks", async () => {
  await withSandbox(async (sb, token) => {
    const r = await call(sb, "POST", "system/user?fields=*", {
      token,
      body: {
        resource: [{
          first_name: "Kim",
          last_name: "Lee",
          email: "kim@x.com",
          password: "Secret123!",
          is_active: false,
        }],
      },
    });
    const u = r.body.resource[0];
    equal(u.name, "Kim Lee");
    equal(u.username, "kim@x.com");
    equal(u.is_active, true, "is_active:false is dropped at create, as DreamFactory does");
    ok(!("password" in u) && !("is_sys_admin" in u));
    const all = JSON.stringify((await call(sb, "GET", "system/user", { token })).body);
    ok(!all.includes("Secret123!") && !all.includes("scrypt"));
  });
});

Deno.test("roles: relations are written and read by DreamFactory's names", async () => {
  await withSandbox(async (sb, token) => {
    const created = await call(
      sb,
      "POST",
      "system/role?fields=*&related=role_service_access_by_role_id",
      {
        token,
        body: {
          resource: [{
            name: "readers",
            is_active: true,
            role_service_access_by_role_id: [{
              service_id: 2,
              component: "_table/*",
              verb_mask: 1,
              requestor_mask: 1,
              filters: [],
              filter_op: "AND",
            }],
          }],
        },
      },
    );
    equal(created.status, 201);
    const role = created.body.resource[0];
    equal(role.role_service_access_by_role_id.length, 1);
    const rsa = role.role_service_access_by_role_id[0];
    // PATCH appends rows; FK null deletes a row.
    const added = await call(
      sb,
      "PATCH",
      `system/role/${role.id}?related=role_service_access_by_role_id`,
      {
        token,
        body: {
          role_service_access_by_role_id: [{
            service_id: 2,
            component: "_schema/*",
            verb_mask: 1,
            requestor_mask: 1,
          }],
        },
      },
    );
    equal(added.body.role_service_access_by_role_id.length, 2);
    const removed = await call(
      sb,
      "PATCH",
      `system/role/${role.id}?related=role_service_access_by_role_id`,
      {
        token,
        body: { role_service_access_by_role_id: [{ id: rsa.id, role_id: null }] },
      },
    );
    deepStrictEqual(
      removed.body.role_service_access_by_role_id.map((x: { component: string }) => x.component),
      [
        "_schema/*",
      ],
    );
    const many = await call(
      sb,
      "GET",
      `system/role/${role.id}?related=service_by_role_service_access`,
      { token },
    );
    deepStrictEqual(many.body.service_by_role_service_access.map((s: { name: string }) => s.name), [
      "db",
    ]);
    const bad = await call(sb, "GET", "system/user?related=role_by_role_id", { token });
    equal(bad.status, 400);
    equal(messageOf(bad), "Unknown relationship: role_by_role_id");
  });
});

Deno.test("users are assigned app roles through user_to_app_to_role_by_user_id", async () => {
  await withSandbox(async (sb, token) => {
    const role =
      (await call(sb, "POST", "system/role", { token, body: [{ name: "r", is_active: true }] }))
        .body.resource[0];
    const user =
      (await call(sb, "POST", "system/user", { token, body: [{ name: "U", email: "u@x.com" }] }))
        .body.resource[0];
    const r = await call(
      sb,
      "PATCH",
      `system/user/${user.id}?related=user_to_app_to_role_by_user_id`,
      {
        token,
        body: { user_to_app_to_role_by_user_id: [{ app_id: 1, role_id: role.id }] },
      },
    );
    deepStrictEqual(r.body.user_to_app_to_role_by_user_id, [{
      id: 1,
      user_id: user.id,
      app_id: 1,
      role_id: role.id,
    }]);
    const twice = await call(sb, "PATCH", `system/user/${user.id}`, {
      token,
      body: { user_to_app_to_role_by_user_id: [{ app_id: 1, role_id: role.id }] },
    });
    equal(twice.status, 400);
    match(messageOf(twice), /^Multiple user-to-app-to-role assignment/);
    const via = await call(
      sb,
      "GET",
      `system/user/${user.id}?related=role_by_user_to_app_to_role,app_by_user_to_app_to_role`,
      { token },
    );
    equal(via.body.role_by_user_to_app_to_role[0].name, "r");
    equal(via.body.app_by_user_to_app_to_role[0].name, "admin");
  });
});

Deno.test("apps get a 64-hex API key; private lookups are masked; cors methods read back as verbs", async () => {
  await withSandbox(async (sb, token) => {
    const app = await call(sb, "POST", "system/app?fields=api_key,launch_url", {
      token,
      body: [{ name: "k", type: 0, is_active: true }],
    });
    match(app.body.resource[0].api_key, /^[0-9a-f]{64}$/);
    equal(app.body.resource[0].launch_url, "");
    const lk = await call(sb, "POST", "system/lookup?fields=*", {
      token,
      body: [{ name: "secret", value: "s3", private: true }],
    });
    equal(lk.body.resource[0].value, "**********");
    await call(sb, "PATCH", `system/lookup/${lk.body.resource[0].id}`, {
      token,
      body: { value: "**********" },
    });
    const dup = await call(sb, "POST", "system/lookup", {
      token,
      body: [{ name: "secret", value: "x" }],
    });
    equal(dup.status, 400);
    const cors = await call(sb, "POST", "system/cors?fields=method", {
      token,
      body: [{ path: "*", origin: "*", method: ["GET", "post"] }],
    });
    deepStrictEqual(cors.body.resource[0].method, ["GET", "POST"]);
  });
});

Deno.test("limits validate type, rate and period, refuse duplicates, read period back as a name", async () => {
  await withSandbox(async (sb, token) => {
    const ok1 = await call(sb, "POST", "system/limit?fields=*", {
      token,
      body: [{ name: "per user", type: "instance.user", user_id: 1, rate: 100, period: "hour" }],
    });
    equal(ok1.status, 201, JSON.stringify(ok1.body));
    equal(ok1.body.resource[0].period, "hour");
    equal(ok1.body.resource[0].key_text, "instance.user:1.hour");
    const dup = await call(sb, "POST", "system/limit", {
      token,
      body: [{ name: "again", type: "instance.user", user_id: 1, rate: 5, period: 1 }],
    });
    equal(dup.status, 400);
    equal(messageOf(dup), "A limit already exists with those parameters. No records added.");
    const rate = await call(sb, "POST", "system/limit", {
      token,
      body: [{ name: "bad", type: "instance", rate: "x", period: 0 }],
    });
    equal(rate.status, 400);
    // Limit::handlePOST checks every record before creating any: a plain error, not a batch.
    equal(messageOf(rate), "Limit rate must be an integer. Limit not saved.");
    const scope = await call(sb, "POST", "system/limit", {
      token,
      body: [{ name: "svc", type: "instance.service", rate: 1, period: 0 }],
    });
    equal(scope.status, 400);
  });
});

Deno.test("GET /api/v2/system and /api/v2 list what the sandbox serves", async () => {
  await withSandbox(async (sb, token) => {
    const sys = await call(sb, "GET", "system", { token });
    for (const name of ["user", "admin/session", "role", "limit", "service_type", "environment"]) {
      ok(sys.body.resource.some((r: { name: string }) => r.name === name), name);
    }
    const root = await call(sb, "GET", "", { token });
    deepStrictEqual(root.body.services.map((s: { name: string }) => s.name), [
      "system",
      "db",
      "user",
    ]);
    const anon = await call(sb, "GET", "");
    deepStrictEqual(anon.body.services, []);
    ok(anon.body.service_types.some((t: { name: string }) => t.name === "sqlite"));
    const env = await call(sb, "GET", "system/environment");
    equal(env.status, 200);
    equal(env.body.authentication.admin.path, "system/admin/session");
    ok(!("platform" in env.body), "anonymous callers get no platform section");
  });
});
