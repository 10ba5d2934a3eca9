import { assert, assertEquals, assertRejects } from "./assert.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import {
  connect,
  DreamFactoryBatchError,
  DreamFactoryError,
  errorFromResponse,
  type HttpExchange,
} from "./dfkit.ts";
import { setup } from "./helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

const USER_PASSWORD = "UserPassw0rd-very-secret";

Deno.test("no token, API key or password appears in any printed, thrown or dumped output", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const adminToken = await adminLogin(sb);
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

Deno.test("df.request() and df.raw() answers print without tokens, passwords or full API keys", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const df = await connect({ url: sb.url, ...sb.admin });
    await df.system.app.create({ name: "k", type: 0, is_active: true });
    type Session = { session_token: string };
    const session = await df.request<Session>("GET", "system/admin/session");
    const raw = await df.raw("GET", "system/admin/session");
    const relogin = await df.request<Session>("POST", "system/admin/session", { body: sb.admin });
    const apps = await df.request<{ resource: { api_key: string }[] }>("GET", "system/app", {
      query: { fields: "name,api_key" },
    });
    const key = apps.resource[0].api_key;
    const tokens = [session.session_token, relogin.session_token];
    assert(tokens.every((t) => t.length > 20), "the data itself keeps the tokens");
    for (const shown of [session, raw, relogin, apps].map((v) => Deno.inspect(v))) {
      for (const secret of [...tokens, key, sb.admin.password]) {
        assert(!shown.includes(secret), `secret printed: ${shown.slice(0, 200)}`);
      }
    }
    // Parts of an answer too: what one types next at a prompt.
    const rawApps = await df.raw("GET", "system/app", { query: { fields: "name,api_key" } });
    const rawRecord = (rawApps.body as typeof apps).resource[0];
    assertEquals(rawRecord.api_key, key);
    for (const part of [apps.resource, apps.resource[0], rawRecord]) {
      assert(!Deno.inspect(part).includes(key), Deno.inspect(part));
    }
    assert(Deno.inspect(session).includes('session_token: "••••••"'));
    assert(Deno.inspect(apps).includes(`****${key.slice(-4)}`));
    assertEquals(JSON.parse(JSON.stringify(session)).session_token, session.session_token);
    await df.logout();
  } finally {
    await sb.close();
  }
});

Deno.test("a failed insert's SQL error does not repeat the row's passwords and keys", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const exchanges: HttpExchange[] = [];
    const df = await connect({ url: sb.url, ...sb.admin, onExchange: (e) => exchanges.push(e) });
    await df.request("POST", "db/_schema", {
      body: {
        resource: [{
          name: "acct",
          field: [
            { name: "id", type: "id" },
            { name: "login", type: "string", is_unique: true },
            { name: "password", type: "string" },
            { name: "api_key", type: "string" },
          ],
        }],
      },
    });
    const acct = df.db("db").table("acct");
    await acct.create({ login: "bob", password: "BobsPlainPw1", api_key: "k-123456789" });
    // The server's text quotes the values: plain, with a quote, and non-ASCII.
    const secrets = ["BobsPlainPw2", "k-999999999", `it's-"Pw"/é`];
    const single = await assertRejects(
      () => acct.create({ login: "bob", password: secrets[0], api_key: secrets[1] }),
      DreamFactoryBatchError,
    );
    const batch = await assertRejects(
      () =>
        acct.create([
          { login: "carol", password: "CarolsPw-77", api_key: "k-777777777" },
          { login: "bob", password: secrets[2], api_key: "k-888888888" },
        ], { continue: true }),
      DreamFactoryBatchError,
    );
    secrets.push("CarolsPw-77", "k-777777777", "k-888888888");
    const outputs: string[] = [];
    const failures = [...single.failed, ...batch.failed].map((f) => f.error);
    for (const err of [single, batch, ...failures]) {
      outputs.push(err.message, err.stack ?? "", Deno.inspect(err), JSON.stringify(err));
      outputs.push(JSON.stringify(err.context));
    }
    outputs.push(JSON.stringify(exchanges));
    for (const text of outputs) {
      for (const secret of secrets) {
        assert(!text.includes(secret), `${secret} leaked in: ${text.slice(0, 400)}`);
      }
    }
    // Still readable: which constraint failed, and the values that are no secret.
    const reason = single.failed[0].error.message;
    assert(reason.includes("UNIQUE constraint failed: acct.login"), reason);
    assert(reason.includes("values (bob, [REDACTED], [REDACTED])"), reason);
    assertEquals(batch.failed.map((f) => f.index), [1]);
    assert(batch.failed[0].error.message.includes("(bob, [REDACTED]"), batch.message);
    await df.logout();
  } finally {
    await sb.close();
  }
});

