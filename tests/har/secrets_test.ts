import { deepStrictEqual as assertEquals, ok as assert, rejects } from "node:assert/strict";
import { connect } from "../../lib/client.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { exchangeToHarEntry, fromHar } from "../../lib/har/mod.ts";
import { entry, harOf } from "./har_helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

const B = "http://df.local/api/v2";
const TOKEN = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiJ0b2tlbiJ9.Zm9vYmFyYmF6";
const API_KEY = "6498a8ad1beb9d84d63035c5d1120c007fad6de706734db9689f8996707e0f7d";
const ADMIN_PW = "Adm1n-Pa55word";
const USER_PW = "Us3r-Pa55word";
const DB_PW = "Db-Pa55word-xyz";
const NEW_PW = "N3w-Pa55word";

Deno.test("a HAR full of tokens, keys and passwords yields a script with none of them", () => {
  const har = harOf(
    entry("POST", `${B}/system/admin/session`, {
      body: { email: "admin@x.com", password: ADMIN_PW },
      response: { session_token: TOKEN, session_id: TOKEN, id: 1 },
    }),
    entry("POST", `${B}/system/user?session_token=${TOKEN}`, {
      headers: { "X-DreamFactory-API-Key": API_KEY, "Authorization": `Bearer ${TOKEN}` },
      body: { resource: [{ email: "jane@x.com", name: "jane", password: USER_PW }] },
      status: 201,
      response: { resource: [{ id: 2 }] },
    }),
    entry("POST", `${B}/system/service?api_key=${API_KEY}`, {
      body: {
        resource: [{ name: "pg", type: "pgsql", config: { host: "h", password: DB_PW } }],
      },
    }),
    entry("PATCH", `${B}/system/user/2`, {
      headers: { "X-DreamFactory-Session-Token": TOKEN },
      body: { new_password: NEW_PW, old_password: USER_PW },
    }),
    entry("POST", `${B}/system/lookup`, {
      body: { resource: [{ name: "copied_key", value: API_KEY }] },
    }),
  );
  for (const notebook of [false, true]) {
    const out = fromHar(har, { notebook, importFrom: "@dfkit/dfkit" });
    for (const secret of [TOKEN, API_KEY, ADMIN_PW, USER_PW, DB_PW, NEW_PW]) {
      assert(
        !out.includes(secret),
        `${secret} leaked into the ${notebook ? "notebook" : "script"}`,
      );
    }
    for (
      const ref of [
        `secret(\\"PASSWORD_JANE_X_COM\\")`,
        `secret(\\"PASSWORD_PG\\")`,
        `secret(\\"NEW_PASSWORD_JANE_X_COM\\")`,
        "DF_SECRET_",
      ]
    ) {
      const want = notebook ? ref : ref.replaceAll("\\", "");
      assert(out.includes(want), `${want} missing in:\n${out}`);
    }
  }
  const script = fromHar(har, { importFrom: "@dfkit/dfkit" });
  // the user's own old password maps to the same variable as the one it was created with
  assert(script.includes(`old_password: secret("PASSWORD_JANE_X_COM")`), script);
  assert(script.includes("const df = await connect();"), script);
  assert(script.includes("Deno.env.get(name)"), script);
});

