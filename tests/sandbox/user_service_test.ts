import { deepStrictEqual, equal, ok } from "node:assert/strict";
import { call, messageOf, withSandbox } from "./_helpers.ts";

Deno.test("user service: registration is off by default, then open when configured", async () => {
  await withSandbox(async (sb, token) => {
    const closed = await call(sb, "POST", "user/register", {
      body: { email: "new@x.com", password: "Secret123!" },
    });
    equal(closed.status, 403);
    equal(messageOf(closed), "Open Registration is not enabled.");
    const svc = await call(sb, "PATCH", "system/service/3", {
      token,
      body: { config: { allow_open_registration: true } },
    });
    equal(svc.status, 200, JSON.stringify(svc.body));
    const bad = await call(sb, "POST", "user/register", {
      body: { email: "nope", first_name: "N" },
    });
    equal(bad.status, 400);
    equal(messageOf(bad), "Validation failed");
    ok(bad.body.error.context.email && bad.body.error.context.password);
    const reg = await call(sb, "POST", "user/register?login=true", {
      body: { email: "new@x.com", password: "Secret123!", first_name: "Neo" },
    });
    equal(reg.status, 200);
    equal(reg.body.success, true);
    const profile = await call(sb, "GET", "user/profile", { token: reg.body.session_token });
    equal(profile.body.email, "new@x.com");
    equal(profile.body.first_name, "Neo");
  });
});

Deno.test("user/register: Register::handlePOST derives names, validates, then checks registration", async () => {
  await withSandbox(async (sb, token) => {
    const post = (body: unknown) => call(sb, "POST", "user/register", { body });
    // Registrar::validator runs before Registrar::create's open-registration check.
    const invalid = await post({
      email: "a@x.com",
      password: "long-enough",
      password_confirmation: "x",
    });
    equal(invalid.status, 400);
    deepStrictEqual(invalid.body.error.context, {
      password: ["The password field confirmation does not match."],
    });
    const closed = await post({ email: "a@x.com", password: "long-enough" });
    deepStrictEqual([closed.status, messageOf(closed)], [403, "Open Registration is not enabled."]);
    // No first name and an email without "@": list($username, $domain) = explode(...) warns.
    const noAt = await post({ email: "nope", password: "long-enough" });
    deepStrictEqual([noAt.status, messageOf(noAt)], [500, "Undefined array key 1"]);
    await call(sb, "PATCH", "system/service/3", {
      token,
      body: { config: { allow_open_registration: true } },
    });
    const dup = await post({ email: "admin@example.com", password: "long-enough" });
    deepStrictEqual(dup.body.error.context, { email: ["The email has already been taken."] });
    // first.last@ gives both names; a lone first name is the last name too.
    equal((await post({ email: "jo.smith@x.com", password: "long-enough" })).status, 200);
    equal(
      (await post({ email: "b@x.com", first_name: "Neo", password: "long-enough" })).status,
      200,
    );
    const users = await call(sb, "GET", "system/user?fields=name,first_name,last_name,email", {
      token,
    });
    deepStrictEqual(
      users.body.resource.map((u: Record<string, unknown>) => [u.name, u.first_name, u.last_name]),
      [
        ["jo smith", "jo", "smith"],
        ["Neo Neo", "Neo", "Neo"],
      ],
    );
  });
});

Deno.test("profile POST: UserProfileResource's checks, then User's rules through update()", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "Pat", email: "pat@x.com", password: "Secret123!" }],
    });
    const t = (await call(sb, "POST", "user/session", {
      body: { email: "pat@x.com", password: "Secret123!" },
    })).body.session_token;
    const post = (body: unknown) => call(sb, "POST", "user/profile", { token: t, body });
    const empty = await post({});
    deepStrictEqual([empty.status, messageOf(empty)], [400, "No data supplied for operation."]);
    const noPw = await post({ email: "p2@x.com" });
    deepStrictEqual([noPw.status, messageOf(noPw)], [
      400,
      "Current Password required to change email",
    ]);
    const wrong = await post({ email: "p2@x.com", current_password: "nope" });
    deepStrictEqual([wrong.status, messageOf(wrong)], [
      400,
      "The password supplied does not match.",
    ]);
    // Null values are filtered out; the rest is validated by User's $rules.
    deepStrictEqual((await post({ name: null, phone: "9" })).body, { success: true });
    // A blank name reaches DreamFactory as null (Laravel's ConvertEmptyStringsToNull), so it is
    // filtered out like one: nothing to change, and the name stays.
    deepStrictEqual((await post({ name: "" })).body, { success: true });
    const me = await call(sb, "GET", "user/profile", { token: t });
    deepStrictEqual([me.body.name, me.body.phone], ["Pat", "9"]);
  });
});

