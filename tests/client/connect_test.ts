import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import {
  connect,
  DreamFactoryError,
  type HttpExchange,
  loadProfile,
  ProfileVariableError,
} from "./dfkit.ts";
import { setup, writeProfiles } from "./helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

const USER_PASSWORD = "UserPassw0rd-long-enough";

Deno.test("connect({url, email, password}) opens an admin session", async () => {
  await using fx = await setup();
  const { df, exchanges, sb } = fx;
  const login = exchanges[0];
  assertEquals(login.method, "POST");
  assert(login.url.endsWith("/api/v2/system/admin/session"));
  assertEquals(login.status, 200);
  assert(!Number.isNaN(Date.parse(login.startedAt)));
  assert(login.timings.total >= login.timings.wait && login.timings.wait >= 0);
  assertEquals(JSON.parse(login.requestBody!), { email: sb.admin.email, password: "[REDACTED]" });
  assertEquals(JSON.parse(login.responseBody).session_token, "[REDACTED]");
  assertEquals(JSON.parse(login.responseBody).email, sb.admin.email);
  assert(login.responseHeaders["content-type"]?.includes("json"));
  assertEquals(df.url, sb.url.replace(/\/+$/, ""));
  assertEquals(df.session?.email, sb.admin.email);
  assertEquals(df.session?.is_sys_admin, true);
  assertEquals(df.session?.id, 1);
  assert(!("session_token" in df.session!), "session info must not carry the token");
  assert(typeof df.session?.expires_at === "string");
  // the token goes in the DreamFactory header
  const roles = await df.system.role;
  assertEquals(roles, []);
  const get = exchanges.at(-1)!;
  assertEquals(get.requestHeaders["X-DreamFactory-Session-Token"], "[REDACTED]");
});

Deno.test("connect with admin:false (or an apiKey) opens a user session", async () => {
  await using fx = await setup();
  const { df, sb } = fx;
  await df.system.user.create({ name: "Jo", email: "jo@example.com", password: USER_PASSWORD });
  const seen: HttpExchange[] = [];
  const user = await connect({
    url: sb.url,
    email: "jo@example.com",
    password: USER_PASSWORD,
    admin: false,
    onExchange: (ex) => seen.push(ex),
  });
  assert(seen[0].url.endsWith("/api/v2/user/session"));
  assertEquals(user.session?.email, "jo@example.com");
  assertEquals(user.session?.is_sys_admin, false);
  // an admin without `admin` given but with an apiKey: user endpoint refuses, admin endpoint works
  const [app] = await df.system.app.fields("api_key").filter("name = admin");
  const seen2: HttpExchange[] = [];
  const admin = await connect({
    url: sb.url,
    ...sb.admin,
    apiKey: app.api_key,
    onExchange: (ex) => seen2.push(ex),
  });
  assertEquals(seen2.map((e) => new URL(e.url).pathname), [
    "/api/v2/user/session",
    "/api/v2/system/admin/session",
  ]);
  assertEquals(admin.session?.is_sys_admin, true);
  await user.logout();
});

Deno.test("connect({url, apiKey}) makes key-only calls with the API key header", async () => {
  await using fx = await setup();
  const { df, sb } = fx;
  await df.db("db").schema.create({
    name: "pet",
    field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
  });
  await df.db("db").table("pet").create([{ name: "Rex" }, { name: "Tom" }]);
  const [service] = await df.system.service.filter("name = db").fields("id");
  const [role] = await df.system.role.create({
    name: "pets-reader",
    is_active: true,
    role_service_access_by_role_id: [{
      service_id: service.id,
      component: "_table/pet",
      verb_mask: 1,
      requestor_mask: 1,
    }],
  });
  const [app] = await df.system.app.create(
    { name: "petshop", type: 0, is_active: true, role_id: role.id },
    { fields: ["id", "api_key"] },
  );
  const seen: HttpExchange[] = [];
  const keyOnly = await connect({
    url: sb.url,
    apiKey: app.api_key,
    onExchange: (e) => seen.push(e),
  });
  assertEquals(seen.length, 0, "no login for key-only clients");
  assertEquals(keyOnly.session, undefined);
  const pets = await keyOnly.db("db").table<{ name: string }>("pet").order("name");
  assertEquals(pets.map((p) => p.name), ["Rex", "Tom"]);
  assertEquals(seen[0].requestHeaders["X-DreamFactory-API-Key"], "[REDACTED]");
  assert(!("X-DreamFactory-Session-Token" in seen[0].requestHeaders));
  assertEquals(
    keyOnly.db("db").table("pet").toRequest().headers["X-DreamFactory-API-Key"],
    "$DF_API_KEY",
  );
});