Deno.test("errors blank the request's secrets as SQL, JSON and HTML quote them; short values stay", () => {
  const pw = `O'Brien"s/pässwörd`;
  const body = {
    resource: [{ name: "x", password: pw, config: { key: "s3-secret-key" } }, { password: "abc" }],
  };
  const quoted = [
    pw,
    pw.replace(/'/g, "''"),
    pw.replace(/'/g, "\\'"),
    JSON.stringify(pw).slice(1, -1),
    "O'Brien\\\"s\\/p\\u00e4ssw\\u00f6rd",
    "O&#039;Brien&quot;s/pässwörd",
    "s3-secret-key",
  ];
  const text = quoted.map((q) => `(${q})`).join(" ") + " (abc) password";
  const err = errorFromResponse(400, {
    error: {
      code: 1000,
      message: "Batch Error: Not all requested records could be created.",
      context: { error: [0], resource: [{ code: "23000", message: text, status_code: 400 }] },
    },
  }, { method: "POST", path: "/api/v2/db/_table/t", body: JSON.stringify(body) });
  assert(err instanceof DreamFactoryBatchError);
  const expected = quoted.map(() => "([REDACTED])").join(" ") + " (abc) password";
  assertEquals(err.failed[0].error.message, expected);
  const ctx = err.context as { resource: { message: string }[] };
  assertEquals(ctx.resource[0].message, expected);
});

Deno.test("exchanges, descriptions and HAR URLs hide every secret the shared classifier knows", async () => {
  await using fx = await setup();
  const before = fx.exchanges.length;
  await fx.df.request("POST", "system/lookup", {
    body: { resource: [{ name: "n1", value: "v" }] },
    query: { access_token: "q-Secret-1" },
  }).catch(() => {});
  await fx.df.request("PATCH", "system/lookup", {
    body: {
      access_token: "b-Secret-2",
      password_confirmation: "b-Secret-3",
      client_secret: "b-S4",
    },
  }).catch(() => {});
  // A service whose config holds a key and a credential header, refused by the server (an
  // unknown type): the request and the answer both reach listeners.
  await fx.df.request("POST", "system/service", {
    body: {
      resource: [{
        name: "s3x",
        type: "no-such-type",
        config: {
          key: "c-Secret-5",
          headers: [{ name: "Authorization", value: "Bearer c-Secret-6" }],
        },
      }],
    },
  }).catch(() => {});
  const mine = fx.exchanges.slice(before);
  assertEquals(
    mine.map((x) => `${x.method} ${new URL(x.url).pathname}`),
    ["POST /api/v2/system/lookup", "PATCH /api/v2/system/lookup", "POST /api/v2/system/service"],
  );
  const seen = JSON.stringify(mine);
  for (const s of ["q-Secret-1", "b-Secret-2", "b-Secret-3", "b-S4", "c-Secret-5", "c-Secret-6"]) {
    assert(!seen.includes(s), `${s} in ${seen}`);
  }
  const described = JSON.stringify(
    fx.df.describe("POST", "system/service", {
      body: {
        config: { key: "c-Secret-5", headers: [{ name: "X-Api-Key", value: "c-Secret-6" }] },
      },
    }),
  );
  assert(!described.includes("c-Secret"), described);
  const { redactUrl } = await import("../../lib/secrets.ts");
  assert(!redactUrl("http://h/api/v2/x?password=hunter22&a=1").includes("hunter22"));
});
