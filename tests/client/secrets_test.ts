import { assert, assertEquals, assertRejects } from "./assert.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { connect, DreamFactoryError, type HttpExchange } from "./dfkit.ts";

const USER_PASSWORD = "UserPassw0rd-very-secret";

Deno.test("no token, API key or password appears in any printed, thrown or dumped output", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const adminRes = await fetch(`${sb.url}/api/v2/system/admin/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sb.admin),
    });
    const adminToken: string = (await adminRes.json()).session_token;
    const admin = await connect({ url: sb.url, sessionToken: adminToken });
    const [app] = await admin.system.app.create({ name: "keyed", type: 0, is_active: true }, {
      fields: ["api_key"],
    });
    const apiKey = app.api_key!;
    await admin.system.user.create({
      name: "Sam",
      email: "sam@example.com",
      password: USER_PASSWORD,
    });

    const exchanges: HttpExchange[] = [];
    const df = await connect({
      url: sb.url,
      email: "sam@example.com",
      password: USER_PASSWORD,
      apiKey,
      onExchange: (e) => exchanges.push(e),
    });
    const secrets = [adminToken, apiKey, USER_PASSWORD, sb.admin.password];
    const outputs: string[] = [];
    const q = df.system.user.filter("name = Sam").fields("id");
    outputs.push(Deno.inspect(df), JSON.stringify(df), Deno.inspect(df.session), String(df));
    outputs.push(Deno.inspect(admin), JSON.stringify(admin), Deno.inspect(q), JSON.stringify(q));
    outputs.push(q.toCurl(), JSON.stringify(q.toRequest()));
    outputs.push(JSON.stringify(admin.system.user.toRequest()));
    outputs.push(
      JSON.stringify(admin.describe("POST", "system/user", {
        body: { resource: [{ email: "x@y.z", password: USER_PASSWORD }] },
      })),
    );
    // errors: a user without role access, a forbidden call, a bad token echoed by the server
    for (
      const attempt of [
        () => df.system.user.count(),
        () => admin.request("GET", "system/nosuch", { query: { session_token: adminToken } }),
        () => connect({ url: sb.url, sessionToken: adminToken + "x" }),
        () => connect({ url: sb.url, email: "sam@example.com", password: USER_PASSWORD + "!" }),
      ]
    ) {
      const err = await assertRejects(attempt, DreamFactoryError);
      outputs.push(err.message, err.stack ?? "", Deno.inspect(err), JSON.stringify(err), err.path);
    }
    outputs.push(JSON.stringify(exchanges));
    // the user's own token, captured from a raw login, must not leak either
    const userTokenRes = await fetch(`${sb.url}/api/v2/user/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-DreamFactory-API-Key": apiKey },
      body: JSON.stringify({ email: "sam@example.com", password: USER_PASSWORD }),
    });
    assertEquals(userTokenRes.status, 200);
    await userTokenRes.body?.cancel();
    for (const text of outputs) {
      for (const secret of secrets) {
        assert(!text.includes(secret), `secret leaked in: ${text.slice(0, 300)}`);
      }
    }
    assert(exchanges.some((e) => e.requestBody?.includes("[REDACTED]")), "login body redacted");
    assert(exchanges.some((e) => e.responseBody.includes('"session_token":"[REDACTED]"')));
    await df.logout();
    await admin.logout();
  } finally {
    await sb.close();
  }
});