Deno.test("an unknown API key used alone: DreamFactory's refusal, with a hint naming the key", async () => {
  await using fx = await setup();
  const { sb } = fx;
  const key = "0".repeat(64);
  const bogus = await connect({ url: sb.url, apiKey: key });
  const err = await assertRejects(() => bogus.db("db").schema.list(), DreamFactoryError);
  // The server's answer stays as it was: status, code, and its message first.
  assertEquals([err.status, err.code], [400, 400]);
  const original = "No session token (JWT) provided. Please provide a valid JWT using " +
    "X-DreamFactory-Session-Token request header or 'session_token' url query parameter.";
  assert(err.message.startsWith(original), err.message);
  assertStringIncludes(err.message, "Hint: this client sends an API key and no session");
  assertStringIncludes(err.hint ?? "", "key is probably unknown, or its app has no default role");
  assertEquals(err.toJSON().hint, err.hint);
  assertStringIncludes(err.summary, "Hint:");
  assert(!JSON.stringify(err).includes(key) && !err.stack?.includes(key));
  // A session (logged-in client) gets no such hint for its own refusals.
  const missing = await assertRejects(() => fx.df.system.user.get(999), DreamFactoryError);
  assertEquals(missing.hint, undefined);
});

Deno.test("a wrong URL: the full path shown, an HTML page cut to a line, and a hint to check the URL", async () => {
  const sb = await startSandbox({ port: 0 });
  // Another web server where DreamFactory was expected: an HTML page for everything.
  const page = (status: number) =>
    new Response(
      "<!DOCTYPE html>\n<html><head><title>Welcome to nginx!</title><style>body { width: 35em; }" +
        "</style></head>\n<body><h1>Welcome to nginx!</h1><p>If you see this page, the nginx web " +
        `server works.</p>${"<p>More text.</p>".repeat(100)}</body></html>`,
      { status, headers: { "Content-Type": "text/html" } },
    );
  const other = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => page(req.method === "POST" ? 405 : 200),
  );
  const otherUrl = `http://127.0.0.1:${other.addr.port}`;
  const okPage = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => page(200));
  const okUrl = `http://127.0.0.1:${okPage.addr.port}`;
  const login = { email: sb.admin.email, password: "Secret-pw-123" };
  try {
    // A base path DreamFactory is not served at: the path as sent, base path included.
    const based = await assertRejects(
      () => connect({ url: `${sb.url}/df`, ...login }),
      DreamFactoryError,
    );
    assertEquals([based.status, based.path], [404, "/df/api/v2/system/admin/session"]);
    assertStringIncludes(based.summary, "404 on POST /df/api/v2/system/admin/session");
    assertStringIncludes(
      based.message,
      "Check the instance URL (DF_URL, --url or the profile's url)",
    );
    // An HTML page: its title and the start of its text, never the markup or the whole page.
    const html = await assertRejects(() => connect({ url: otherUrl, ...login }), DreamFactoryError);
    assertEquals(html.status, 405);
    assert(html.message.startsWith('HTTP 405: an HTML page, "Welcome to nginx!": If you see'));
    assert(!/[<>]|width: 35em/.test(html.message), html.message);
    assert(html.message.length < 500, `${html.message.length} characters`);
    assertStringIncludes(html.hint ?? "", "Check the instance URL");
    // A page answered with 200: no token in it, and the same hint.
    const ok = await assertRejects(
      () => connect({ url: `${okUrl}/x`, ...login }),
      DreamFactoryError,
    );
    assertEquals([ok.code, ok.path], ["NO_TOKEN", "/x/api/v2/system/admin/session"]);
    assertStringIncludes(ok.message, "Check the instance URL");
    for (const e of [based, html, ok]) {
      assert(!JSON.stringify(e).includes("Secret-pw-123") && !e.stack?.includes("Secret-pw-123"));
    }
  } finally {
    await other.shutdown();
    await okPage.shutdown();
    await sb.close();
  }
});

Deno.test("connect({url, sessionToken}) reuses and validates a session", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const token = await adminLogin(sb);
    const df = await connect({ url: sb.url, sessionToken: token });
    assertEquals(df.session?.email, sb.admin.email);
    assertEquals(await df.system.admin.fields("email").then((r) => r.map((a) => a.email)), [
      sb.admin.email,
    ]);
    const err = await assertRejects(
      () => connect({ url: sb.url, sessionToken: "abc.def.ghi" }),
      DreamFactoryError,
    );
    assertEquals(err.status, 401);
    assert(!err.message.includes("abc.def.ghi"), `token echoed in: ${err.message}`);
  } finally {
    await sb.close();
  }
});