Deno.test("exchangeToHarEntry redacts headers, query and body secrets even if given raw", () => {
  const e = exchangeToHarEntry({
    method: "POST",
    url: `${B}/system/user?api_key=${API_KEY}&fields=*`,
    requestHeaders: {
      "X-DreamFactory-Session-Token": TOKEN,
      "x-dreamfactory-api-key": API_KEY,
      Authorization: `Bearer ${TOKEN}`,
      "Content-Type": "application/json",
    },
    requestBody: JSON.stringify({ resource: [{ email: "a@x.com", password: USER_PW }] }),
    status: 200,
    statusText: "OK",
    responseHeaders: { "content-type": "application/json" },
    responseBody: JSON.stringify({ session_token: TOKEN, session_id: TOKEN, api_key: API_KEY }),
    startedAt: "2026-11-28T10:00:00.000Z",
    timings: { wait: 3, receive: 1, total: 4 },
    attempt: 1,
  });
  const text = JSON.stringify(e);
  for (const s of [TOKEN, API_KEY, USER_PW]) assert(!text.includes(s), `${s} leaked: ${text}`);
  assertEquals(e.request.queryString, [
    { name: "api_key", value: "[REDACTED]" },
    { name: "fields", value: "*" },
  ]);
  assertEquals(e.request.headers.find((h) => h.name === "Content-Type")?.value, "application/json");
  assertEquals(e.timings, { send: 0, wait: 3, receive: 1 });
  assertEquals(JSON.parse(e.request.postData!.text).resource[0].email, "a@x.com");
});

Deno.test("recordHar writes a redacted HAR 1.2 of a client session that converts back", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const token = await adminLogin(sb);
    const df = await connect({ url: sb.url, sessionToken: token });
    const recorder = df.recordHar(); // the same as recordHar(df)
    const [role] = await df.system.role.create({ name: "auditors", is_active: true });
    await df.system.user.create({ email: "kim@x.com", name: "kim", password: USER_PW });
    const apps = await df.system.app.fields("name", "api_key");
    const appKey = String(apps.find((a) => a.api_key)?.api_key);
    assert(appKey.length > 20, "sandbox apps have API keys");
    await df.request("GET", "system/admin/session");
    await df.system.role.ids(role.id).update({ description: "audit" });
    recorder.stop();
    await df.system.role.ids(role.id).delete(); // after stop: not recorded

    const har = recorder.toHar();
    assertEquals(har.log.version, "1.2");
    assertEquals(har.log.creator.name, "dfkit");
    assertEquals(har.log.entries.length, 5);
    for (const e of har.log.entries) {
      assert(e.startedDateTime && e.request.httpVersion && e.response.content.mimeType);
      assert(Array.isArray(e.request.headers) && Array.isArray(e.response.headers));
      assert(typeof e.timings.wait === "number" && e.time >= 0);
    }
    const text = JSON.stringify(har);
    for (const s of [token, USER_PW, sb.admin.password, appKey]) {
      assert(!text.includes(s), `a secret leaked into the HAR: ${s.slice(0, 6)}...`);
    }
    const path = `${dir}/session.har`;
    await recorder.save(path);
    assertEquals(JSON.parse(await Deno.readTextFile(path)), har);
    // A path it cannot write is one sentence naming the file, not the OS text.
    await rejects(recorder.save(`${dir}/nonexistent/session.har`), {
      message: `cannot write HAR file ${dir}/nonexistent/session.har: the folder ` +
        `${dir}/nonexistent does not exist (create it first)`,
    });
    await rejects(recorder.save(dir), {
      message: `cannot write HAR file ${dir}: it is a folder`,
    });

    const script = fromHar(har, { importFrom: "@dfkit/dfkit" });
    assert(script.includes(`const [role] = await df.system.role.create(`), script);
    assert(script.includes(`df.system.role.ids(role.id).update({ description: "audit" })`), script);
    assert(script.includes(`password: secret("PASSWORD_KIM_X_COM")`), script);
    await df.logout();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});

/** Credentials that hide under other names than `password`, one per place. */
const HIDDEN = {
  lookup: "sk_live_abcdef1234567890",
  roleLookup: "role-private-lookup-val",
  userLookup: "user-private-pin-1",
  answer: "Fluffy the cat",
  rwsParam: "wx-live-9f8e7d6c5b4a",
  rwsBearer: "rws-upstream-token-123456",
  s3Key: "AKIAIOSFODNN7EXAMPLE",
  s3Secret: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
  azure: "azureAccountKey0123456789==",
  dsn: "dsnEmbeddedPw42",
  sfToken: "SFsecurityTok3nABC",
  privateKey: "-----BEGIN PRIVATE KEY-----MIIEvQIBADANBgkq-----END PRIVATE KEY-----",
  formPw: "Second-Users-Pw9",
  queryKey: "q-only-secret-778899",
};

