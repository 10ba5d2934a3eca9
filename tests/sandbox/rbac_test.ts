import { deepStrictEqual, equal } from "node:assert/strict";
import type { Sandbox } from "../../lib/sandbox/mod.ts";
import { call, messageOf, withSandbox } from "./_helpers.ts";

/**
 * A role granting GET on `system/role` only, an app using it as default role, and a user
 * assigned that role for the app.
 */
async function setup(sb: Sandbox, token: string) {
  const role = (await call(sb, "POST", "system/role", {
    token,
    body: [{
      name: "readers",
      is_active: true,
      role_service_access_by_role_id: [
        { service_id: 1, component: "role", verb_mask: 1, requestor_mask: 1 },
        { service_id: 1, component: "app/*", verb_mask: 1, requestor_mask: 2 },
      ],
    }],
  })).body.resource[0];
  const app = (await call(sb, "POST", "system/app?fields=id,api_key", {
    token,
    body: [{ name: "client", type: 0, is_active: true, role_id: role.id }],
  })).body.resource[0];
  const user = (await call(sb, "POST", "system/user", {
    token,
    body: [{
      name: "Jo",
      email: "jo@x.com",
      password: "Secret123!",
      user_to_app_to_role_by_user_id: [{ app_id: app.id, role_id: role.id }],
    }],
  })).body.resource[0];
  const login = await call(sb, "POST", "user/session", {
    apiKey: app.api_key,
    body: { email: "jo@x.com", password: "Secret123!" },
  });
  equal(login.status, 200);
  equal(login.body.role, "readers");
  equal(login.body.role_id, role.id);
  return {
    role,
    app,
    user,
    apiKey: app.api_key as string,
    userToken: login.body.session_token as string,
  };
}

Deno.test("rbac: the role grants what it says, and DreamFactory's messages for the rest", async () => {
  await withSandbox(async (sb, token) => {
    const { apiKey, userToken } = await setup(sb, token);
    equal((await call(sb, "GET", "system/role", { apiKey, token: userToken })).status, 200);
    const post = await call(sb, "POST", "system/role", {
      apiKey,
      token: userToken,
      body: [{ name: "x" }],
    });
    equal(post.status, 403);
    equal(
      messageOf(post),
      "Access Forbidden. POST access to component 'role' of service 'system' is not allowed by this user's role.",
    );
    // requestor_mask 2 (script) never grants API calls.
    const script = await call(sb, "GET", "system/app/1", { apiKey, token: userToken });
    equal(
      messageOf(script),
      "Access Forbidden. GET access to component 'app/1' of service 'system' is not allowed by this user's role.",
    );
    const root = await call(sb, "GET", "db", { apiKey, token: userToken });
    equal(
      messageOf(root),
      "Access Forbidden. GET access to service 'db' is not allowed by this user's role.",
    );
    // Key only: allowed calls work anonymously, others are 401.
    equal((await call(sb, "GET", "system/role", { apiKey })).status, 200);
    const anon = await call(sb, "GET", "system/user", { apiKey });
    equal(anon.status, 401);
    equal(messageOf(anon), "Unauthorized. User is not authenticated.");
    // Token without key: no role.
    const noKey = await call(sb, "GET", "system/role", { token: userToken });
    equal(noKey.status, 400);
    equal(
      messageOf(noKey),
      "No API Key provided. Please provide a valid API Key using X-DreamFactory-API-Key request header or 'api_key' url query parameter.",
    );
    // Unknown key without token; unknown key with token.
    const badKey = await call(sb, "GET", "system/role", { apiKey: "nope" });
    equal(
      messageOf(badKey),
      "No session token (JWT) provided. Please provide a valid JWT using X-DreamFactory-Session-Token request header or 'session_token' url query parameter.",
    );
    const both = await call(sb, "GET", "system/role", { apiKey: "nope", token: userToken });
    equal(both.status, 403);
    equal(
      messageOf(both),
      "Role not found. A role may not be assigned to you or your application.",
    );
    // Public and session endpoints need no grant.
    equal((await call(sb, "GET", "user/session", { token: userToken })).status, 200);
    equal((await call(sb, "GET", "user/profile", { token: userToken })).body.email, "jo@x.com");
    // Unknown services: permission first for role users, 404 for admins.
    equal((await call(sb, "GET", "nosuch/_table", { apiKey, token: userToken })).status, 403);
    const admin404 = await call(sb, "GET", "nosuch/_table", { token });
    equal(admin404.status, 404);
    equal(messageOf(admin404), "Could not find a service for nosuch");
    // The root listing shows only services the role touches.
    deepStrictEqual(
      (await call(sb, "GET", "", { apiKey })).body.services.map((s: { name: string }) => s.name),
      ["system"],
    );
  });
});

