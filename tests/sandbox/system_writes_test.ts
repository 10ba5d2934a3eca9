/**
 * System resources' list answers and writes as df-system's BaseSystemResource and df-core's
 * models give them: `as_list` on every list answer, lookups by id, user/admin guards on bulk
 * writes, records without a key, the insert's column order, `delete_storage` and password resets.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { adminLogin, call, messageOf, withSandbox } from "./_helpers.ts";

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

Deno.test("lookups: lists see global ones; by id, counts and writes see every lookup", async () => {
  await withSandbox(async (sb, token) => {
    const global = await call(sb, "POST", "system/lookup", {
      token,
      body: [{ name: "g", value: "gv" }],
    });
    const gid = global.body.resource[0].id;
    const role = await call(sb, "POST", "system/role?fields=id&related=lookup_by_role_id", {
      token,
      body: [{ name: "r", lookup_by_role_id: [{ name: "secret", value: "s3", private: true }] }],
    });
    const rid = role.body.resource[0].id;
    const lid = role.body.resource[0].lookup_by_role_id[0].id;
    const user = await call(sb, "POST", "system/user?fields=id&related=lookup_by_user_id", {
      token,
      body: [{ email: "l@x.com", lookup_by_user_id: [{ name: "mine", value: "m" }] }],
    });
    const uid = user.body.resource[0].id;
    const ulid = user.body.resource[0].lookup_by_user_id[0].id;

    // selectByRequest (lists, ids) adds the global-only reducer; countByRequest does not.
    const listed = await call(sb, "GET", "system/lookup?include_count=true&fields=id", { token });
    // (BaseSystemLookup::cleanFields always selects `private`.)
    assert.deepEqual(listed.body, { resource: [{ id: gid, private: false }], meta: { count: 3 } });
    const counted = await call(sb, "GET", "system/lookup?count_only=true", { token });
    assert.equal(counted.body, 3);
    const filtered = await call(sb, "GET", "system/lookup?count_only=true&filter=name%3D'secret'", {
      token,
    });
    assert.equal(filtered.body, 1);
    const byIds = await call(sb, "GET", `system/lookup?ids=${lid}`, { token });
    assert.equal(byIds.status, 400);
    assert.equal(
      byIds.body.error.context.resource[0].message,
      `Record with identifier '${lid}' not found.`,
    );

    // selectById: Lookup's $hidden owner columns and BaseSystemLookup's mask.
    const one = await call(sb, "GET", `system/lookup/${lid}`, { token });
    assert.equal(one.status, 200);
    assert.equal(one.body.id, lid);
    assert.equal(one.body.value, "**********");
    assert.equal(one.body.private, true);
    for (const owner of ["app_id", "role_id", "user_id"]) assert.ok(!(owner in one.body), owner);

    // updateInternal: find($id), then Lookup::fill's check among global names.
    const taken = await call(sb, "PATCH", `system/lookup/${lid}`, { token, body: { name: "g" } });
    assert.equal(taken.status, 500);
    assert.equal(
      messageOf(taken),
      "Failed to update resource: Lookup name can not be modified to one that already exists.",
    );
    const changed = await call(sb, "PATCH", `system/lookup/${lid}?fields=name,value`, {
      token,
      body: { name: "renamed", value: "**********", description: "d" },
    });
    assert.deepEqual(changed.body, { name: "renamed", value: "**********", private: true });
    const bulk = await call(sb, "PATCH", `system/lookup?ids=${lid},${gid}`, {
      token,
      body: [{ description: "both" }],
    });
    assert.deepEqual(bulk.body, { resource: [{ id: lid }, { id: gid }] });
    const roleNow = await call(sb, "GET", `system/role/${rid}?related=lookup_by_role_id`, {
      token,
    });
    const [stored] = roleNow.body.lookup_by_role_id;
    assert.deepEqual([stored.name, stored.description, stored.role_id], ["renamed", "both", rid]);

    // deleteInternal: find($id) too, by id and in bulk.
    const gone = await call(sb, "DELETE", `system/lookup/${ulid}`, { token });
    assert.deepEqual(gone.body, { id: ulid });
    const bulkGone = await call(sb, "DELETE", "system/lookup", { token, body: [{ id: lid }] });
    assert.deepEqual(bulkGone.body, { resource: [{ id: lid }] });
    const userNow = await call(sb, "GET", `system/user/${uid}?related=lookup_by_user_id`, {
      token,
    });
    assert.deepEqual(userNow.body.lookup_by_user_id, []);
    const left = await call(sb, "GET", "system/lookup?count_only=true", { token });
    assert.equal(left.body, 1);
  });
});

Deno.test("user/admin guards hold in bulk writes too (User::updateInternal's find is unscoped)", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/user", { token, body: [{ email: "u@x.com" }] });
    const uid = made.body.resource[0].id;
    const entry = (r: { body: { error: { context: { resource: unknown[] } } } }, i = 0) =>
      r.body.error.context.resource[i] as { code: number; message: string };
    for (
      const [method, path, body, code, message] of [
        ["DELETE", "system/user?ids=1", undefined, 403, "Not allowed to delete an admin user."],
        ["DELETE", "system/user", [{ id: 1 }], 403, "Not allowed to delete an admin user."],
        [
          "PATCH",
          "system/user?ids=1",
          [{ name: "x" }],
          403,
          "Not allowed to change an admin user.",
        ],
        [
          "PATCH",
          "system/user",
          [{ id: 1, name: "x" }],
          403,
          "Not allowed to change an admin user.",
        ],
        [
          "PATCH",
          `system/admin?ids=${uid}`,
          [{ name: "x" }],
          400,
          "Cannot update a non-admin user.",
        ],
        ["PATCH", "system/admin", [{ id: uid, name: "x" }], 400, "Cannot update a non-admin user."],
        ["DELETE", `system/admin?ids=${uid}`, undefined, 400, "Cannot delete a non-admin user."],
        [
          "DELETE",
          "system/admin",
          { resource: [{ id: uid }] },
          400,
          "Cannot delete a non-admin user.",
        ],
      ] as const
    ) {
      const r = await call(sb, method, path, { token, body });
      assert.equal(r.status, 400, `${method} ${path}`);
      assert.deepEqual(
        [entry(r).code, entry(r).message],
        [code, message],
        `${method} ${path} ${JSON.stringify(body)}`,
      );
    }
    // By id, the same guards (one path for both now).
    const byId = await call(sb, "PATCH", "system/user/1", { token, body: { name: "x" } });
    assert.deepEqual([byId.status, messageOf(byId)], [403, "Not allowed to change an admin user."]);
    // Reads stay scoped: the resource's criteria and NonAdminUser::selectById.
    const read = await call(sb, "GET", "system/user/1", { token });
    assert.equal(read.status, 404);
    const ids = await call(sb, "GET", "system/user?ids=1", { token });
    assert.deepEqual([ids.status, entry(ids).code], [400, 404]);
    // With continue, the others go through.
    const mixed = await call(sb, "DELETE", `system/user?ids=1,${uid}&continue=true`, { token });
    assert.equal(mixed.status, 400);
    assert.deepEqual(mixed.body.error.context.error, [0]);
    assert.deepEqual(mixed.body.error.context.resource[1], { id: uid });
    const admin = await call(sb, "GET", "system/admin/1?fields=name", { token });
    assert.equal(admin.status, 200);
  });
});

Deno.test("bulk PATCH/DELETE records without a key fail as updateInternal/deleteInternal do", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "r1" }, { name: "r2" }] });
    const NO_FIELDS = "There are no fields in the record to create . ";
    const NO_ID = "Identifying field &quot;id&quot; can not be empty for update request . ";
    for (
      const [method, path, body, message] of [
        // array_get($record, 'id') is null: a record without it, or no record at all.
        ["DELETE", "system/role", { resource: [{ name: "r2" }] }, NO_ID],
        ["DELETE", "system/role", { resource: [2] }, NO_ID],
        ["DELETE", "system/role", [{ id: 0 }], NO_ID],
        ["DELETE", "system/role", [{}], NO_FIELDS],
        ["DELETE", "system/role", [0], NO_FIELDS],
        ["PATCH", "system/role", { resource: [{}] }, NO_FIELDS],
        ["PATCH", "system/role", [2], NO_ID],
        ["PATCH", "system/role", [{ name: "x" }], NO_ID],
        // explode(',') keeps an empty id, and the key's name is always "id" in the message.
        ["DELETE", "system/role?ids=,2", undefined, NO_ID],
        ["PATCH", "system/role?ids=,2", [{ description: "d" }], NO_ID],
        ["PATCH", "system/event_script", [{ type: "nodejs" }], NO_ID],
        ["DELETE", "system/event_script", [{ type: "nodejs" }], NO_ID],
        // AdminUser::fixRecords adds is_sys_admin first: an empty record has fields then.
        ["PATCH", "system/admin", [{}], NO_ID],
        ["PATCH", "system/user", [{}], NO_FIELDS],
      ] as const
    ) {
      const r = await call(sb, method, path, { token, body });
      const label = `${method} ${path} ${JSON.stringify(body)}`;
      assert.equal(r.status, 400, label);
      assert.deepEqual(r.body.error.context.error, [0], label);
      assert.deepEqual(
        [r.body.error.context.resource[0].code, r.body.error.context.resource[0].message],
        [400, message],
        label,
      );
    }
    // A scalar record is PHP's error in AdminUser::fixRecords, before anything is written.
    const scalar = await call(sb, "PATCH", "system/admin", { token, body: [{ id: 1 }, 5] });
    assert.deepEqual([scalar.status, scalar.body], [500, { message: "Server Error" }]);
    // Nothing was deleted.
    const left = await call(sb, "GET", "system/role?as_list=true", { token });
    assert.deepEqual(left.body.resource, [1, 2]);
    // Keys are found and shown as PHP has them: true is the id 1, printed "1".
    const first = await call(sb, "DELETE", "system/role", { token, body: [{ id: true }] });
    assert.deepEqual(first.body, { resource: [{ id: 1 }] });
    const again = await call(sb, "DELETE", "system/role", { token, body: [{ id: true }] });
    assert.equal(
      again.body.error.context.resource[0].message,
      "Record with identifier '1' not found.",
    );
  });
});

/** The "(SQL: ...)" text of a failed insert, with Laravel's quotes decoded. */
function insertSql(r: { body: { error: { context: { resource: { message: string }[] } } } }) {
  const message = r.body.error.context.resource[0].message.replaceAll("&quot;", '"');
  return /\(SQL: (insert into .*)\)$/.exec(message)?.[1].replace(
    /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d/g,
    "T",
  );
}