Deno.test("lookups, security answers, service credentials and forms are not copied", () => {
  const H = HIDDEN;
  const service = (name: string, config: unknown) =>
    entry("POST", `${B}/system/service`, { body: { resource: [{ name, config }] } });
  const form = entry("POST", `${B}/system/user?send_invite=false`, {
    body: `email=max%40x.com&name=Max&password=${H.formPw}`,
  });
  form.request.postData!.mimeType = "application/x-www-form-urlencoded";
  const har = harOf(
    entry("POST", `${B}/system/lookup`, {
      body: {
        resource: [{ name: "stripe_key", value: H.lookup, private: true }, {
          name: "site",
          value: "https://x.test",
          private: false,
        }],
      },
    }),
    entry("POST", `${B}/system/role`, {
      body: {
        resource: [{
          name: "support",
          lookup_by_role_id: [{ name: "crm", value: H.roleLookup, private: true }],
        }],
      },
    }),
    entry("POST", `${B}/system/user`, {
      body: {
        resource: [{
          email: "jo@x.com",
          security_answer: H.answer,
          lookup_by_user_id: [{ name: "pin", value: H.userLookup, private: 1 }],
        }],
      },
    }),
    service("weather", {
      parameters: [{ name: "appid", value: H.rwsParam, outbound: true }, {
        name: "units",
        value: "metric",
      }],
      headers: [{ name: "Authorization", value: `Bearer ${H.rwsBearer}` }],
    }),
    service("files", { key: H.s3Key, secret: H.s3Secret, region: "us-east-1" }),
    service("blob", { account_name: "acct", account_key: H.azure }),
    service("mongo", { dsn: `mongodb://app:${H.dsn}@mongo:27017/db` }),
    service("sf", { username: "u@x", security_token: H.sfToken }),
    service("gcs", { credentials: { private_key: H.privateKey, client_email: "x@y" } }),
    form,
    entry("POST", `${B}/weather/forecast?appid=${H.rwsParam}&q=Paris&secret_key=${H.queryKey}`),
    entry("PUT", `${B}/files/notes.txt`, { body: `password: ${H.formPw}` }),
  );
  for (const notebook of [false, true]) {
    const out = fromHar(har, { notebook, importFrom: "@dfkit/dfkit" });
    for (const [what, value] of Object.entries(H)) {
      assert(!out.includes(value), `${what} leaked into the ${notebook ? "notebook" : "script"}`);
      const enc = encodeURIComponent(value);
      assert(!out.includes(enc), `${what} leaked url-encoded`);
    }
  }
  const script = fromHar(har, { importFrom: "@dfkit/dfkit" });
  for (
    const want of [
      `value: secret("LOOKUP_STRIPE_KEY")`,
      `{ name: "site", value: "https://x.test", private: false }`,
      `value: secret("LOOKUP_CRM_SUPPORT")`,
      `security_answer: secret("SECURITY_ANSWER_JO_X_COM")`,
      `value: secret("LOOKUP_PIN_JO_X_COM")`,
      `{ name: "appid", value: secret("APPID_WEATHER"), outbound: true }`,
      `{ name: "units", value: "metric" }`,
      `value: secret("AUTHORIZATION_WEATHER")`,
      `key: secret("KEY_FILES"), secret: secret("SECRET_FILES"), region: "us-east-1"`,
      `account_key: secret("ACCOUNT_KEY_BLOB")`,
      `dsn: secret("DSN_MONGO")`,
      `security_token: secret("SECURITY_TOKEN_SF")`,
      `private_key: secret("PRIVATE_KEY_GCS")`,
      `password: secret("PASSWORD_MAX_X_COM")`,
      `// #10 POST /api/v2/weather/forecast?appid=[secret]&q=Paris&secret_key=[secret]`,
      `query: { appid: secret("APPID_WEATHER"), q: "Paris", secret_key: secret("SECRET_KEY_WEATHER") }`,
      "is not copied: it may hold credentials",
    ]
  ) assert(script.includes(want), `${want} missing in:\n${script}`);
});

