import { deepStrictEqual, equal, match } from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

const NO_RECORDS =
  "No record(s) detected in request. Please make sure record(s) are wrapped in a 'resource' tag. Example: {&quot;resource&quot;:[{&quot;record&quot;:1},{&quot;record&quot;:2}]}";

Deno.test("bad input: invalid JSON and a missing resource wrapper are 400 'No record(s)'", async () => {
  await withSandbox(async (sb, token) => {
    const broken = await call(sb, "POST", "system/role", { token, body: '{"resource":[{"name":' });
    equal(broken.status, 400);
    equal(messageOf(broken), NO_RECORDS);
    const bare = await call(sb, "POST", "system/role", { token, body: { name: "solo" } });
    equal(bare.status, 400);
    deepStrictEqual(bare.body, {
      error: { code: 400, context: null, message: NO_RECORDS, status_code: 400 },
    });
    const array = await call(sb, "POST", "system/role", { token, body: [{ name: "in-array" }] });
    equal(array.status, 201, "a bare JSON array is accepted");
    const patchIds = await call(sb, "PATCH", "system/role?ids=1", { token, body: { name: "x" } });
    equal(messageOf(patchIds), NO_RECORDS);
    // The server is still up.
    equal((await call(sb, "GET", "system/role", { token })).status, 200);
  });
});

Deno.test("bad input: unknown resources, services and ids", async () => {
  await withSandbox(async (sb, token) => {
    const res = await call(sb, "GET", "system/nosuch", { token });
    equal(res.status, 404);
    equal(messageOf(res), "Resource 'nosuch' not found for service 'system'.");
    const svc = await call(sb, "GET", "nosuch", { token });
    equal(svc.status, 404);
    equal(messageOf(svc), "Could not find a service for nosuch");
    const id = await call(sb, "PATCH", "system/role/999", { token, body: { name: "x" } });
    equal(id.status, 404);
    equal(messageOf(id), "Record with identifier '999' not found.");
    const del = await call(sb, "DELETE", "system/role/999", { token });
    equal(del.status, 404);
    const byId = await call(sb, "POST", "system/role/1", { token, body: [{ name: "x" }] });
    equal(messageOf(byId), "Create record by identifier not currently supported.");
    const nothing = await call(sb, "DELETE", "system/role", { token });
    equal(nothing.status, 400);
    equal(messageOf(nothing), "No filter or records given for delete request.");
    // unwrapResources finds no records in a bare object (nor in `resource` that is no list).
    for (const body of [{ id: 1 }, { resource: {} }, { records: [{ id: 1 }] }, []]) {
      const bare = await call(sb, "DELETE", "system/role", { token, body });
      equal(bare.status, 400, JSON.stringify(body));
      equal(messageOf(bare), "No filter or records given for delete request.");
    }
    const missingId = await call(sb, "PATCH", "system/role", { token, body: [{ name: "x" }] });
    equal(missingId.status, 400);
    equal(
      missingId.body.error.context.resource[0].message,
      "Identifying field &quot;id&quot; can not be empty for update request . ",
    );
    const page = await fetch(`${sb.url}/nothing/here`);
    equal(page.status, 404);
    await page.body?.cancel();
  });
});

Deno.test("bad input: duplicates and missing required fields come back as batch errors", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", { token, body: [{ name: "Jane", email: "jane@x.com" }] });
    const dupUser = await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "Dup", email: "jane@x.com" }],
    });
    deepStrictEqual(dupUser.body, {
      error: {
        code: 1000,
        context: {
          error: [0],
          resource: [{
            code: 400,
            context: { username: ["The username has already been taken."] },
            message: "Invalid data supplied. The username has already been taken.",
            status_code: 400,
          }],
        },
        message: "Batch Error: Not all requested records could be created.",
        status_code: 400,
      },
    });
    const noEmail = await call(sb, "POST", "system/user", { token, body: [{ name: "NoEmail" }] });
    equal(
      noEmail.body.error.context.resource[0].message,
      "Failed to create resource: Undefined array key &quot;email&quot;",
    );
    await call(sb, "POST", "system/role", { token, body: [{ name: "readers" }] });
    const dupRole = await call(sb, "POST", "system/role", { token, body: [{ name: "readers" }] });
    equal(dupRole.status, 400);
    const entry = dupRole.body.error.context.resource[0];
    equal(entry.code, "23000");
    match(
      entry.message,
      /^SQLSTATE\[23000\]: Integrity constraint violation: 19 UNIQUE constraint failed: role\.name/,
    );
    const noName = await call(sb, "POST", "system/role", { token, body: [{ description: "x" }] });
    equal(
      noName.body.error.context.resource[0].message,
      "Invalid data supplied. The name field is required.",
    );
    const badService = await call(sb, "POST", "system/service", {
      token,
      body: [{ name: "bad name!", type: "sqlite", config: { database: "x" } }],
    });
    equal(
      badService.body.error.context.resource[0].message,
      "Invalid data supplied. Service name should only contain letters, numbers, underscores and dashes.",
    );
  });
});