Deno.test("a failed insert lists the record's fields as given, as Eloquent's fill() does", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "dup" }] });
    const role = await call(sb, "POST", "system/role", {
      token,
      body: [{ is_active: true, description: "d", name: "dup" }],
    });
    assert.equal(
      insertSql(role),
      `insert into "role" ("is_active", "description", "name", "created_by_id", "last_modified_date", "created_date") values (1, d, dup, 1, T, T)`,
    );

    // App::createInternal inserts without a key when none is sent, and generates it after.
    const app = await call(sb, "POST", "system/app", { token, body: [{ type: 0, name: "admin" }] });
    assert.equal(
      insertSql(app),
      `insert into "app" ("type", "name", "created_by_id", "last_modified_date", "created_date") values (0, admin, 1, T, T)`,
    );
    const key = "k".repeat(64);
    const keyed = await call(sb, "POST", "system/app", {
      token,
      body: [{ name: "admin", api_key: key }],
    });
    assert.equal(
      insertSql(keyed),
      `insert into "app" ("name", "api_key", "created_by_id", "last_modified_date", "created_date") values (admin, ${key}, 1, T, T)`,
    );
    const made = await call(sb, "POST", "system/app?fields=api_key", {
      token,
      body: [{ name: "a1" }, { name: "a2", api_key: key }, { name: "a3", api_key: key }],
    });
    const [k1, k2, k3] = made.body.resource.map((r: { api_key: string }) => r.api_key);
    assert.match(k1, /^[0-9a-f]{64}$/);
    assert.equal(k2, key);
    // isApiKeyUnique before the insert: a taken key is replaced after it.
    assert.match(k3, /^[0-9a-f]{64}$/);

    // User::createInternal: the password and is_sys_admin are saved after the insert; a username
    // User::save fills in comes after created_by_id.
    await call(sb, "POST", "system/user", { token, body: [{ email: "u@x.com" }] });
    const named = await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "u@x.com", username: "someone", password: "secret-enough" }],
    });
    assert.equal(
      insertSql(named),
      `insert into "user" ("email", "username", "name", "created_by_id", "last_modified_date", "created_date") values (u@x.com, someone, u, 1, T, T)`,
    );
    await call(sb, "POST", "system/user", {
      token,
      body: [{ email: "dupe@x.com", username: "first-user" }],
    });
    const admin = await call(sb, "POST", "system/admin", {
      token,
      body: [{ password: "secret-enough", email: "dupe@x.com", name: "A" }],
    });
    assert.equal(
      insertSql(admin),
      `insert into "user" ("email", "name", "created_by_id", "username", "last_modified_date", "created_date") values (dupe@x.com, A, 1, dupe@x.com, T, T)`,
    );
    // Both saves happen on success.
    const ok = await call(sb, "POST", "system/admin?fields=id,username", {
      token,
      body: [{ password: "secret-enough", email: "b@x.com", name: "null", username: "null" }],
    });
    assert.equal(ok.status, 201);
    const login = await call(sb, "POST", "system/admin/session", {
      body: { email: "b@x.com", password: "secret-enough" },
    });
    assert.equal(login.status, 200);
    // "null" became null (removeEmptyAttributes): isset() computes the name, User::save the
    // username, each in its place.
    const b = await call(sb, "GET", `system/admin/${ok.body.resource[0].id}?fields=name,username`, {
      token,
    });
    assert.deepEqual(b.body, { name: "b", username: "b@x.com", confirmed: true, expired: false });
  });
});

