/**
 * Database services end to end over real HTTP: services created and deleted through the system
 * API, and data access control through roles, API keys and row filters.
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

function errorOf(body: unknown): Rec {
  return (body as { error: Rec }).error;
}

Deno.test("a sqlite service created through system/service serves data until it is deleted", async () => {
  const sb = await sandbox();
  try {
    const created = await sb.call("POST", "system/service", {
      resource: [{
        name: "mydb",
        label: "My DB",
        type: "sqlite",
        is_active: true,
        config: { database: "mydb.sqlite" },
      }],
    });
    assert.equal(created.status, 201);
    const id = (created.body as { resource: Rec[] }).resource[0].id;
    assert.deepEqual((await sb.call("GET", "mydb")).body, {
      resource: [{ name: "_schema" }, { name: "_table" }],
    });
    const schema = await sb.call("POST", "mydb/_schema", {
      resource: [{
        name: "item",
        field: [{ name: "id", type: "id" }, { name: "label", type: "string" }],
      }],
    });
    assert.deepEqual(schema.body, { resource: [{ name: "item" }] });
    assert.deepEqual((await sb.call("POST", "mydb/_table/item", [{ label: "a" }])).body, {
      resource: [{ id: 1 }],
    });
    const access = await sb.call("GET", "mydb?as_access_list=true");
    assert.ok((access.body as { resource: string[] }).resource.includes("_table/item/*"));
    // The seeded db service is a separate database.
    assert.deepEqual((await sb.call("GET", "db/_table")).body, { resource: [] });
    assert.equal((await sb.call("DELETE", `system/service/${id}`)).status, 200);
    const gone = await sb.call("GET", "mydb/_table");
    assert.equal(gone.status, 404);
    assert.equal(errorOf(gone.body).message, "Could not find a service for mydb");
  } finally {
    await sb.close();
  }
});

Deno.test("roles and API keys: verb masks, component rules and {user.id} row filters", async () => {
  const sb = await sandbox();
  try {
    const ok = (r: { status: number; body: unknown }, status = 200) => {
      assert.equal(r.status, status, JSON.stringify(r.body));
      return r.body as Rec;
    };
    ok(
      await sb.call("POST", "db/_schema", {
        resource: [
          {
            name: "task",
            field: [
              { name: "id", type: "id" },
              { name: "title", type: "string" },
              { name: "owner_id", type: "integer", allow_null: true },
            ],
          },
          { name: "secret", field: [{ name: "id", type: "id" }, { name: "v", type: "string" }] },
        ],
      }),
    );
    const user = ok(
      await sb.call("POST", "system/user", {
        resource: [{
          name: "Jo",
          first_name: "Jo",
          last_name: "X",
          email: "jo@example.com",
          password: "correct-horse-battery-staple",
        }],
      }),
      201,
    );
    const userId = Number((user.resource as Rec[])[0].id);
    ok(
      await sb.call("POST", "db/_table/task", {
        resource: [
          { title: "mine", owner_id: userId },
          { title: "theirs", owner_id: 999 },
          { title: "also mine", owner_id: userId },
        ],
      }),
    );
    const role = ok(
      await sb.call("POST", "system/role", {
        resource: [{
          name: "workers",
          is_active: true,
          role_service_access_by_role_id: [{
            service_id: 2,
            component: "_table",
            verb_mask: 1,
            requestor_mask: 1,
            filters: [],
            filter_op: "AND",
          }, {
            service_id: 2,
            component: "_table/task",
            verb_mask: 1 | 2 | 8,
            requestor_mask: 1,
            filters: [{ name: "owner_id", operator: "=", value: "{user.id}" }],
            filter_op: "AND",
          }, {
            service_id: 2,
            component: "_table/task/*",
            verb_mask: 1 | 8,
            requestor_mask: 1,
            filters: [{ name: "owner_id", operator: "=", value: "{user.id}" }],
            filter_op: "AND",
          }],
        }],
      }),
      201,
    );
    const roleId = Number((role.resource as Rec[])[0].id);
    const app = ok(
      await sb.call("POST", "system/app?fields=*", {
        resource: [{ name: "worker-app", type: 0, role_id: roleId, is_active: true }],
      }),
      201,
    );
    const apiKey = String((app.resource as Rec[])[0].api_key);
    ok(
      await sb.call("PATCH", `system/user/${userId}`, {
        user_to_app_to_role_by_user_id: [{
          app_id: (app.resource as Rec[])[0].id,
          role_id: roleId,
          user_id: userId,
        }],
      }),
    );
    const login = ok(
      await sb.call("POST", "user/session", {
        email: "jo@example.com",
        password: "correct-horse-battery-staple",
      }, {}),
    );
    const jo = { token: String(login.session_token), apiKey };

    const mine = ok(await sb.call("GET", "db/_table/task?fields=title", undefined, jo));
    assert.deepEqual(mine, { resource: [{ title: "mine" }, { title: "also mine" }] });
    assert.equal((await sb.call("GET", "db/_table/task/2", undefined, jo)).status, 404);
    assert.deepEqual(ok(await sb.call("GET", "db/_table", undefined, jo)), {
      resource: [{ name: "task" }],
    });
    const secret = await sb.call("GET", "db/_table/secret", undefined, jo);
    assert.equal(secret.status, 403);
    const del = await sb.call("DELETE", "db/_table/task/1", undefined, jo);
    assert.equal(del.status, 403);
    assert.equal(
      errorOf(del.body).message,
      "Access Forbidden. DELETE access to component '_table/task/1' of service 'db' is not allowed by this user's role.",
    );
    const foreign = await sb.call("POST", "db/_table/task", {
      resource: [{ title: "x", owner_id: 999 }],
    }, jo);
    assert.equal(foreign.status, 400);
    assert.equal(
      (errorOf(foreign.body).context as { resource: Rec[] }).resource[0].message,
      "Denied access to some of the requested fields.",
    );
    const own = ok(
      await sb.call("POST", "db/_table/task?fields=title", {
        resource: [{ title: "new", owner_id: userId }],
      }, jo),
    );
    assert.deepEqual(own, { resource: [{ title: "new" }] });
    assert.equal((await sb.call("PATCH", "db/_table/task/2", { title: "hijack" }, jo)).status, 404);
    const patched = ok(
      await sb.call("PATCH", "db/_table/task/1?fields=title", { title: "renamed" }, jo),
    );
    assert.deepEqual(patched, { title: "renamed" });
    const noKey = await sb.call("GET", "db/_table/task", undefined, { token: jo.token });
    assert.equal(noKey.status, 400);
    // The admin still sees every row.
    assert.equal(ok(await sb.call("GET", "db/_table/task?count_only=true")), 4);
  } finally {
    await sb.close();
  }
});

Deno.test("hostile input over HTTP: values round-trip, filters never widen reads", async () => {
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "p",
        field: [{ name: "id", type: "id" }, { name: "v", type: "text", allow_null: true }],
      }],
    });
    const values = [
      "'; DROP TABLE p; --",
      '" OR 1=1 --',
      "nul\u0000byte",
      "ünï © 😀",
      "y".repeat(200_000),
    ];
    const created = await sb.call("POST", "db/_table/p?fields=v", values.map((v) => ({ v })));
    assert.deepEqual((created.body as { resource: Rec[] }).resource.map((r) => r.v), values);
    const leak = await sb.call("GET", `db/_table/p?filter=${encodeURIComponent("v = 'x' OR 1=1")}`);
    assert.ok(
      leak.status === 200
        ? (leak.body as { resource: Rec[] }).resource.length === 0
        : leak.status >= 400,
    );
    assert.equal((await sb.call("GET", "db/_table/p?count_only=true")).body, values.length);
    assert.equal((await sb.call("GET", "db/_table/p?order=id%3B%20DROP%20TABLE%20p")).status, 400);
    assert.equal((await sb.call("GET", "db/_table/p?count_only=true")).body, values.length);
  } finally {
    await sb.close();
  }
});

Deno.test("integers beyond 2^53 are stored and read exactly, and never cut a page short", async () => {
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "t",
        field: [{ name: "id", type: "id" }, { name: "big", type: "bigint", allow_null: true }],
      }],
    });
    const big = "9007199254740993"; // 2^53 + 1: a number cannot hold it
    await sb.call("POST", "db/_table/t", [{ big: 1 }, { big }, { big: 3 }, { big: 4 }]);
    const list = await sb.call("GET", "db/_table/t?include_count=true&fields=big");
    assert.deepEqual(list.body, {
      resource: [{ big: 1 }, { big }, { big: 3 }, { big: 4 }],
      meta: { count: 4 },
    });
    const one = await sb.call("GET", `db/_table/t?filter=${encodeURIComponent(`big = ${big}`)}`);
    assert.deepEqual((one.body as { resource: Rec[] }).resource.map((r) => r.id), [2]);
  } finally {
    await sb.close();
  }
});

Deno.test("row filters: the rule for the verb, the last of its group, never an all-services rule", async () => {
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "contact",
        field: [{ name: "id", type: "id" }, { name: "name", type: "string" }, {
          name: "owner_id",
          type: "integer",
        }],
      }],
    });
    await sb.call("POST", "db/_table/contact", [
      { name: "a", owner_id: 1 },
      { name: "b", owner_id: 2 },
      { name: "c", owner_id: 2 },
    ]);
    const password = "correct-horse-battery-staple";
    await sb.call("POST", "system/user", [{ name: "Jo", email: "jo@example.com", password }]);
    let n = 0;
    /** Signs Jo in through an app whose role has these rules; returns the credentials. */
    const as = async (rules: Rec[]) => {
      n++;
      const role = await sb.call("POST", "system/role", [{
        name: `r${n}`,
        is_active: true,
        role_service_access_by_role_id: rules.map((r) => ({
          requestor_mask: 1,
          filters: [],
          filter_op: "AND",
          ...r,
        })),
      }]);
      const roleId = (role.body as { resource: Rec[] }).resource[0].id;
      const app = await sb.call("POST", "system/app?fields=*", [{
        name: `app${n}`,
        type: 0,
        role_id: roleId,
        is_active: true,
      }]);
      const apiKey = String((app.body as { resource: Rec[] }).resource[0].api_key);
      const login = await sb.call("POST", "user/session", { email: "jo@example.com", password }, {
        apiKey,
      });
      return { token: String((login.body as Rec).session_token), apiKey };
    };
    const names = async (creds: { token: string; apiKey: string }, path = "") => {
      const r = await sb.call("GET", `db/_table/contact${path}?fields=name`, undefined, creds);
      return (r.body as { resource?: Rec[] }).resource?.map((x) => x.name) ?? r.status;
    };
    const onlyB = [{ name: "name", operator: "=", value: "b" }];
    // a DELETE rule's filter does not narrow a GET
    const s1 = await as([
      { service_id: 2, component: "_table/contact", verb_mask: 1 },
      { service_id: 2, component: "_table/contact", verb_mask: 16, filters: onlyB },
    ]);
    assert.deepEqual(await names(s1), ["a", "b", "c"]);
    // two GET rules: the last one's filter alone (not both, not combined)
    const s2 = await as([
      {
        service_id: 2,
        component: "_table/contact",
        verb_mask: 1,
        filters: [{ name: "owner_id", operator: "=", value: "2" }],
      },
      { service_id: 2, component: "_table/contact", verb_mask: 1, filters: onlyB, filter_op: "OR" },
    ]);
    assert.deepEqual(await names(s2), ["b"]);
    // an all-services rule grants, but its filters do not apply
    const s3 = await as([{ service_id: null, component: "*", verb_mask: 1, filters: onlyB }]);
    assert.deepEqual(await names(s3), ["a", "b", "c"]);
    // a by-id read is filtered by the table's rule
    const s4 = await as([
      { service_id: 2, component: "_table/contact", verb_mask: 1, filters: onlyB },
      { service_id: 2, component: "_table/contact/*", verb_mask: 1 },
    ]);
    assert.equal((await sb.call("GET", "db/_table/contact/1", undefined, s4)).status, 404);
    assert.equal((await sb.call("GET", "db/_table/contact/2", undefined, s4)).status, 200);
    // `_table/*` does not open `_schema/<table>`
    const s5 = await as([{ service_id: 2, component: "_table/*", verb_mask: 1 }]);
    const schema = await sb.call("GET", "db/_schema/contact", undefined, s5);
    assert.equal(schema.status, 403);
    assert.equal(
      errorOf(schema.body).message,
      "Access Forbidden. GET access to component '_schema/contact' of service 'db' is not allowed by this user's role.",
    );
  } finally {
    await sb.close();
  }
});