Deno.test("batches: stop at first failure, continue, rollback", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", { token, body: [{ name: "Jane", email: "jane@x.com" }] });
    const partial = await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "C", email: "c@x.com" }, { name: "D", email: "jane@x.com" }, {
        name: "E",
        email: "e@x.com",
      }],
    });
    deepStrictEqual(partial.body.error.context.error, [1]);
    equal(partial.body.error.context.resource.length, 2);
    equal(partial.body.error.context.resource[0].id, 3);
    const cont = await call(sb, "POST", "system/user?continue=true", {
      token,
      body: [{ name: "F", email: "f@x.com" }, { name: "D", email: "jane@x.com" }, {
        name: "G",
        email: "g@x.com",
      }],
    });
    deepStrictEqual(cont.body.error.context.error, [1]);
    equal(cont.body.error.context.resource.length, 3);
    const rb = await call(sb, "POST", "system/user?rollback=true", {
      token,
      body: [{ name: "H", email: "h@x.com" }, { name: "D", email: "jane@x.com" }],
    });
    equal(
      rb.body.error.message,
      "Batch Error: Not all requested records could be created. All changes rolled back.",
    );
    const emails = (await call(sb, "GET", "system/user?fields=email", { token })).body.resource.map(
      (u: { email: string }) => u.email,
    );
    deepStrictEqual(emails, ["jane@x.com", "c@x.com", "f@x.com", "g@x.com"]);
    const ids = await call(sb, "GET", "system/user?ids=2,999", { token });
    equal(ids.body.error.message, "Batch Error: Not all requested records could be retrieved.");
    deepStrictEqual(ids.body.error.context.error, [1]);
  });
});

Deno.test("tunnelling: POST with X-HTTP-Method or ?method= acts as that verb", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", { token, body: [{ name: "a" }, { name: "b" }] });
    const get = await call(sb, "POST", "system/role?fields=name", {
      token,
      headers: { "X-HTTP-Method": "GET" },
    });
    deepStrictEqual(get.body.resource, [{ name: "a" }, { name: "b" }]);
    const del = await call(sb, "POST", "system/role/1?method=DELETE", { token });
    deepStrictEqual(del.body, { id: 1 });
    const merge = await call(sb, "POST", "system/role/2", {
      token,
      headers: { "x-method-override": "MERGE" },
      body: { description: "merged" },
    });
    deepStrictEqual(merge.body, { id: 2 });
    const opts = await fetch(`${sb.url}/api/v2/system/user`, { method: "OPTIONS" });
    equal(opts.status, 405);
    await opts.body?.cancel();
  });
});

Deno.test("maxRecords caps system lists", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "a" }, { name: "b" }, { name: "c" }],
    });
    const r = await call(sb, "GET", "system/role?include_count=true", { token });
    equal(r.body.resource.length, 2);
    equal(r.body.meta.count, 3);
    equal(
      (await call(sb, "GET", "system/role?limit=10&offset=2", { token })).body.resource.length,
      1,
    );
  }, { maxRecords: 2 });
});