Deno.test("delete_storage=true answers the fields App::handleDELETE forces", async () => {
  await withSandbox(async (sb, token) => {
    const made = await call(sb, "POST", "system/app", {
      token,
      body: [
        { name: "a1", storage_container: "c1" },
        { name: "a2" },
        { name: "a3", type: 3, path: "p" },
        { name: "a4" },
      ],
    });
    const [a1, a2, a3, a4] = made.body.resource.map((r: { id: number }) => r.id);
    const one = await call(sb, "DELETE", `system/app/${a1}?delete_storage=true`, { token });
    assert.deepEqual(one.body, {
      id: a1,
      storage_service_id: null,
      storage_container: "c1",
      launch_url: "",
    });
    // Given fields get the three appended; `type` and `path` read make launch_url computable.
    const named = await call(
      sb,
      "DELETE",
      `system/app?ids=${a2},${a3}&delete_storage=true&fields=name,type,path`,
      {
        token,
      },
    );
    assert.deepEqual(
      named.body.resource.map((r: Record<string, unknown>) => Object.keys(r).sort()),
      [
        ["id", "launch_url", "name", "path", "storage_container", "storage_service_id", "type"],
        ["id", "launch_url", "name", "path", "storage_container", "storage_service_id", "type"],
      ],
    );
    assert.equal(named.body.resource[1].launch_url, `${sb.url.replace(/\/$/, "")}/p`);
    // "*" stays every field.
    const all = await call(sb, "DELETE", `system/app/${a4}?delete_storage=1&fields=*`, { token });
    assert.equal(all.body.name, "a4");
    assert.equal(all.body.is_active, false);
    const left = await call(sb, "GET", "system/app?as_list=true&id_field=name", { token });
    assert.deepEqual(left.body.resource, ["admin", "api_docs", "file_manager"]);
  });
});

