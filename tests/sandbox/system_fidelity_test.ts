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

Deno.test("model errors of an update or delete are DreamFactory's 500 'Failed to ... resource'", async () => {
  await withSandbox(async (sb, token) => {
    const roles = await call(sb, "POST", "system/role", {
      token,
      body: { resource: [{ name: "r1" }, { name: "r2" }] },
    });
    const [, r2] = roles.body.resource.map((r: { id: number }) => r.id);
    // A duplicate name: the SQL error inside BaseModel::updateInternal, full envelope, code 500.
    const dup = await call(sb, "PATCH", `system/role/${r2}`, { token, body: { name: "r1" } });
    assert.equal(dup.status, 500);
    assert.equal(dup.body.error.code, 500);
    assert.equal(dup.body.error.status_code, 500);
    assert.match(messageOf(dup), /^Failed to update resource: SQLSTATE\[23000\]: .*UNIQUE/);
    // Role's `name => required` rule runs on every save.
    const blank = await call(sb, "PATCH", `system/role/${r2}`, { token, body: { name: "" } });
    assert.equal(blank.status, 500);
    assert.equal(
      messageOf(blank),
      "Failed to update resource: Invalid data supplied. The name field is required.",
    );
    const kept = await call(sb, "GET", `system/role/${r2}?fields=name`, { token });
    assert.deepEqual(kept.body, { name: "r2" });
    // Batch entries carry the same wrapped error.
    const batch = await call(sb, "PATCH", "system/role", {
      token,
      body: { resource: [{ id: r2, name: "r1" }] },
    });
    assert.equal(batch.status, 400);
    assert.equal(batch.body.error.context.resource[0].code, 500);
    assert.match(batch.body.error.context.resource[0].message, /^Failed to update resource: /);
    // Model-level checks of other resources are wrapped too.
    await call(sb, "POST", "system/lookup", { token, body: [{ name: "a" }, { name: "b" }] });
    const ids = await call(sb, "GET", "system/lookup?fields=id&order=id", { token });
    const look = await call(sb, "PATCH", `system/lookup/${ids.body.resource[1].id}`, {
      token,
      body: { name: "a" },
    });
    assert.equal(look.status, 500);
    assert.equal(
      messageOf(look),
      "Failed to update resource: Lookup name can not be modified to one that already exists.",
    );
    // Not found stays a 404, a missing identifier stays a 400.
    const missing = await call(sb, "PATCH", "system/role/999", { token, body: { name: "x" } });
    assert.equal(missing.status, 404);
    const noId = await call(sb, "PATCH", "system/role", { token, body: [{ name: "x" }] });
    assert.equal(noId.body.error.context.resource[0].code, 400);
  });
});

Deno.test("user and admin guards are not wrapped as model errors", async () => {
  await withSandbox(async (sb, token) => {
    const u = await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "u@x.com", username: "u@x.com" }, { email: "v@x.com" }],
    });
    const [uid] = u.body.resource.map((r: { id: number }) => r.id);
    const taken = await call(sb, "PATCH", `system/user/${uid}`, {
      token,
      body: { username: "v@x.com" },
    });
    assert.equal(taken.status, 400);
    assert.equal(messageOf(taken), "Invalid data supplied. The username has already been taken.");
    const me = await call(sb, "DELETE", "system/admin/1", { token });
    assert.equal(me.status, 403);
    assert.equal(messageOf(me), "Cannot delete your account.");
    const wrongKind = await call(sb, "PATCH", "system/admin/" + uid, {
      token,
      body: { name: "n" },
    });
    assert.equal(messageOf(wrongKind), "Cannot update a non-admin user.");
  });
});