Deno.test("profiles: GET and POST the caller's own profile; email changes need the password", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "Pat", email: "pat@x.com", password: "Secret123!" }],
    });
    const t = (await call(sb, "POST", "user/session", {
      body: { email: "pat@x.com", password: "Secret123!" },
    })).body.session_token;
    deepStrictEqual(
      (await call(sb, "POST", "user/profile", { token: t, body: { phone: "123" } })).body,
      { success: true },
    );
    equal((await call(sb, "GET", "user/profile", { token: t })).body.phone, "123");
    const noPw = await call(sb, "POST", "user/profile", { token: t, body: { email: "p2@x.com" } });
    equal(noPw.status, 400);
    const moved = await call(sb, "POST", "user/profile", {
      token: t,
      body: { email: "p2@x.com", current_password: "Secret123!" },
    });
    ok(moved.body.session_token, "a fresh token comes back when the email changes");
    equal(
      (await call(sb, "GET", "user/profile", { token: moved.body.session_token })).body.email,
      "p2@x.com",
    );
    const admin = await call(sb, "GET", "system/admin/profile", { token });
    equal(admin.body.email, "admin@example.com");
    const none = await call(sb, "GET", "user/profile");
    equal(none.status, 401);
  });
});

Deno.test("admin/user guards and password endpoints keep to their kind", async () => {
  await withSandbox(async (sb, token) => {
    const u = (await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "Pat", email: "pat@x.com", password: "Secret123!" }],
    })).body.resource[0];
    const viaUser = await call(sb, "PATCH", "system/user/1", { token, body: { phone: "1" } });
    equal(viaUser.status, 403);
    equal(messageOf(viaUser), "Not allowed to change an admin user.");
    const delAdmin = await call(sb, "DELETE", "system/user/1", { token });
    equal(messageOf(delAdmin), "Not allowed to delete an admin user.");
    const viaAdmin = await call(sb, "DELETE", `system/admin/${u.id}`, { token });
    equal(viaAdmin.status, 400);
    equal(messageOf(viaAdmin), "Cannot delete a non-admin user.");
    const self = await call(sb, "DELETE", "system/admin/1", { token });
    equal(self.status, 403);
    equal(messageOf(self), "Cannot delete your account.");
    const t = (await call(sb, "POST", "user/session", {
      body: { email: "pat@x.com", password: "Secret123!" },
    })).body.session_token;
    const wrongKind = await call(sb, "POST", "system/admin/password", {
      token: t,
      body: { old_password: "Secret123!", new_password: "x" },
    });
    equal(wrongKind.status, 401);
    equal(
      messageOf(wrongKind),
      "You are not authorized to reset/change password for the account pat@x.com",
    );
    const wrongOld = await call(sb, "POST", "user/password", {
      token: t,
      body: { old_password: "nope", new_password: "Newer123!" },
    });
    equal(wrongOld.status, 400);
    const changed = await call(sb, "POST", "system/admin/password?login=true", {
      token,
      body: { old_password: sb.admin.password, new_password: "Changed123!" },
    });
    equal(changed.body.success, true);
    ok(changed.body.session_token);
    equal((await call(sb, "GET", "system/role", { token })).status, 403, "old token revoked");
    equal(
      (await call(sb, "POST", "system/admin/session", {
        body: { email: sb.admin.email, password: "Changed123!" },
      })).status,
      200,
    );
  });
});