Deno.test("POST user/password?reset=true saves the new code with a fresh last_modified_date", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/sb.sqlite`;
  try {
    const sb = await startSandbox({ port: 0, data });
    try {
      const token = await adminLogin(sb);
      const made = await call(sb, "POST", "system/user", { token, body: [{ email: "r@x.com" }] });
      const id = made.body.resource[0].id;
      const raw = new DatabaseSync(data);
      try {
        raw.prepare(`UPDATE user SET last_modified_date = '2020-01-01 00:00:00' WHERE id = ?`)
          .run(id);
      } finally {
        raw.close();
      }
      const reset = await call(sb, "POST", "user/password?reset=true", {
        body: { email: "r@x.com" },
      });
      // No email service: the code is saved, then sending it fails.
      assert.equal(reset.status, 500);
      // A partial selection loads only its columns: confirmed/expired read the loaded
      // confirm_code (hidden, yet loaded when named) and last_modified_date.
      const after = await call(
        sb,
        "GET",
        `system/user/${id}?fields=last_modified_date,confirm_code`,
        { token },
      );
      assert.ok(!after.body.last_modified_date.startsWith("2020-"), after.body.last_modified_date);
      assert.equal(after.body.confirm_code, undefined);
      assert.equal(after.body.confirmed, false);
      // The fresh date keeps the pending code within df.confirm_code_ttl.
      assert.equal(after.body.expired, false);
    } finally {
      await sb.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