Deno.test("ids select with the request's filter, order and limit, in query order", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/role", {
      token,
      body: { resource: [{ name: "r1" }, { name: "r2" }, { name: "r3" }] },
    });
    const [a, , c] = made.body.resource.map((r: { id: number }) => r.id);
    const get = (qs: string) => call(sb, "GET", `system/role?fields=id&${qs}`, { token });
    assert.deepEqual((await get(`ids=${c},${a}`)).body.resource, [{ id: a }, { id: c }]);
    assert.deepEqual((await get(`ids=${a},${c}&order=id%20desc`)).body.resource, [
      { id: c },
      { id: a },
    ]);
    // A filtered-out id is "not found", listed in the ids' order.
    const filtered = await get(`ids=${c},${a}&filter=name%3D'r1'`);
    assert.equal(filtered.status, 400);
    assert.equal(messageOf(filtered), "Batch Error: Not all requested records could be retrieved.");
    assert.deepEqual(filtered.body.error.context.error, [0]);
    assert.equal(
      filtered.body.error.context.resource[0].message,
      `Record with identifier '${c}' not found.`,
    );
    const both = await get(`ids=${c},${a}&filter=name%3D'r1'&continue=true`);
    assert.deepEqual(both.body.error.context.resource[1], { id: a });
    const limited = await get(`ids=${a},${c}&limit=1`);
    assert.deepEqual(limited.body.error.context.error, [1]);
  });
});

Deno.test("app api keys follow App's rule min:64|alpha_num; only creating avoids taken keys", async () => {
  await withSandbox(async (sb, token) => {
    const both = "Invalid data supplied. The api key field must be at least 64 characters. " +
      "The api key field must only contain letters and numbers.";
    const bad = await call(sb, "POST", "system/app", {
      token,
      body: [{ name: "k1", api_key: "my-test-key", is_active: true }],
    });
    assert.equal(bad.status, 400);
    const entry = bad.body.error.context.resource[0];
    assert.equal(entry.message, both);
    assert.equal(entry.context.api_key.length, 2);
    const made = await call(sb, "POST", "system/app", { token, body: [{ name: "k2" }] });
    const id = made.body.resource[0].id;
    const short = await call(sb, "PATCH", `system/app/${id}`, {
      token,
      body: { api_key: "short" },
    });
    assert.equal(short.status, 500);
    assert.equal(
      messageOf(short),
      "Failed to update resource: Invalid data supplied. " +
        "The api key field must be at least 64 characters.",
    );
    // An update may give an app a key another app has; a create gets a fresh one instead.
    const admin = await call(sb, "GET", "system/app/1?fields=api_key", { token });
    const same = await call(sb, "PATCH", `system/app/${id}?fields=api_key`, {
      token,
      body: { api_key: admin.body.api_key },
    });
    assert.equal(same.status, 200);
    assert.equal(same.body.api_key, admin.body.api_key);
    const fresh = await call(sb, "POST", "system/app?fields=api_key", {
      token,
      body: [{ name: "k3", api_key: admin.body.api_key }],
    });
    assert.equal(fresh.status, 201);
    assert.notEqual(fresh.body.resource[0].api_key, admin.body.api_key);
    assert.match(fresh.body.resource[0].api_key, /^[0-9a-f]{64}$/);
  });
});

Deno.test("order: Laravel's direction check, and words past the direction are ignored", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }, { name: "b" }] });
    const get = (order: string) =>
      call(sb, "GET", `system/role?fields=name&order=${encodeURIComponent(order)}`, { token });
    const sideways = await get("name sideways");
    assert.equal(sideways.status, 500);
    assert.deepEqual(sideways.body, {
      error: { code: 500, message: "Order direction must be &quot;asc&quot; or &quot;desc&quot;." },
    });
    // The direction is checked before the column reaches the database.
    assert.equal(messageOf(await get("nosuch sideways")), sideways.body.error.message);
    const desc = await get("name desc nulls last");
    assert.equal(desc.status, 200);
    assert.deepEqual(desc.body.resource, [{ name: "b" }, { name: "a" }]);
    assert.deepEqual((await get("name DESC")).body.resource, [{ name: "b" }, { name: "a" }]);
  });
});