Deno.test("HTTP Basic credentials authenticate a single request", async () => {
  await withSandbox(async (sb) => {
    const ok1 = await fetch(`${sb.url}/api/v2/system/role`, {
      headers: { Authorization: "Basic " + btoa(`${sb.admin.email}:${sb.admin.password}`) },
    });
    equal(ok1.status, 200);
    await ok1.body?.cancel();
    const bad = await fetch(`${sb.url}/api/v2/system/role`, {
      headers: { Authorization: "Basic " + btoa(`${sb.admin.email}:wrong`) },
    });
    equal(bad.status, 401);
    await bad.body?.cancel();
  });
});

Deno.test("password resource: DreamFactory's order of cases, messages and statuses", async () => {
  await withSandbox(async (sb, token) => {
    await call(sb, "POST", "system/user", {
      token,
      body: [
        { name: "Q", email: "q@x.com", security_question: "pet?", security_answer: "dog" },
        { name: "R", email: "r@x.com" },
      ],
    });
    const post = (path: string, body: unknown, t?: string) =>
      call(sb, "POST", path, { body, ...(t ? { token: t } : {}) });
    const cases: [string, unknown, number, string, string?][] = [
      [
        "system/admin/password",
        { old_password: sb.admin.password },
        400,
        "Both old and new password are required to change the password.",
        token,
      ],
      ["user/password", {}, 400, "Not enough information provided to change password."],
      [
        "user/password?reset=true",
        {},
        400,
        "Missing required email for password reset confirmation.",
      ],
      [
        "user/password",
        { email: "q@x.com", security_answer: "dog" },
        400,
        "Missing new password for reset.",
      ],
      [
        "user/password",
        { email: "q@x.com", security_answer: "cat", new_password: "Newer1234!" },
        400,
        "The answer supplied does not match.",
      ],
      [
        "user/password",
        { email: "q@x.com", code: "y", new_password: "Newer1234!" },
        400,
        "Invalid confirmation code.",
      ],
      [
        "user/password",
        { email: "q@x.com", code: "short", new_password: "Newer1234!" },
        400,
        "Invalid confirmation code format.",
      ],
      [
        "user/password",
        { email: "q@x.com", code: "x".repeat(32), new_password: "Newer1234!" },
        404,
        "The supplied email and/or confirmation code were not found in the system.",
      ],
      [
        "user/password?reset=true",
        { email: "r@x.com" },
        500,
        "No security question found or email confirmation available for this user. Please contact your administrator.",
      ],
    ];
    for (const [path, body, status, message, t] of cases) {
      const res = await post(path, body, t);
      deepStrictEqual(
        [res.status, messageOf(res)],
        [status, message],
        `${path} ${JSON.stringify(body)}`,
      );
    }
    // An unknown address is answered like a known one.
    const unknown = await post("user/password?reset=true", { email: "nobody@x.com" });
    deepStrictEqual([unknown.status, unknown.body], [200, { success: true }]);
    const asked = await post("user/password?reset=true", { email: "q@x.com" });
    deepStrictEqual(asked.body, { security_question: "pet?" });
    const reset = await post("user/password", {
      email: "q@x.com",
      security_answer: "dog",
      new_password: "Newer1234!",
    });
    deepStrictEqual([reset.status, reset.body], [200, { success: true }]);
  });
});