Deno.test("connect() with no options reads DF_URL, DF_EMAIL, DF_PASSWORD", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const env = { DF_URL: sb.url, DF_EMAIL: sb.admin.email, DF_PASSWORD: sb.admin.password };
    const df = await connect({ env });
    assertEquals(df.session?.email, sb.admin.email);
    const token = await adminLogin(sb);
    const df2 = await connect({ env: { DF_URL: sb.url, DF_SESSION_TOKEN: token } });
    assertEquals(df2.session?.id, 1);
    const err = await assertRejects(() => connect({ env: {} }), Error);
    assertStringIncludes(err.message, "DF_URL");
  } finally {
    await sb.close();
  }
});

Deno.test("connect({profile}) reads the profiles file, resolving env: secrets", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeProfiles(dir, {
      local: { url: sb.url, email: sb.admin.email, password: "env:TEST_DF_PW" },
      broken: { url: sb.url, email: sb.admin.email, password: "env:NOT_SET_ANYWHERE" },
    }, { default: "local" });
    const env = { TEST_DF_PW: sb.admin.password, DFKIT_PROFILES: file };
    const df = await connect({ profile: "local", env });
    assertEquals(df.session?.email, sb.admin.email);
    const viaDefault = await connect({ env: { ...env, DF_PROFILE: "local" } });
    assertEquals(viaDefault.session?.is_sys_admin, true);
    // Nothing named and no DF_URL: the file's "default" profile.
    const byDefault = await connect({ env });
    assertEquals(byDefault.url, sb.url);
    assertEquals(byDefault.session?.email, sb.admin.email);
    // DF_URL in the environment still wins over the file.
    const noServer = "http://127.0.0.1:9";
    const envFirst = await connect({
      env: { ...env, DF_URL: noServer, DF_API_KEY: "k".repeat(32) },
    });
    assertEquals(envFirst.url, noServer);
    const missing = await assertRejects(() => connect({ profile: "nope", env }), Error);
    assertStringIncludes(missing.message, "local, broken");
    const unset = await assertRejects(() => connect({ profile: "broken", env }), Error);
    assertStringIncludes(unset.message, "NOT_SET_ANYWHERE");
    // A secret is never to be written into the file: set the variable (env:NAME references).
    assert(unset instanceof ProfileVariableError);
    assertEquals([unset.profile, unset.key, unset.variable], [
      "broken",
      "password",
      "NOT_SET_ANYWHERE",
    ]);
    assertStringIncludes(unset.message, "export NOT_SET_ANYWHERE=");
    assert(!/put the value in the profile/.test(unset.message), unset.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});

Deno.test("a profiles file that cannot be read is one sentence naming it, not the OS text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const folder = await assertRejects(() => connect({ profile: "p", profilesFile: dir }), Error);
    assertEquals(folder.message, `cannot read dfkit profiles file ${dir}: it is a folder`);
    const missing = await assertRejects(
      () => connect({ profile: "p", env: { DFKIT_PROFILES: `${dir}/nope.json` } }),
      Error,
    );
    assertEquals(
      missing.message,
      `dfkit profiles file ${dir}/nope.json does not exist (named by DFKIT_PROFILES)`,
    );
    // The default place, where a file stands in for a folder on the way.
    await Deno.writeTextFile(`${dir}/.config`, "");
    const blocked = await assertRejects(() => connect({ env: { HOME: dir } }), Error);
    assertEquals(
      blocked.message,
      `cannot read dfkit profiles file ${dir}/.config/dfkit/profiles.json: a part of the path ` +
        "is a file, not a folder",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("bad credentials throw a 401 DreamFactoryError without the password", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const err = await assertRejects(
      () => connect({ url: sb.url, email: sb.admin.email, password: "wrong-secret-pw" }),
      DreamFactoryError,
    );
    assertEquals(err.status, 401);
    assertEquals(err.message, "Invalid credentials supplied.");
    assertEquals(err.method, "POST");
    for (const text of [err.message, err.stack ?? "", Deno.inspect(err), JSON.stringify(err)]) {
      assert(!text.includes("wrong-secret-pw"));
    }
  } finally {
    await sb.close();
  }
});