Deno.test("a form-encoded write replays with its password from the environment", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const form = entry("POST", `${B}/system/user`, {
      body: `email=max%40x.com&name=Max&password=${HIDDEN.formPw}&is_active=true`,
      status: 201,
    });
    form.request.postData!.mimeType = "application/x-www-form-urlencoded";
    const lookup = entry("POST", `${B}/system/lookup`, {
      body: { resource: [{ name: "stripe_key", value: HIDDEN.lookup, private: true }] },
    });
    const script = fromHar(harOf(form, lookup), {
      importFrom: new URL("../../mod.ts", import.meta.url).href,
    });
    assert(!script.includes(HIDDEN.formPw) && !script.includes(HIDDEN.lookup), script);
    await Deno.writeTextFile(`${dir}/replay.ts`, script);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        new URL("../../deno.json", import.meta.url).pathname,
        "--no-prompt",
        "--allow-net=127.0.0.1",
        "--allow-env",
        `${dir}/replay.ts`,
      ],
      env: {
        DF_URL: sb.url,
        DF_EMAIL: sb.admin.email,
        DF_PASSWORD: sb.admin.password,
        PASSWORD_MAX_X_COM: "Replayed-Pw-1",
        LOOKUP_STRIPE_KEY: "sk_replayed",
      },
      clearEnv: true,
    }).output();
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr) + script);
    const login = await fetch(`${sb.url}/api/v2/user/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "max@x.com", password: "Replayed-Pw-1" }),
    });
    await login.body?.cancel();
    assertEquals(login.status, 200);
    const df = await connect({ url: sb.url, ...sb.admin });
    // DreamFactory masks private values on reads: that it exists, private, is what shows.
    const [row] = await df.system.lookup.filter("name = 'stripe_key'").fields("private");
    assertEquals(row.private, true);
    await df.logout();
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});

Deno.test("recordHar blanks private lookups, service credentials and forms, wherever they recur", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const df = await connect({ url: sb.url, ...sb.admin });
    const recorder = df.recordHar();
    await df.system.role.create({
      name: "r",
      lookup_by_role_id: [{ name: "k", value: HIDDEN.roleLookup, private: true }],
    } as never);
    await df.system.lookup.create({ name: "stripe_key", value: HIDDEN.lookup, private: true });
    await df.system.lookup.fields("*");
    await df.system.lookup.filter(`value = '${HIDDEN.lookup}'`).fields("id");
    await df.request("POST", "system/service", {
      body: {
        resource: [{
          name: "weather",
          type: "rws",
          config: { headers: [{ name: "Authorization", value: `Bearer ${HIDDEN.rwsBearer}` }] },
        }],
      },
    }).catch(() => {}); // the sandbox may not know the type: the request is recorded anyway
    recorder.stop();
    const text = JSON.stringify(recorder.toHar());
    for (const s of [HIDDEN.roleLookup, HIDDEN.lookup, HIDDEN.rwsBearer]) {
      assert(!text.includes(s) && !text.includes(encodeURIComponent(s)), `${s} leaked: ${text}`);
    }
    const script = fromHar(recorder.toHar(), { importFrom: "@dfkit/dfkit" });
    assert(script.includes(`value: secret("LOOKUP_STRIPE_KEY")`), script);
    await df.logout();
  } finally {
    await sb.close();
  }
});

Deno.test("exchangeToHarEntry redacts form bodies and credential-named query parameters", () => {
  const e = exchangeToHarEntry({
    method: "POST",
    url: `${B}/weather/forecast?appid=${HIDDEN.rwsParam}&q=Paris`,
    requestHeaders: { "Content-Type": "application/x-www-form-urlencoded" },
    requestBody: `email=a%40x.com&password=${HIDDEN.formPw}`,
    status: 200,
    statusText: "OK",
    responseHeaders: {},
    responseBody: "",
    startedAt: "2026-11-28T10:00:00.000Z",
    timings: { wait: 3, receive: 1, total: 4 },
    attempt: 1,
  });
  const text = JSON.stringify(e);
  for (const s of [HIDDEN.rwsParam, HIDDEN.formPw]) assert(!text.includes(s), text);
  assertEquals(e.request.postData?.text, "email=a%40x.com&password=[REDACTED]");
  assert(e.request.url.includes("q=Paris"), e.request.url);
});

Deno.test("short secrets become secret() lookups by their field, without failing the conversion", () => {
  for (const value of ["1", "true", "eu"]) {
    const har = harOf(
      entry("POST", `${B}/system/lookup`, {
        body: { resource: [{ name: "region", value, private: true }] },
        response: { resource: [{ id: 1 }] },
      }),
      entry("POST", `${B}/system/role`, {
        body: { resource: [{ name: "readers", description: `tier ${value}` }] },
        response: { resource: [{ id: 7 }] },
      }),
    );
    const code = fromHar(har);
    assert(code.includes('value: secret("LOOKUP_REGION")'), code);
    // The same text elsewhere is not a secret.
    assert(code.includes(`description: "tier ${value}"`), code);
  }
});

Deno.test("a recorder with many secrets still blanks each, raw or percent-encoded, longest first", async () => {
  const { Scrubber } = await import("../../lib/secrets.ts");
  const secrets = Array.from({ length: 100 }, (_, i) => `pw-${String(i).padStart(3, "0")}-x y`);
  secrets.push("pw-042-x y and more"); // contains another secret: replaced whole
  for (
    const scrubber of [
      new Scrubber(secrets),
      new Scrubber([...secrets.slice(40, 45), secrets[100]]),
    ]
  ) {
    const text = `a=pw-042-x y&b=${encodeURIComponent("pw-043-x y")}&c=pw-042-x y and more!`;
    assertEquals(scrubber.scrub(text), "a=[REDACTED]&b=[REDACTED]&c=[REDACTED]!");
    assertEquals(scrubber.scrub("nothing here, pw-999-x y"), "nothing here, pw-999-x y");
  }
});

Deno.test("a long text is scrubbed of many secrets in one pass, with the same result", async () => {
  const { Scrubber } = await import("../../lib/secrets.ts");
  // Each secret replaced in turn, longest first: what one pass must give.
  const scrubString = (text: string, secrets: string[]) =>
    secrets.reduce((out, s) => out.split(s).join("[REDACTED]"), text);
  const secrets = Array.from({ length: 40 }, (_, i) => `tok-${i}-${"x".repeat(i % 7)}-secret`);
  const text = Array.from({ length: 200 }, (_, i) => `row ${i} ${secrets[i % 40]} end`).join("\n");
  const scrubbed = new Scrubber(secrets).scrub(text);
  assertEquals(scrubbed, scrubString(text, [...secrets].sort((a, b) => b.length - a.length)));
  assert(!secrets.some((s) => scrubbed.includes(s)));
});

Deno.test("overlapping secrets are blanked as one stretch, however many are known", async () => {
  const { Scrubber } = await import("../../lib/secrets.ts");
  const pair = ["abcdef12", "ef12ghijklmn"];
  const many = [...pair, ...Array.from({ length: 40 }, (_, i) => `filler-${i}-secret`)];
  const long = "x".repeat(600);
  for (const scrubber of [new Scrubber(pair), new Scrubber(many)]) {
    assertEquals(scrubber.scrub("<abcdef12ghijklmn>"), "<[REDACTED]>");
    assertEquals(scrubber.scrub(`${long}abcdef12ghijklmn`), `${long}[REDACTED]`);
  }
  // A short secret is not matched as text, not even percent-encoded ("é" is "%C3%A9").
  assertEquals(new Scrubber(["é"]).scrub("city='Orl%C3%A9ans'"), "city='Orl%C3%A9ans'");
});
