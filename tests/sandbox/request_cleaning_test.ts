/**
 * Laravel's global TrimStrings and ConvertEmptyStringsToNull middleware, which DreamFactory 7
 * keeps (bootstrap/app.php configures Laravel 11's default global stack and removes neither):
 * strings in a JSON body sent as JSON, and query values, reach DreamFactory trimmed, and an
 * empty string as null. A top-level `password` is not trimmed; nested ones are.
 */
import assert from "node:assert/strict";
import { adminLogin, call, withSandbox } from "./_helpers.ts";

type Rec = Record<string, unknown>;

Deno.test("JSON records on system resources: padded strings are trimmed, empty ones stored null", async () => {
  await withSandbox(async (sb, token) => {
    const created = await call(sb, "POST", "system/role?fields=id,name,description", {
      token,
      body: { resource: [{ name: " \t padded \n", description: "", is_active: true }] },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = (created.body as { resource: Rec[] }).resource[0].id;
    assert.deepEqual(created.body.resource[0], { id, name: "padded", description: null });
    const read = await call(
      sb,
      "GET",
      "system/role?filter=name%3D%27padded%27&fields=description",
      {
        token,
      },
    );
    assert.deepEqual(read.body.resource, [{ description: null }]);
    // Unicode spaces and Laravel's zero-width additions are trimmed too; inner ones stay.
    const patched = await call(sb, "PATCH", "system/role?fields=name,description", {
      token,
      body: {
        resource: [{
          id,
          description: "\u00a0\u3000\u200b\ufeffa  b\u2003\u200e",
        }],
      },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.resource[0], { name: "padded", description: "a  b" });
  });
});

Deno.test("JSON records on a database table: padded strings trimmed, empty strings null, nested too", async () => {
  await withSandbox(async (sb, token) => {
    const schema = await call(sb, "POST", "db/_schema", {
      token,
      body: {
        resource: [{
          name: "t",
          field: [
            { name: "id", type: "id" },
            { name: "a", type: "string", allow_null: true },
            { name: "b", type: "string", allow_null: true },
            { name: "password", type: "string", allow_null: true },
          ],
        }],
      },
    });
    assert.equal(schema.status, 200, JSON.stringify(schema.body));
    const created = await call(sb, "POST", "db/_table/t?fields=a,b,password", {
      token,
      body: { resource: [{ a: "  x  ", b: "", password: "  p  " }, { a: "   ", b: "\u00a0" }] },
    });
    assert.equal(created.status, 200, JSON.stringify(created.body));
    // `resource.0.password` is not the excepted key `password`, so it is trimmed as well.
    assert.deepEqual(created.body.resource, [
      { a: "x", b: null, password: "p" },
      { a: null, b: null, password: null },
    ]);
  });
});

Deno.test("a JSON body without a JSON content type reaches DreamFactory uncleaned", async () => {
  await withSandbox(async (sb, token) => {
    const res = await fetch(`${sb.url}/api/v2/system/role?fields=name,description`, {
      method: "POST",
      headers: { "X-DreamFactory-Session-Token": token },
      // A byte body: fetch sends no Content-Type, so Laravel's isJson() is false.
      body: new TextEncoder().encode(
        JSON.stringify({ resource: [{ name: " raw ", description: "  d  " }] }),
      ),
    });
    assert.equal(res.status, 201);
    assert.deepEqual(((await res.json()) as { resource: Rec[] }).resource[0], {
      name: " raw ",
      description: "  d  ",
    });
  });
});

Deno.test("a top-level password is not trimmed; the email beside it is", async () => {
  await withSandbox(async (sb) => {
    const padded = await call(sb, "POST", "system/admin/session", {
      body: { email: `  ${sb.admin.email}  `, password: sb.admin.password },
    });
    assert.equal(padded.status, 200, JSON.stringify(padded.body));
    const paddedPassword = await call(sb, "POST", "system/admin/session", {
      body: { email: sb.admin.email, password: ` ${sb.admin.password} ` },
    });
    assert.equal(paddedPassword.status, 401);
    assert.ok(await adminLogin(sb));
  });
});

Deno.test("query values are trimmed: a blank filter is no filter", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/role", {
      token,
      body: { resource: [{ name: "r1" }, { name: "r2" }] },
    });
    const all = await call(sb, "GET", "system/role?fields=name", { token });
    const blank = await call(sb, "GET", "system/role?fields=name&filter=%20%20", { token });
    assert.equal(blank.status, 200, JSON.stringify(blank.body));
    assert.deepEqual(blank.body, all.body);
    const padded = await call(
      sb,
      "GET",
      `system/role?fields=%20name%20&filter=${encodeURIComponent(" name='r2' ")}`,
      { token },
    );
    assert.deepEqual(padded.body, { resource: [{ name: "r2" }] });
  });
});