Deno.test("order: every term is Builder::orderBy, so an unknown name sorts nothing and an empty direction is asc", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "b" }, { name: "a" }] });
    const names = async (order: string) => {
      const r = await call(
        sb,
        "GET",
        `system/role?fields=name&order=${encodeURIComponent(order)}`,
        { token },
      );
      assert.equal(r.status, 200, `${order}: ${JSON.stringify(r.body)}`);
      return r.body.resource.map((x: { name: string }) => x.name);
    };
    // Grammar::wrap quotes the name; SQLite reads a quoted non-column as a string constant.
    assert.deepEqual(await names("nosuch"), ["b", "a"]);
    assert.deepEqual(await names("nosuch desc,name"), ["a", "b"]);
    assert.deepEqual(await names("name,"), ["a", "b"]);
    // PHP's empty() direction ("" or "0") is ASC.
    assert.deepEqual(await names("name 0"), ["a", "b"]);
    // PHP's trim keeps a no-break space: a term "\u00a0name" is no column, so it sorts nothing
    // (at the ends of the value, Laravel's TrimStrings would remove it first).
    assert.deepEqual(await names("nosuch,\u00a0name"), ["b", "a"]);
    assert.deepEqual(await names(" \tname desc"), ["b", "a"]);
    // A qualified name is resolved as SQLite does.
    const qualified = await call(sb, "GET", "system/role?order=role.nosuch", { token });
    assert.deepEqual([qualified.status, messageOf(qualified)], [
      500,
      "SQLSTATE[HY000]: General error: 1 no such column: role.nosuch",
    ]);
    assert.deepEqual(await names("role.name desc"), ["b", "a"]);
    // Laravel's JSON path syntax is refused, saying what DreamFactory would do with it.
    const path = await call(sb, "GET", "system/role?order=name-%3Ea", { token });
    assert.equal(path.status, 400);
    assert.match(messageOf(path), /reads it as a JSON path/);
  });
});

Deno.test("required fields: every missing one is listed, in CorsConfig's and EmailTemplate's words", async () => {
  await withSandbox(async (sb, token) => {
    const cors = await call(sb, "POST", "system/cors", { token, body: [{ description: "x" }] });
    const entry = cors.body.error.context.resource[0];
    assert.equal(
      entry.message,
      "Invalid data supplied. The path is required. The origin is required.",
    );
    assert.deepEqual(entry.context, {
      path: ["The path is required."],
      origin: ["The origin is required."],
    });
    const tpl = await call(sb, "POST", "system/email_template", {
      token,
      body: [{ description: "x" }],
    });
    const t = tpl.body.error.context.resource[0];
    assert.equal(t.message, "Invalid data supplied. The Template Name field is required");
    assert.deepEqual(t.context, { name: ["The Template Name field is required"] });
  });
});

Deno.test("regenerate=true renews the key of the first app, as App::handlePATCH's find()->first() does", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/app", {
      token,
      body: { resource: [{ name: "k1" }, { name: "k2" }] },
    });
    const target = made.body.resource[1].id;
    const keys = async () =>
      Object.fromEntries(
        (await call(sb, "GET", "system/app?fields=id,api_key", { token })).body.resource.map(
          (a: { id: number; api_key: string }) => [a.id, a.api_key],
        ),
      );
    const before = await keys();
    const firstId = Math.min(...Object.keys(before).map(Number));
    assert.notEqual(firstId, target);
    const r = await call(sb, "PATCH", `system/app/${target}?regenerate=true`, {
      token,
      body: { description: "d" },
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.body, { id: target });
    const after = await keys();
    assert.notEqual(after[firstId], before[firstId]);
    assert.match(after[firstId], /^[0-9a-f]{64}$/);
    assert.equal(after[target], before[target]);
    // The list forms never regenerate.
    for (const path of ["system/app?regenerate=true", `system/app?ids=${target}&regenerate=true`]) {
      const batch = await call(sb, "PATCH", path, { token, body: { resource: [{ id: target }] } });
      assert.equal(batch.status, 200, path);
    }
    assert.deepEqual(await keys(), after);
    // find() of an unknown id is null: `->first()` on null is a PHP error.
    const missing = await call(sb, "PATCH", "system/app/9999?regenerate=true", { token, body: {} });
    assert.equal(missing.status, 500);
    assert.deepEqual(missing.body, { message: "Server Error" });
  });
});

