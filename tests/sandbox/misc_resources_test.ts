import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";
import { NO_RECORDS_MESSAGE as RAW_NO_RECORDS } from "../../lib/sandbox/http.ts";

/** The message as DreamFactory's envelope sends it (htmlentities). */
const NO_RECORDS_MESSAGE = RAW_NO_RECORDS.replaceAll('"', "&quot;");

Deno.test("cors rules answer preflights and decorate responses; without one OPTIONS is 405", async () => {
  await withSandbox(async (sb, token) => {
    const before = await fetch(`${sb.url}/api/v2/system/role`, {
      method: "OPTIONS",
      headers: { Origin: "http://app.test", "Access-Control-Request-Method": "GET" },
    });
    equal(before.status, 405);
    await before.body?.cancel();
    await call(sb, "POST", "system/cors", {
      token,
      body: [{
        path: "api/v2/*",
        origin: "http://app.test",
        method: ["GET", "POST"],
        enabled: true,
      }],
    });
    const pre = await fetch(`${sb.url}/api/v2/system/role`, {
      method: "OPTIONS",
      headers: { Origin: "http://app.test", "Access-Control-Request-Method": "GET" },
    });
    equal(pre.status, 200);
    equal(pre.headers.get("access-control-allow-origin"), "http://app.test");
    equal(pre.headers.get("access-control-allow-methods"), "GET, POST");
    await pre.body?.cancel();
    const other = await call(sb, "GET", "system/role", {
      token,
      headers: { Origin: "http://elsewhere.test" },
    });
    equal(other.headers.get("access-control-allow-origin"), null);
  });
});

Deno.test("event_script: POST by name upserts (201 then 200)", async () => {
  await withSandbox(async (sb, token) => {
    const name = "db._table.todo.get.pre_process";
    const first = await call(sb, "POST", `system/event_script/${name}`, {
      token,
      body: { name, type: "nodejs", content: "1", is_active: true },
    });
    equal(first.status, 201, JSON.stringify(first.body));
    // BaseModel::buildResult: the key alone unless `fields` asks for more.
    deepStrictEqual(first.body, { name });
    const second = await call(sb, "POST", `system/event_script/${name}?fields=*`, {
      token,
      body: { content: "2", name: "other" },
    });
    equal(second.status, 200);
    deepStrictEqual([second.body.name, second.body.content], [name, "2"]);
    // The model has no rules: any type is stored; the URL does not name a new record.
    const cobol = await call(sb, "POST", "system/event_script/x", {
      token,
      body: { name: "x", type: "cobol" },
    });
    equal(cobol.status, 201);
    const unnamed = await call(sb, "POST", "system/event_script/y", {
      token,
      body: { type: "nodejs" },
    });
    equal(unnamed.status, 500);
    ok(/NOT NULL constraint failed: event_script\.name/.test(messageOf(unnamed)));
    const empty = await call(sb, "POST", "system/event_script/y", { token, body: {} });
    equal(empty.status, 400);
  });
});

Deno.test("cache, constant, event and environment answer as DreamFactory does", async () => {
  await withSandbox(async (sb, token) => {
    deepStrictEqual((await call(sb, "GET", "system/cache", { token })).body, {
      resource: [{ name: "system" }, { name: "db" }, { name: "user" }],
    });
    deepStrictEqual((await call(sb, "DELETE", "system/cache", { token })).body, { success: true });
    deepStrictEqual((await call(sb, "DELETE", "system/cache/db", { token })).body, {
      success: true,
    });
    equal((await call(sb, "DELETE", "system/cache/nosuch", { token })).status, 404);
    deepStrictEqual((await call(sb, "GET", "system/constant", { token })).body, { resource: [] });
    const env = await call(sb, "GET", "system/environment", { token });
    ok(env.body.platform && env.body.client && env.body.config, "sessions see platform details");
    deepStrictEqual(env.body.apps.map((a: { name: string }) => a.name), [
      "admin",
      "api_docs",
      "file_manager",
    ]);
    const post = await call(sb, "POST", "system/environment", { token, body: {} });
    equal(post.status, 400);
    const unknownUser = await call(sb, "GET", "user/nosuch", { token });
    equal(unknownUser.status, 404);
    equal(messageOf(unknownUser), "Resource 'nosuch' not found for service 'user'.");
  });
});

Deno.test("environment: apps and platform details by caller, as Environment::handleGET", async () => {
  await withSandbox(async (sb, token) => {
    const role = await call(sb, "POST", "system/role", {
      token,
      body: [{ name: "r", is_active: true }],
    });
    const roleId = role.body.resource[0].id;
    await call(sb, "POST", "system/user", {
      token,
      body: [{
        name: "U",
        email: "u@x.com",
        password: "Secret123!",
        default_app_id: 2,
        user_to_app_to_role_by_user_id: [{ app_id: 2, role_id: roleId }],
      }],
    });
    // Anonymous: only active apps with a default role (none of the seeded ones).
    deepStrictEqual((await call(sb, "GET", "system/environment")).body.apps, []);
    // A user: the apps assigned to them, their default app marked; no admin-only details.
    const userToken = (await call(sb, "POST", "user/session", {
      body: { email: "u@x.com", password: "Secret123!" },
    })).body.session_token;
    const env = (await call(sb, "GET", "system/environment", { token: userToken })).body;
    deepStrictEqual(
      env.apps.map((a: { name: string; is_default: boolean }) => [a.name, a.is_default]),
      [
        ["api_docs", true],
      ],
    );
    ok(env.platform && !("db_driver" in env.platform) && !("app_debug" in env.platform));
    // The admin: every active app, and the administrator-only platform details.
    const adminEnv = (await call(sb, "GET", "system/environment", { token })).body;
    equal(adminEnv.apps.length, 3);
    equal(adminEnv.platform.db_driver, "sqlite");
  });
});

Deno.test("environment and cache writes answer as their df-system resources do", async () => {
  await withSandbox(async (sb, token) => {
    // Environment is a BaseSystemResource without a model: its checks, then a PHP Error.
    const noRecords = await call(sb, "POST", "system/environment", { token, body: {} });
    deepStrictEqual([noRecords.status, messageOf(noRecords)], [400, NO_RECORDS_MESSAGE]);
    const patch = await call(sb, "PUT", "system/environment", { token, body: { resource: [] } });
    deepStrictEqual([patch.status, messageOf(patch)], [400, NO_RECORDS_MESSAGE]);
    const del = await call(sb, "DELETE", "system/environment", { token });
    deepStrictEqual(
      [del.status, messageOf(del)],
      [400, "No filter or records given for delete request."],
    );
    const byId = await call(sb, "POST", "system/environment/1", { token, body: { a: 1 } });
    equal(messageOf(byId), "Create record by identifier not currently supported.");
    const create = await call(sb, "POST", "system/environment", { token, body: [{ a: 1 }] });
    deepStrictEqual([create.status, create.body], [500, { message: "Server Error" }]);
    const truncate = await call(sb, "DELETE", "system/environment?force=true", { token });
    deepStrictEqual([truncate.status, truncate.body], [500, { message: "Server Error" }]);
    // Cache has only handleDELETE: RestHandler's 400 for the other writes.
    for (const method of ["POST", "PUT", "PATCH"]) {
      const r = await call(sb, method, "system/cache", { token, body: {} });
      deepStrictEqual(
        [r.status, messageOf(r)],
        [
          400,
          `${method} requests without a resource are not currently supported by the 'cache' service.`,
        ],
      );
    }
  });
});
