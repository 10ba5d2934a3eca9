import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { connect } from "../../lib/client.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { exchangeToHarEntry, fromHar } from "../../lib/har/mod.ts";
import { entry, harOf } from "./har_helpers.ts";

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
    const login = await fetch(`${sb.url}/api/v2/system/admin/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sb.admin),
    }).then((r) => r.json());
    const token = String(login.session_token);
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