Deno.test("related lookups read back as Role/User/AppLookup: owner columns hidden, private masked", async () => {
  await withSandbox(async (sb, token) => {
    const lookups = [{ name: "plain", value: "v" }, { name: "secret", value: "s3", private: true }];
    const role = await call(sb, "POST", "system/role?fields=id&related=lookup_by_role_id", {
      token,
      body: [{ name: "r", lookup_by_role_id: lookups }],
    });
    const user = await call(sb, "POST", "system/user?fields=id&related=lookup_by_user_id", {
      token,
      body: [{ email: "l@x.com", lookup_by_user_id: lookups }],
    });
    const app = await call(sb, "POST", "system/app?fields=id&related=lookup_by_app_id", {
      token,
      body: [{ name: "a", lookup_by_app_id: lookups }],
    });
    const shapes = (list: Record<string, unknown>[]) =>
      list.map(({ name, value, private: p, ...rest }) => ({
        name,
        value,
        private: p,
        owners: ["app_id", "role_id", "user_id"].filter((k) => k in rest),
      }));
    const expected = (owner: string) => [
      { name: "plain", value: "v", private: false, owners: [owner] },
      { name: "secret", value: "**********", private: true, owners: [owner] },
    ];
    // The write answer, the by-id read and the list read all go through the lookup model.
    const rid = role.body.resource[0].id;
    assert.deepEqual(shapes(role.body.resource[0].lookup_by_role_id), expected("role_id"));
    const byId = await call(sb, "GET", `system/role/${rid}?related=lookup_by_role_id`, { token });
    assert.deepEqual(shapes(byId.body.lookup_by_role_id), expected("role_id"));
    const uid = user.body.resource[0].id;
    const users = await call(sb, "GET", `system/user?ids=${uid}&related=lookup_by_user_id`, {
      token,
    });
    assert.deepEqual(shapes(users.body.resource[0].lookup_by_user_id), expected("user_id"));
    assert.deepEqual(shapes(app.body.resource[0].lookup_by_app_id), expected("app_id"));
    // A related user carries User's appended attributes, a related app App's launch_url.
    const creator = await call(sb, "GET", `system/role/${rid}?related=user_by_created_by_id`, {
      token,
    });
    assert.equal(creator.body.user_by_created_by_id.confirmed, true);
    assert.equal(creator.body.user_by_created_by_id.expired, false);
    const roleApps = await call(sb, "PATCH", `system/app/${app.body.resource[0].id}`, {
      token,
      body: { role_id: rid },
    });
    assert.equal(roleApps.status, 200);
    const viaRole = await call(sb, "GET", `system/role/${rid}?related=app_by_role_id`, { token });
    assert.equal(viaRole.body.app_by_role_id[0].launch_url, "");
  });
});

Deno.test("related lookups written as the lookup models do: mask kept, renames checked", async () => {
  await withSandbox(async (sb, token) => {
    const lookups = [{ name: "plain", value: "v" }, { name: "secret", value: "s3", private: true }];
    const role = await call(sb, "POST", "system/role?fields=id&related=lookup_by_role_id", {
      token,
      body: [{ name: "r", lookup_by_role_id: lookups }],
    });
    const rid = role.body.resource[0].id;
    const [plain, secret] = role.body.resource[0].lookup_by_role_id;
    // BaseSystemLookup::setAttribute: the mask written back (by id or matched by name) is ignored.
    for (const entry of [{ id: secret.id }, { name: "secret" }]) {
      const r = await call(sb, "PATCH", `system/role/${rid}`, {
        token,
        body: { lookup_by_role_id: [{ ...entry, value: "**********" }] },
      });
      assert.equal(r.status, 200);
    }
    const opened = await call(sb, "PATCH", `system/role/${rid}?related=lookup_by_role_id`, {
      token,
      body: { lookup_by_role_id: [{ id: secret.id, private: false }] },
    });
    assert.equal(opened.body.lookup_by_role_id[1].value, "s3");
    // RoleLookup::fill: renaming onto a name the role has is refused (wrapped by Role's model).
    const rename = await call(sb, "PATCH", `system/role/${rid}`, {
      token,
      body: { lookup_by_role_id: [{ id: plain.id, name: "secret" }] },
    });
    assert.equal(rename.status, 500);
    assert.equal(
      messageOf(rename),
      "Failed to update resource: Lookup name can not be modified to one that already exists.",
    );
    // ...and left as a 400 by User's model.
    const user = await call(sb, "POST", "system/user?fields=id&related=lookup_by_user_id", {
      token,
      body: [{ email: "l@x.com", lookup_by_user_id: lookups }],
    });
    const [uplain] = user.body.resource[0].lookup_by_user_id;
    const urename = await call(sb, "PATCH", `system/user/${user.body.resource[0].id}`, {
      token,
      body: { lookup_by_user_id: [{ id: uplain.id, name: "secret" }] },
    });
    assert.equal(urename.status, 400);
    assert.equal(messageOf(urename), "Lookup name can not be modified to one that already exists.");
    // A change of case only is not a rename (strcasecmp).
    const recase = await call(sb, "PATCH", `system/role/${rid}?related=lookup_by_role_id`, {
      token,
      body: { lookup_by_role_id: [{ id: plain.id, name: "PLAIN" }] },
    });
    assert.equal(recase.body.lookup_by_role_id[0].name, "PLAIN");
  });
});