Deno.test("filters on system resources: DreamFactory's grammar, quirks and errors", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "Ann", email: "ann@x.com" }, { name: "Bob", email: "bob@y.com" }],
    });
    const q = (filter: string) =>
      call(sb, "GET", `system/user?fields=email&filter=${encodeURIComponent(filter)}`, { token });
    deepStrictEqual((await q("email like '%@x.com'")).body.resource, [{
      email: "ann@x.com",
      confirmed: true,
      expired: false,
    }]);
    equal((await q("(name = 'Ann') or (name = 'Bob')")).body.resource.length, 2);
    const unknown = await q("nosuch = 1");
    equal(unknown.status, 400);
    equal(messageOf(unknown), "Invalid or unparsable field in filter request: 'nosuch'");
    const quirk = await q("id = 2 and name = 'Ann'");
    equal(quirk.status, 400);
    equal(messageOf(quirk), "Field 'id' must be a valid integer.");
    equal((await q("is_active = true")).body.resource.length, 0, "booleans are bound unchanged");
    equal((await q("is_active = 1")).body.resource.length, 2);
    const noOp = await q("name");
    equal(noOp.status, 400);
    equal(messageOf(noOp), "Invalid or unparsable filter request.");
  });
});

Deno.test("GET tunnelled through POST selects the records (ids) given in the body", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "a" }, { name: "b" }, { name: "c" }],
    });
    const r = await call(sb, "POST", "system/role?fields=name", {
      token,
      headers: { "X-HTTP-Method": "GET" },
      body: { resource: [{ id: 3 }, { id: 1 }] },
    });
    // In query order (id), as DreamFactory's selectByIds answers a full match.
    deepStrictEqual(r.body, { resource: [{ name: "a" }, { name: "c" }] });
  });
});

Deno.test("bad input: a filter of only spaces or '()' is DreamFactory's bare 500, an empty one is no filter", async () => {
  await withSandbox(async (sb, token) => {
    const schema = {
      resource: [{ name: "t", field: [{ name: "id", type: "id" }, { name: "a", type: "string" }] }],
    };
    equal((await call(sb, "POST", "db/_schema", { token, body: schema })).status, 200);
    for (const path of ["system/user", "db/_table/t"]) {
      const res = await call(sb, "GET", `${path}?filter=${encodeURIComponent("()")}`, { token });
      equal(res.status, 500, `${path} "()"`);
      deepStrictEqual(res.body, { message: "Server Error" });
      // Laravel's TrimStrings and ConvertEmptyStringsToNull make a query filter of only spaces
      // null before DreamFactory reads it: no filter, like an empty one.
      equal((await call(sb, "GET", `${path}?filter=%20%20%20`, { token })).status, 200);
      equal((await call(sb, "GET", `${path}?filter=`, { token })).status, 200);
      // A body sent without a JSON content type is not cleaned: its blank filter reaches
      // DreamFactory, which fails on it.
      const raw = await fetch(`${sb.url}/api/v2/${path}`, {
        method: "POST",
        headers: { "X-DreamFactory-Session-Token": token, "X-HTTP-Method": "GET" },
        body: new TextEncoder().encode(JSON.stringify({ filter: "   " })),
      });
      equal(raw.status, 500, `${path} body "   "`);
      deepStrictEqual(await raw.json(), { message: "Server Error" });
    }
  });
});

Deno.test("bad input: passwords shorter than the minimum are refused before anything is saved", async () => {
  for (const min of [6, 16]) {
    await withSandbox(async (sb, token) => {
      const short = "x".repeat(min - 1);
      const msg = `The password field must be at least ${min} characters.`;
      const created = await call(sb, "POST", "system/user", {
        token,
        body: [{ email: "short@x.com", password: short }],
      });
      equal(created.status, 400);
      deepStrictEqual(created.body.error.context.resource[0].context, { password: [msg] });
      equal(created.body.error.context.resource[0].message, `Invalid data supplied. ${msg}`);
      const none = await call(sb, "GET", "system/user?filter=email%3D'short%40x.com'", { token });
      deepStrictEqual(none.body.resource, [], "the refused user was not created");
      const ok = await call(sb, "POST", "system/user", {
        token,
        body: [{ email: "ok@x.com", password: "y".repeat(min) }],
      });
      equal(ok.status, 201);
      const id = ok.body.resource[0].id;
      const upd = await call(sb, "PATCH", `system/user/${id}`, {
        token,
        body: { password: short },
      });
      equal(upd.status, 400);
      equal(messageOf(upd), `Invalid data supplied. ${msg}`);
      const login = await call(sb, "POST", "user/session", {
        body: { email: "ok@x.com", password: "y".repeat(min) },
      });
      equal(login.status, 200, "the old password still works after the refused change");
    }, { passwordMinLength: min });
  }
});