Deno.test("send_invite: without an email service the invite fails as DreamFactory's does", async () => {
  await withSandbox(async (sb, token) => {
    const one = await call(sb, "POST", "system/user?send_invite=true", {
      token,
      body: [{ name: "Y", email: "y@x.com" }],
    });
    deepStrictEqual([one.status, messageOf(one)], [
      500,
      "Error processing user invite. No email service configured for user invite.",
    ]);
    const after = await call(sb, "GET", "system/user?filter=email%3D'y%40x.com'", { token });
    deepStrictEqual(after.body.resource, [], "the new user is deleted");
    const two = await call(sb, "POST", "system/user?send_invite=true", {
      token,
      body: [{ name: "A", email: "a@x.com" }, { name: "B", email: "b@x.com" }],
    });
    deepStrictEqual([two.status, messageOf(two)], [
      500,
      "Not all users were created successfully. Check log for more details.",
    ]);
    // A password does not confirm the account (User::setPasswordAttribute only clears a
    // pending code): the invite is attempted, fails the same way, and the user is deleted.
    const withPassword = await call(sb, "POST", "system/user?send_invite=true", {
      token,
      body: [{ name: "C", email: "c@x.com", password: "a-long-enough-password" }],
    });
    deepStrictEqual([withPassword.status, messageOf(withPassword)], [
      500,
      "Error processing user invite. No email service configured for user invite.",
    ]);
    const gone = await call(sb, "GET", "system/user?filter=email%3D'c%40x.com'", { token });
    deepStrictEqual(gone.body.resource, []);
    // A login does confirm it (Session::authenticate sets 'y'): then the invite is refused.
    const made = await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "C", email: "c@x.com", password: "a-long-enough-password" }],
    });
    const id = made.body.resource[0].id;
    const login = await call(sb, "POST", "user/session", {
      body: { email: "c@x.com", password: "a-long-enough-password" },
    });
    equal(login.status, 200);
    const confirmed = await call(sb, "PATCH", `system/user/${id}?send_invite=true`, {
      token,
      body: { phone: "1" },
    });
    deepStrictEqual([confirmed.status, messageOf(confirmed)], [
      400,
      "User with this identifier has already confirmed this account.",
    ]);
    // PATCH keeps its change, and fails the same way
    const plain = await call(sb, "POST", "system/user", {
      token,
      body: [{ name: "D", email: "d@x.com" }],
    });
    const did = plain.body.resource[0].id;
    const patched = await call(sb, "PATCH", `system/user/${did}?send_invite=true`, {
      token,
      body: { phone: "555" },
    });
    equal(patched.status, 500);
    const d = await call(sb, "GET", `system/user/${did}?fields=phone`, { token });
    equal(d.body.phone, "555");
  });
});

Deno.test("user resources answer RestHandler's 400 for verbs they do not handle", async () => {
  await withSandbox(async (sb, token) => {
    for (
      const [method, path, message] of [
        [
          "PATCH",
          "user/session",
          "PATCH requests without a resource are not currently supported by the 'session' service.",
        ],
        [
          "PATCH",
          "system/admin/session",
          "PATCH requests without a resource are not currently supported by the 'session' service.",
        ],
        [
          "DELETE",
          "user/profile",
          "DELETE requests without a resource are not currently supported by the 'profile' service.",
        ],
        [
          "GET",
          "user/password",
          "GET requests without a resource are not currently supported by the 'password' service.",
        ],
        [
          "DELETE",
          "user/register",
          "DELETE requests without a resource are not currently supported by the 'register' service.",
        ],
        ["GET", "user/register", "No known identifier for resources."],
        [
          "POST",
          "user",
          "POST requests without a resource are not currently supported by the 'user' service.",
        ],
        [
          "DELETE",
          "system",
          "DELETE requests without a resource are not currently supported by the 'system' service.",
        ],
        [
          "PUT",
          "system/service_type/sqlite",
          "PATCH requests without a resource are not currently supported by the 'service_type' service.",
        ],
        [
          "PUT",
          "system/constant",
          "PATCH requests without a resource are not currently supported by the 'constant' service.",
        ],
        [
          "POST",
          "system/event",
          "POST requests without a resource are not currently supported by the 'event' service.",
        ],
        [
          "PUT",
          "system/event",
          "PUT requests without a resource are not currently supported by the 'event' service.",
        ],
        [
          "POST",
          "db",
          "POST requests without a resource are not currently supported by the 'db' service.",
        ],
        [
          "DELETE",
          "db/_table",
          "DELETE requests without a resource are not currently supported by the '_table' service.",
        ],
      ] as const
    ) {
      const r = await call(sb, method, path, { token });
      deepStrictEqual([r.status, messageOf(r)], [400, message], `${method} ${path}`);
    }
  });
});