Deno.test("related has_many records follow BaseModel: unknown ids created, rows re-parented, create rules", async () => {
  await withSandbox(async (sb, token) => {
    const rsa = { service_id: 1, component: "*", verb_mask: 1, requestor_mask: 1 };
    const roles = await call(sb, "POST", "system/role?related=role_service_access_by_role_id", {
      token,
      // BaseModel::create: `id` is not fillable, each record is a new row.
      body: [{ name: "r1", role_service_access_by_role_id: [{ ...rsa, id: 999 }] }, {
        name: "r2",
      }],
    });
    assert.equal(roles.status, 201);
    const [r1, r2] = roles.body.resource;
    const first = r1.role_service_access_by_role_id[0];
    assert.notEqual(first.id, 999);
    // saveHasManyData: an id no row has is a new row; a row of another role without a foreign
    // key is taken over by this one.
    const moved = await call(
      sb,
      "PATCH",
      `system/role/${r2.id}?related=role_service_access_by_role_id`,
      {
        token,
        body: {
          role_service_access_by_role_id: [{ id: first.id, verb_mask: 3 }, { ...rsa, id: 4242 }],
        },
      },
    );
    assert.equal(moved.status, 200);
    const rows = moved.body.role_service_access_by_role_id;
    assert.equal(rows.length, 2);
    assert.deepEqual([rows[0].id, rows[0].role_id, rows[0].verb_mask], [first.id, r2.id, 3]);
    assert.notEqual(rows[1].id, 4242);
    const left = await call(
      sb,
      "GET",
      `system/role/${r1.id}?related=role_service_access_by_role_id`,
      {
        token,
      },
    );
    assert.deepEqual(left.body.role_service_access_by_role_id, []);
    // A foreign key naming another existing role gives the row to that role.
    const back = await call(sb, "PATCH", `system/role/${r2.id}`, {
      token,
      body: { role_service_access_by_role_id: [{ id: first.id, role_id: r1.id }] },
    });
    assert.equal(back.status, 200);
    const again = await call(
      sb,
      "GET",
      `system/role/${r1.id}?related=role_service_access_by_role_id`,
      {
        token,
      },
    );
    assert.deepEqual(again.body.role_service_access_by_role_id.map((x: { id: number }) => x.id), [
      first.id,
    ]);
    // BaseModel::create refuses belongs_to and many_many keys, and non-array has_many values.
    for (
      const [path, record, status, message] of [
        ["system/app", { name: "a", role_by_role_id: null }, 501, "belongs_to"],
        ["system/role", { name: "r3", service_by_role_service_access: [] }, 501, "many_many"],
        ["system/role", { name: "r4", role_service_access_by_role_id: { a: 1 } }, 400, ""],
      ] as const
    ) {
      const r = await call(sb, "POST", path, { token, body: [record] });
      assert.equal(r.status, 400, path);
      const entry = r.body.error.context.resource[0];
      assert.equal(entry.code, status, path);
      assert.equal(
        entry.message,
        status === 501
          ? `Creating related record of relation type &quot;${message}&quot; is not supported.`
          : "Bad data supplied for role_service_access_by_role_id. Related data must be supplied as array.",
      );
    }
    // An empty has_many value is skipped.
    const empty = await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "r5", role_service_access_by_role_id: "" }],
    });
    assert.equal(empty.status, 201);
  });
});

