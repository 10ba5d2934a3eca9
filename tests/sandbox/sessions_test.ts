import { deepStrictEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { adminLogin, call, messageOf, withSandbox } from "./_helpers.ts";

const BLACKLISTED = "The token has been blacklisted: Session terminated. Please re-login.";

Deno.test("admin login answers DreamFactory's session payload", async () => {
  await withSandbox(async (sb) => {
    const r = await call(sb, "POST", "system/admin/session", { body: sb.admin });
    equal(r.status, 200);
    deepStrictEqual(
      Object.keys(r.body),
      [
        "session_token",
        "session_id",
        "id",
        "name",
        "first_name",
        "last_name",
        "email",
        "is_sys_admin",
        "last_login_date",
        "host",
        "token_expiry_date",
      ],
    );
    equal(r.body.id, 1);
    equal(r.body.is_sys_admin, true);
    equal(r.body.session_token, r.body.session_id);
    match(r.body.token_expiry_date, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  });
});

Deno.test("login errors: missing fields 400, wrong password and wrong endpoint 401", async () => {
  await withSandbox(async (sb, token) => {
    const missing = await call(sb, "POST", "system/admin/session", { body: { email: "a@b.c" } });
    equal(missing.status, 400);
    equal(messageOf(missing), "Login request is missing required password.");
    const noEmail = await call(sb, "POST", "user/session", { body: { password: "x" } });
    equal(messageOf(noEmail), "Login request is missing required email.");
    const wrong = await call(sb, "POST", "system/admin/session", {
      body: { email: sb.admin.email, password: "nope" },
    });
    equal(wrong.status, 401);
    equal(messageOf(wrong), "Invalid credentials supplied.");
    // An admin is not a user of the user service, and a user is not an admin.
    equal((await call(sb, "POST", "user/session", { body: sb.admin })).status, 401);
    await call(sb, "POST", "system/user", {
      token,
      body: { resource: [{ name: "Jo", email: "jo@x.com", password: "Secret123!" }] },
    });
    const asAdmin = await call(sb, "POST", "system/admin/session", {
      body: { email: "jo@x.com", password: "Secret123!" },
    });
    equal(asAdmin.status, 401);
    const asUser = await call(sb, "POST", "user/session", {
      body: { email: "jo@x.com", password: "Secret123!" },
    });
    equal(asUser.status, 200);
    equal(asUser.body.is_sys_admin, false);
  });
});

Deno.test("GET session reads, PUT refreshes and blacklists the old token, DELETE logs out", async () => {
  await withSandbox(async (sb, token) => {
    const got = await call(sb, "GET", "system/admin/session", { token });
    equal(got.status, 200);
    equal(got.body.session_token, token);
    const refreshed = await call(sb, "PUT", "system/admin/session", { token });
    equal(refreshed.status, 200);
    const fresh = refreshed.body.session_token;
    notEqual(fresh, token);
    const old = await call(sb, "GET", "system/role", { token });
    equal(old.status, 403);
    equal(messageOf(old), BLACKLISTED);
    equal((await call(sb, "GET", "system/role", { token: fresh })).status, 200);
    const out = await call(sb, "DELETE", "system/admin/session", { token: fresh });
    deepStrictEqual(out.body, { success: true });
    const after = await call(sb, "GET", "system/role", { token: fresh });
    equal(after.status, 403);
    equal(messageOf(after), BLACKLISTED);
    // A refreshed-away token cannot be refreshed again.
    const again = await call(sb, "PUT", "system/admin/session", { token });
    equal(again.status, 401);
    match(messageOf(again), /^Token refresh failed\./);
  });
});

Deno.test("session PUT without a token fails in tymon's TokenValidator, as JWTUtilities::refreshToken", async () => {
  await withSandbox(async (sb) => {
    for (const path of ["user/session", "system/admin/session"]) {
      const res = await call(sb, "PUT", path);
      deepStrictEqual(
        [res.status, messageOf(res)],
        [401, "Token refresh failed. Wrong number of segments"],
        path,
      );
    }
    const oneSegment = await call(sb, "PUT", "user/session", { token: "abc" });
    equal(messageOf(oneSegment), "Token refresh failed. Wrong number of segments");
  });
});

Deno.test("session GET without a token: 404 on admin/session, 401 on user/session", async () => {
  await withSandbox(async (sb) => {
    const admin = await call(sb, "GET", "system/admin/session");
    equal(admin.status, 404);
    equal(messageOf(admin), "No user session found.");
    const user = await call(sb, "GET", "user/session");
    equal(user.status, 401);
    equal(messageOf(user), "There is no valid session for the current request.");
  });
});

Deno.test("credentials: Bearer, query session_token, case-insensitive header names", async () => {
  await withSandbox(async (sb, token) => {
    const bearer = await fetch(`${sb.url}/api/v2/system/role`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    equal(bearer.status, 200);
    await bearer.body?.cancel();
    const query = await fetch(`${sb.url}/api/v2/system/role?session_token=${token}`);
    equal(query.status, 200);
    await query.body?.cancel();
    const lower = await fetch(`${sb.url}/api/v2/system/role`, {
      headers: { "x-dreamfactory-session-token": token },
    });
    equal(lower.status, 200);
    await lower.body?.cancel();
  });
});

Deno.test("bad tokens are rejected before routing, even on public endpoints", async () => {
  await withSandbox(async (sb, token) => {
    const bad = await call(sb, "GET", "system/environment", { token: "abc.def.ghi" });
    equal(bad.status, 401);
    equal(
      messageOf(bad),
      "Invalid token: Could not decode token: The token &quot;abc.def.ghi&quot; is an invalid JWS",
    );
    const [h, p] = token.split(".");
    const forged = await call(sb, "GET", "system/role", { token: `${h}.${p}.AAAA` });
    equal(forged.status, 401);
    match(messageOf(forged), /^Invalid token: /);
    const none = await call(sb, "GET", "system/user");
    equal(none.status, 400);
    match(messageOf(none), /^No session token \(JWT\) or API Key detected in request\./);
  });
});

Deno.test("expired tokens get 401 but can be refreshed inside the refresh window", async () => {
  await withSandbox(async (sb, token) => {
    await new Promise((r) => setTimeout(r, 2100));
    const expired = await call(sb, "GET", "system/role", { token });
    equal(expired.status, 401);
    equal(
      messageOf(expired),
      "Token has expired: Session expired. Please refresh your token (if still within refresh window) or re-login.",
    );
    const refreshed = await call(sb, "PUT", "system/admin/session", { token });
    equal(refreshed.status, 200);
    equal(
      (await call(sb, "GET", "system/role", { token: refreshed.body.session_token })).status,
      200,
    );
  }, { jwtTtl: 1, jwtRefreshTtl: 3600 });
});

Deno.test("tokens past the refresh window cannot be refreshed", async () => {
  await withSandbox(async (sb, token) => {
    await new Promise((r) => setTimeout(r, 2100));
    const r = await call(sb, "PUT", "system/admin/session", { token });
    equal(r.status, 401);
    equal(messageOf(r), "Token refresh failed. Token has expired and can no longer be refreshed");
  }, { jwtTtl: 1, jwtRefreshTtl: 1 });
});

Deno.test("a restart on the same data file keeps users, roles, apps, services and the blacklist", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/sandbox.sqlite`;
  const admin = { email: "boss@example.com", password: "Sup3rSecret!" };
  let kept: string;
  let loggedOut: string;
  let apiKey: string;
  {
    const sb = await startSandbox({ port: 0, data, admin });
    try {
      const token = await adminLogin(sb);
      equal(
        (await call(sb, "POST", "system/user", {
          token,
          body: { resource: [{ name: "Pat", email: "pat@x.com", password: "Secret123!" }] },
        })).status,
        201,
      );
      equal(
        (await call(sb, "POST", "system/role", { token, body: [{ name: "viewers" }] })).status,
        201,
      );
      const app = await call(sb, "POST", "system/app?fields=api_key", {
        token,
        body: [{ name: "kiosk", type: 0, is_active: true }],
      });
      apiKey = app.body.resource[0].api_key;
      equal(
        (await call(sb, "POST", "system/service", {
          token,
          body: [{
            name: "notes",
            type: "sqlite",
            is_active: true,
            config: { database: "notes.sqlite" },
          }],
        })).status,
        201,
      );
      loggedOut = await adminLogin(sb);
      await call(sb, "DELETE", "system/admin/session", { token: loggedOut });
      kept = token;
    } finally {
      await sb.close();
    }
  }
  const sb = await startSandbox({ port: 0, data, admin: { email: "other@x.com", password: "x" } });
  try {
    // The first admin is only created on a fresh file.
    deepStrictEqual((await call(sb, "POST", "system/admin/session", { body: admin })).status, 200);
    equal((await call(sb, "GET", "system/role", { token: kept })).status, 200, "token survives");
    equal(messageOf(await call(sb, "GET", "system/role", { token: loggedOut })), BLACKLISTED);
    const users = await call(sb, "GET", "system/user?fields=email", { token: kept });
    deepStrictEqual(users.body.resource.map((u: { email: string }) => u.email), ["pat@x.com"]);
    const roles = await call(sb, "GET", "system/role?fields=name", { token: kept });
    deepStrictEqual(roles.body.resource, [{ name: "viewers" }]);
    const apps = await call(sb, "GET", "system/app?fields=name,api_key", { token: kept });
    ok(apps.body.resource.some((a: { api_key: string }) => a.api_key === apiKey));
    const services = await call(sb, "GET", "system/service?fields=name", { token: kept });
    ok(services.body.resource.some((s: { name: string }) => s.name === "notes"));
    const login = await call(sb, "POST", "user/session", {
      body: { email: "pat@x.com", password: "Secret123!" },
    });
    equal(login.status, 200);
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("login: email and password are tested with PHP's empty(), as handleLogin does", async () => {
  await withSandbox(async (sb) => {
    for (
      const [path, body, message] of [
        ["user/session", { email: "0", password: "x" }, "Login request is missing required email."],
        [
          "user/session",
          { email: "a@x.com", password: "0" },
          "Login request is missing required password.",
        ],
        [
          "system/admin/session",
          { email: 0, password: "x" },
          "Login request is missing required email.",
        ],
      ] as const
    ) {
      const r = await call(sb, "POST", path, { body });
      equal(r.status, 400, JSON.stringify(body));
      equal(messageOf(r), message);
    }
  });
});

Deno.test("user/session with a `service`: an unknown one is 404, any other is not a login service", async () => {
  await withSandbox(async (sb) => {
    const creds = { email: "a@x.com", password: "whatever" };
    const unknown = await call(sb, "POST", "user/session", { body: { ...creds, service: "nope" } });
    equal(unknown.status, 404);
    equal(messageOf(unknown), "Could not find a service for nope");
    const db = await call(sb, "POST", "user/session?service=db", { body: creds });
    equal(db.status, 400);
    equal(messageOf(db), "Invalid login service provided. Please use an OAuth or AD/Ldap service.");
    const get = await call(sb, "GET", "user/session?service=db");
    equal(messageOf(get), "Invalid login service provided. Please use an OAuth service.");
  });
});