Deno.test("rbac: deactivating the role, the app or the user revokes access", async () => {
  await withSandbox(async (sb, token) => {
    const { role, app, user, apiKey, userToken } = await setup(sb, token);
    await call(sb, "PATCH", `system/role/${role.id}`, { token, body: { is_active: false } });
    // JWTUtilities::invalidateTokenByRoleId is a no-op (is_array() of a Collection): the token
    // stays valid and the role check refuses the call.
    const revoked = await call(sb, "GET", "system/role", { apiKey, token: userToken });
    equal(revoked.status, 403);
    equal(
      messageOf(revoked),
      "Access Forbidden. The role assigned to you or your application or the default role of your application is not active.",
    );
    equal((await call(sb, "GET", "user/session", { token: userToken })).status, 200);
    const keyOnly = await call(sb, "GET", "system/role", { apiKey });
    equal(
      messageOf(keyOnly),
      "Access Forbidden. The role assigned to you or your application or the default role of your application is not active.",
    );
    const relogin = await call(sb, "POST", "user/session", {
      apiKey,
      body: { email: "jo@x.com", password: "Secret123!" },
    });
    equal(relogin.status, 403);
    equal(messageOf(relogin), "Role is not active.");
    await call(sb, "PATCH", `system/role/${role.id}`, { token, body: { is_active: true } });
    const t2 = (await call(sb, "POST", "user/session", {
      apiKey,
      body: { email: "jo@x.com", password: "Secret123!" },
    })).body.session_token;
    await call(sb, "PATCH", `system/app/${app.id}`, { token, body: { is_active: false } });
    const inactiveApp = await call(sb, "GET", "system/role", { apiKey });
    equal(inactiveApp.status, 403);
    equal(messageOf(inactiveApp), "App is not active.");
    equal(
      (await call(sb, "GET", "user/session", { token: t2 })).status,
      200,
      "app deactivation keeps the token (invalidateTokenByAppId is a no-op)",
    );
    await call(sb, "PATCH", `system/app/${app.id}`, { token, body: { is_active: true } });
    const t3 = (await call(sb, "POST", "user/session", {
      apiKey,
      body: { email: "jo@x.com", password: "Secret123!" },
    })).body.session_token;
    await call(sb, "PATCH", `system/user/${user.id}`, { token, body: { is_active: false } });
    equal((await call(sb, "GET", "user/session", { token: t3 })).status, 403);
    const login = await call(sb, "POST", "user/session", {
      body: { email: "jo@x.com", password: "Secret123!" },
    });
    equal(login.status, 401, "inactive users cannot log in");
  });
});

Deno.test("rbac: changing a user's email or password invalidates their tokens", async () => {
  await withSandbox(async (sb, token) => {
    const { user, apiKey, userToken } = await setup(sb, token);
    await call(sb, "PATCH", `system/user/${user.id}`, { token, body: { email: "jo2@x.com" } });
    const r = await call(sb, "GET", "system/role", { apiKey, token: userToken });
    equal(r.status, 401);
    equal(messageOf(r), "Invalid token: User verification failed.");
    const t = (await call(sb, "POST", "user/session", {
      body: { email: "jo2@x.com", password: "Secret123!" },
    })).body.session_token;
    const changed = await call(sb, "POST", "user/password", {
      token: t,
      body: { old_password: "Secret123!", new_password: "Another123!" },
    });
    deepStrictEqual(changed.body, { success: true });
    equal((await call(sb, "GET", "user/session", { token: t })).status, 403);
    equal(
      (await call(sb, "POST", "user/session", {
        body: { email: "jo2@x.com", password: "Another123!" },
      })).status,
      200,
    );
  });
});

Deno.test("limits apply to role users (429 with rate-limit headers), never to admins", async () => {
  await withSandbox(async (sb, token) => {
    const { apiKey } = await setup(sb, token);
    const made = await call(sb, "POST", "system/limit", {
      token,
      body: [{ name: "two a minute", type: "instance", rate: 2, period: "minute" }],
    });
    equal(made.status, 201, JSON.stringify(made.body));
    equal((await call(sb, "GET", "system/role", { apiKey })).status, 200);
    equal((await call(sb, "GET", "system/role", { apiKey })).status, 200);
    const third = await call(sb, "GET", "system/role", { apiKey });
    equal(third.status, 429);
    equal(messageOf(third), "API limit(s) exceeded. ");
    equal(third.headers.get("x-ratelimit-limit"), "2");
    for (let i = 0; i < 4; i++) {
      equal((await call(sb, "GET", "system/role", { token })).status, 200);
    }
  });
});

Deno.test("system lists: as_list gives keys, wrap=false a bare array", async () => {
  await withSandbox(async (sb, token) => {
    deepStrictEqual((await call(sb, "GET", "system/app?as_list=true", { token })).body, {
      resource: [1, 2, 3],
    });
    deepStrictEqual(
      (await call(sb, "GET", "system/app?as_list=true&id_field=name", { token })).body.resource,
      ["admin", "api_docs", "file_manager"],
    );
    const bare = await call(sb, "GET", "system/app?fields=id&wrap=false", { token });
    deepStrictEqual(bare.body, [{ id: 1, launch_url: "" }, { id: 2, launch_url: "" }, {
      id: 3,
      launch_url: "",
    }]);
  });
});