Deno.test("users are validated by User's rules on every save; create errors wrapped as User's", async () => {
  await withSandbox(async (sb, token) => {
    const bad = await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "not-an-email", username: "a b" }],
    });
    assert.equal(bad.status, 400);
    const entry = bad.body.error.context.resource[0];
    assert.equal(entry.code, 400);
    // No `@` after the first character: User::createInternal leaves the name empty.
    assert.deepEqual(entry.context, {
      name: ["The name field is required."],
      email: ["The email field must be a valid email address."],
      username: [
        "The username field must be at least 6 characters.",
        "The username field format is invalid.",
      ],
    });
    assert.equal(
      entry.message,
      "Invalid data supplied. The name field is required. The email field must be a valid email " +
        "address. The username field must be at least 6 characters. The username field format is invalid.",
    );
    const made = await call(sb, "POST", "system/user", { token, body: [{ email: "v@x.com" }] });
    const id = made.body.resource[0].id;
    // On update the whole model is validated; User lets its 400s through unwrapped.
    for (
      const [change, message] of [
        [{ email: "nope" }, "The email field must be a valid email address."],
        [{ name: " " }, "The name field is required."],
        [{ username: "short" }, "The username field must be at least 6 characters."],
      ] as const
    ) {
      const r = await call(sb, "PATCH", `system/user/${id}`, { token, body: change });
      assert.equal(r.status, 400, JSON.stringify(change));
      assert.equal(messageOf(r), `Invalid data supplied. ${message}`);
    }
    // User::save: an emptied username becomes the email again.
    const reset = await call(sb, "PATCH", `system/user/${id}?fields=username`, {
      token,
      body: { username: "" },
    });
    assert.equal(reset.body.username, "v@x.com");
    // User::createInternal wraps what is not a 400 or 403: a duplicate email's SQL error.
    const dup = await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "v@x.com", username: "another" }],
    });
    const wrapped = dup.body.error.context.resource[0];
    assert.equal(wrapped.code, 500);
    assert.equal(wrapped.status_code, 500);
    assert.match(wrapped.message, /^Failed to create resource: SQLSTATE\[23000\]: .*user\.email/);
  });
});