Deno.test("profiles: a named file must exist, broken JSON says where without quoting it", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const missing = await assertRejects(
      () => connect({ profile: "p", env: { DFKIT_PROFILES: `${dir}/nope.json`, HOME: dir } }),
      Error,
    );
    assertStringIncludes(missing.message, "DFKIT_PROFILES");
    const file = `${dir}/profiles.json`;
    await Deno.writeTextFile(
      file,
      `{"profiles": {"p": {"url": "http://127.0.0.1:9",\n "password": 'Hunter2secret'}}}`,
    );
    const bad = await assertRejects(() => connect({ profile: "p", profilesFile: file }), Error);
    assertStringIncludes(bad.message, "line 2, column 14");
    assert(!bad.message.includes("Hunter2"), bad.message);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("profiles: values must have their key's type; env: text is converted", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/profiles.json`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        ok: { url: "http://127.0.0.1:9", timeout: "env:T", admin: "env:A", retries: 1 },
        words: { url: "http://127.0.0.1:9", timeout: "2s" },
        empty: { url: "http://127.0.0.1:9", apiKey: "env:EMPTY" },
      }),
    );
    const env = { T: "2000", A: "false", EMPTY: "" };
    const ok = await loadProfile("ok", { profilesFile: file, env });
    assertEquals([ok.timeout, ok.admin, ok.retries], [2000, false, 1]);
    const words = await assertRejects(() => loadProfile("words", { profilesFile: file }), Error);
    assertStringIncludes(words.message, `key "timeout"`);
    assertStringIncludes(words.message, "milliseconds");
    const empty = await assertRejects(
      () => loadProfile("empty", { profilesFile: file, env }),
      Error,
    );
    assertStringIncludes(empty.message, "EMPTY, which is empty");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a URL without its scheme is refused with the fix", async () => {
  for (const url of ["localhost:8080", "127.0.0.1:8080", "ftp://x"]) {
    const err = await assertRejects(() => connect({ url, apiKey: "k".repeat(64) }), Error);
    assertStringIncludes(err.message, "http(s) URL");
  }
  const err = await assertRejects(() => connect({ url: "localhost:8080" }), Error);
  assertStringIncludes(err.message, `"http://localhost:8080"`);
  // A user:password@ part is refused (fetch would), and its password is never repeated.
  for (
    const url of [
      "http://admin:pw-Secret9@127.0.0.1:9",
      "admin:pw-Secret9@127.0.0.1:9",
      "http://admin:pw@Secret9@127.0.0.1:9",
      "http://admin:pw/Secret9@127.0.0.1:9",
      "admin:pw/Sec@ret9@127.0.0.1:9",
      "http://bob:1234/Secret9@127.0.0.1:9", // parses as host bob:1234 and a path
      "ftp://bob:1234/Secret9@127.0.0.1:9",
      "http://admin:pa?Secret9@127.0.0.1:9", // does not parse
      "http://admin:1234?Secret9@127.0.0.1:9", // parses as host admin:1234 and a query
    ]
  ) {
    const creds = await assertRejects(() => connect({ url, apiKey: "k".repeat(64) }), Error);
    assert(!/Secret9|ret9@|1234/.test(creds.message), creds.message);
    assertStringIncludes(creds.message, "127.0.0.1:9");
  }
});

Deno.test("connect({sessionToken}) renews a token that expired but may still be refreshed", async () => {
  const sb = await startSandbox({ port: 0, jwtTtl: 1, jwtRefreshTtl: 600 });
  try {
    const token = await adminLogin(sb);
    await new Promise((r) => setTimeout(r, 1500));
    const df = await connect({ url: sb.url, sessionToken: token });
    assertEquals(df.session?.email, sb.admin.email);
    assertEquals(await df.system.role.count(), 0);
  } finally {
    await sb.close();
  }
});

Deno.test("without --allow-env, connect() says so rather than asking to set DF_URL", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const script = `${dir}/s.ts`;
    const mod = new URL("../../mod.ts", import.meta.url).href;
    await Deno.writeTextFile(
      script,
      `import { connect } from ${JSON.stringify(mod)};\n` +
        `try { await connect(); } catch (e) { console.log((e as Error).message); }\n`,
    );
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const run = async (permissions: string[], env: Record<string, string>) => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "--config", config, "--no-prompt", ...permissions, script],
        env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      return new TextDecoder().decode(out.stdout);
    };
    const text = await run(["--allow-read"], { DF_URL: "http://127.0.0.1:9" });
    assertStringIncludes(text, "--allow-env");
    assert(!text.includes("set DF_URL"), text);
    // No --allow-read either: no profiles file can be looked at, which is not the problem.
    const unread = await run(["--allow-env=DF_URL,HOME"], { DF_URL: "" });
    assertStringIncludes(unread, "needs a DreamFactory URL");
    assert(!unread.includes("DFKIT_PROFILES"), unread);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