Deno.test("email_template addresses are stored as EmailTemplate::getJSONIfArray does", async () => {
  await withSandbox(async (sb, token) => {
    const r = await call(sb, "POST", "system/email_template?fields=to,cc,bcc,attachment", {
      token,
      body: [{
        name: "t",
        to: "one@x.com",
        cc: "a@x.com, b@x.com,",
        bcc: [" c@x.com "],
        attachment: "f.pdf",
      }],
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.resource[0], {
      to: "one@x.com",
      cc: ["a@x.com", "b@x.com", ""],
      bcc: ["c@x.com"],
      attachment: "f.pdf",
    });
  });
});

Deno.test("user POST cleanup drops empty values before turning 'true'/'false'/'null' into values", async () => {
  await withSandbox(async (sb, token) => {
    const r = await call(sb, "POST", "system/user?fields=email,is_active,phone,first_name", {
      token,
      body: {
        resource: [
          { email: "s@x.com", is_active: "False", phone: "NULL", first_name: "0" },
          { email: "t@x.com", is_active: false },
        ],
      },
    });
    assert.equal(r.status, 201);
    // removeEmptyAttributes: "False" is not empty, so it is kept (as false); false is dropped.
    assert.deepEqual(r.body.resource.map((u: Record<string, unknown>) => [u.is_active, u.phone]), [
      [false, null],
      [true, null],
    ]);
    assert.equal(r.body.resource[0].first_name, null);
  });
});

Deno.test("a service created with an empty label is labelled with its name (Service::create)", async () => {
  await withSandbox(async (sb, token) => {
    const r = await call(sb, "POST", "system/service?fields=name,label", {
      token,
      body: [{ name: "lbl", label: "", type: "sqlite", config: { database: "lbl.sqlite" } }],
    });
    assert.equal(r.status, 201);
    assert.deepEqual(r.body.resource[0], { name: "lbl", label: "lbl" });
  });
});

Deno.test("services: only the name regex is a rule; NOT NULL columns and unknown types as DreamFactory", async () => {
  await withSandbox(async (sb, token) => {
    const create = async (rec: Record<string, unknown>) => {
      const r = await call(sb, "POST", "system/service?fields=*", { token, body: [rec] });
      return r.status === 201 ? r.body.resource[0] : r.body.error.context.resource[0];
    };
    // Service::$rules has no `required`: a missing type or name is the table's NOT NULL error.
    assert.match(
      (await create({ name: "x1" })).message,
      /^SQLSTATE\[23000\]: .*NOT NULL constraint failed: service\.type/,
    );
    assert.match(
      (await create({ type: "zzz" })).message,
      /NOT NULL constraint failed: service\.name/,
    );
    // The regex rule still applies to a name that is given.
    assert.equal(
      (await create({ name: "a b", type: "zzz" })).message,
      "Invalid data supplied. Service name should only contain letters, numbers, underscores and dashes.",
    );
    // A type ServiceManager does not know has no config handler: the service is created (its
    // config dropped) and fails only when called, in ServiceManager::makeService.
    const odd = await create({
      name: "odd",
      type: "nosuchtype",
      is_active: true,
      config: { a: 1 },
    });
    assert.equal(odd.type, "nosuchtype", JSON.stringify(odd));
    assert.equal(odd.label, "odd");
    assert.deepEqual(odd.config, [], "no handler: the empty PHP array");
    const used = await call(sb, "GET", "odd", { token });
    assert.equal(used.status, 500);
    assert.equal(messageOf(used), "Unsupported service type 'nosuchtype'.");
    // Nor does the model forbid changing a type.
    const moved = await call(sb, "PATCH", `system/service/${odd.id}?fields=type`, {
      token,
      body: { type: "other" },
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.type, "other");
  });
});

Deno.test("cors method: an array becomes a verb mask, anything else is stored as given", async () => {
  await withSandbox(async (sb, token) => {
    const create = async (path: string, method: unknown) => {
      const r = await call(sb, "POST", "system/cors?fields=method", {
        token,
        body: [{ path, origin: "*", method }],
      });
      return r.status === 201 ? r.body.resource[0].method : r.body.error.context.resource[0];
    };
    // CorsConfig::setMethodAttribute keeps a string as is; getMethodAttribute casts it to an
    // integer before VerbsMask::maskToArray, so a verb list reads back empty.
    assert.deepEqual(await create("a", "GET,POST"), []);
    assert.deepEqual(await create("b", "3"), ["GET", "POST"]);
    assert.deepEqual(await create("c", 33), ["GET", "OPTIONS"]);
    assert.deepEqual(await create("d", ["get", "Head"]), ["GET", "HEAD"]);
    // VerbsMask::toNumeric refuses what is not a verb.
    const foo = await create("e", ["GET", "FOO"]);
    assert.deepEqual([foo.code, foo.message], [501, "The verb &quot;FOO&quot; is not supported."]);
  });
});

Deno.test("user_to_app_to_role rows have no rules: missing ids are the table's NOT NULL errors", async () => {
  await withSandbox(async (sb, token) => {
    const role = await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "r", is_active: true }],
    });
    const roleId = role.body.resource[0].id;
    // UserAppRole has no $rules; the insert fails on the NOT NULL column, inside
    // User::createInternal (wrapped as "Failed to create resource").
    const made = await call(sb, "POST", "system/user", {
      token,
      body: [{
        email: "a@x.com",
        name: "a",
        user_to_app_to_role_by_user_id: [{ role_id: roleId }],
      }],
    });
    const entry = made.body.error.context.resource[0];
    assert.equal(entry.code, 500);
    assert.match(
      entry.message,
      /^Failed to create resource: SQLSTATE\[23000\]: Integrity constraint violation: 19 NOT NULL constraint failed: user_to_app_to_role\.app_id \(SQL: insert into &quot;user_to_app_to_role&quot;/,
    );
    const left = await call(sb, "GET", "system/user?filter=email%3D'a%40x.com'", { token });
    assert.deepEqual(left.body.resource, [], "the user is rolled back with its row");
    // Through the role, the same on update (BaseModel::updateInternal wraps it).
    const upd = await call(sb, "PATCH", `system/role/${roleId}`, {
      token,
      body: { user_to_app_to_role_by_role_id: [{ app_id: 1 }] },
    });
    assert.equal(upd.status, 500);
    assert.match(
      messageOf(upd),
      /^Failed to update resource: SQLSTATE\[23000\]: .*NOT NULL constraint failed: user_to_app_to_role\.user_id/,
    );
  });
});

Deno.test("global lookups: no rules but Lookup::fill's name check; the mask is never stored", async () => {
  await withSandbox(async (sb, token) => {
    const create = async (rec: Record<string, unknown>) => {
      const r = await call(sb, "POST", "system/lookup?fields=*", { token, body: [rec] });
      return r.status === 201 ? r.body.resource[0] : r.body.error.context.resource[0];
    };
    // Lookup has no $rules: no name is the NOT NULL error of the table.
    assert.match(
      (await create({ value: "x" })).message,
      /NOT NULL constraint failed: lookup\.name/,
    );
    // BaseSystemLookup::setAttribute ignores the mask at create too; a null private value is
    // shown as null (attributesToArray masks only a value).
    const masked = await create({ name: "m", value: "**********", private: true });
    assert.deepEqual([masked.value, masked.private], [null, true]);
    const b = await create({ name: "b", value: "1" });
    // Renaming to the same name in another case is no change; to a taken name is refused.
    const same = await call(sb, "PATCH", `system/lookup/${b.id}`, { token, body: { name: "B" } });
    assert.equal(same.status, 200);
    const taken = await call(sb, "PATCH", `system/lookup/${b.id}`, { token, body: { name: "m" } });
    assert.equal(taken.status, 500);
    assert.equal(
      messageOf(taken),
      "Failed to update resource: Lookup name can not be modified to one that already exists.",
    );
  });
});

Deno.test("apps and custom settings have no name rule: a missing name is the NOT NULL error", async () => {
  await withSandbox(async (sb, token) => {
    for (const [path, table] of [["system/app", "app"], ["system/custom", "system_custom"]]) {
      const r = await call(sb, "POST", path, { token, body: [{ description: "x", value: 1 }] });
      const entry = r.body.error.context.resource[0];
      assert.equal(entry.code, "23000", path);
      assert.match(entry.message, new RegExp(`NOT NULL constraint failed: ${table}\\.name`), path);
    }
  });
});

Deno.test("role access rows are stored as sent: no component or filters default, filter_op as given", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/role?related=role_service_access_by_role_id", {
      token,
      body: [{
        name: "r",
        role_service_access_by_role_id: [
          { service_id: 2, verb_mask: 1, requestor_mask: 1, filter_op: "or" },
          { service_id: 2, component: "_table/*", verb_mask: 1, requestor_mask: 1 },
        ],
      }],
    });
    const rows = made.body.resource[0].role_service_access_by_role_id;
    assert.deepEqual(
      rows.map((r: Record<string, unknown>) => [r.component, r.filters, r.filter_op]),
      [[null, null, "or"], ["_table/*", null, "and"]],
    );
  });
});

Deno.test("app launch_url follows App::getLaunchUrlAttribute from the loaded attributes", async () => {
  await withSandbox(async (sb, token) => {
    const all = await call(sb, "GET", "system/app?fields=*", { token });
    assert.equal(all.body.resource[0].launch_url, `${sb.url}/dreamfactory/dist/index.html`);
    // Without `type` among the fields the accessor has nothing to go on.
    const some = await call(sb, "GET", "system/app?fields=id,path", { token });
    assert.equal(some.body.resource[0].launch_url, "");
    const made = await call(sb, "POST", "system/app?fields=*", {
      token,
      body: [
        { name: "u", type: 2, url: "http://x.test/a" },
        { name: "s", type: 1, storage_service_id: 2, storage_container: "/c/", path: "/i.html" },
      ],
    });
    assert.deepEqual(made.body.resource.map((a: { launch_url: string }) => a.launch_url), [
      "http://x.test/a",
      `${sb.url}/db/c/i.html`,
    ]);
  });
});
