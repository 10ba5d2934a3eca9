import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { connect, DreamFactoryError, type HttpExchange } from "./dfkit.ts";
import { setup, sleep } from "./helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";

const path = (ex: HttpExchange) => `${ex.method} ${new URL(ex.url).pathname} ${ex.status}`;
const refreshes = (xs: HttpExchange[]) =>
  xs.filter((e) => e.method === "PUT" && e.url.endsWith("/session"));

Deno.test("the token is refreshed before it expires, then the call goes through", async () => {
  await using fx = await setup({ jwtTtl: 3, jwtRefreshTtl: 60 });
  const { df, exchanges } = fx;
  const firstExpiry = df.session!.expires_at!;
  const wait = Date.parse(firstExpiry) - Date.now() - 600; // inside the 1 s refresh margin
  await sleep(Math.max(0, wait));
  exchanges.length = 0;
  await df.system.role;
  assertEquals(exchanges.map(path), [
    "PUT /api/v2/system/admin/session 200",
    "GET /api/v2/system/role 200",
  ]);
  assert(df.session!.expires_at! >= firstExpiry);
  assertEquals(df.authStats.refreshes, 1);
});

Deno.test("concurrent calls near expiry share one refresh (single flight)", async () => {
  await using fx = await setup({ jwtTtl: 3, jwtRefreshTtl: 60 });
  const { df, exchanges } = fx;
  await sleep(Math.max(0, Date.parse(df.session!.expires_at!) - Date.now() - 600));
  exchanges.length = 0;
  const results = await Promise.all(
    Array.from({ length: 8 }, () => df.system.role.count()),
  );
  assertEquals(results, Array(8).fill(0));
  assertEquals(refreshes(exchanges).length, 1);
  assertEquals(exchanges.filter((e) => e.status >= 400), []);
});

Deno.test("concurrent explicit refresh() calls share one PUT and the session keeps working", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  await Promise.all([df.refresh(), df.refresh(), df.refresh()]);
  assertEquals(refreshes(exchanges).length, 1);
  assertEquals(await df.system.role.count(), 0);
});

Deno.test("a script outliving several token lifetimes never fails", async () => {
  await using fx = await setup({ jwtTtl: 2, jwtRefreshTtl: 600 });
  const { df, exchanges } = fx;
  const until = Date.now() + 6_500; // at least three token lifetimes
  let calls = 0;
  while (Date.now() < until) {
    await df.system.user.count();
    calls++;
    await sleep(120);
  }
  assert(calls > 10);
  assert(df.authStats.refreshes + df.authStats.logins - 1 >= 3, JSON.stringify(df.authStats));
  assertEquals(exchanges.filter((e) => e.status >= 400).map(path), []);
});

Deno.test("when the server says the token expired, the client refreshes and retries once", async () => {
  // refreshBefore < 0 turns the proactive refresh off, so the server sees the expired token.
  await using fx = await setup({ jwtTtl: 1, jwtRefreshTtl: 600 }, { refreshBefore: -3600 });
  const { df, exchanges } = fx;
  await sleep(Math.max(0, Date.parse(df.session!.expires_at!) - Date.now() + 1100));
  exchanges.length = 0;
  assertEquals(await df.system.role.count(), 0);
  assertEquals(exchanges.map(path), [
    "GET /api/v2/system/role 401",
    "PUT /api/v2/system/admin/session 200",
    "GET /api/v2/system/role 200",
  ]);
});

Deno.test("past the refresh window the client logs in again with its credentials", async () => {
  await using fx = await setup({ jwtTtl: 1, jwtRefreshTtl: 1 }, { refreshBefore: -3600 });
  const { df, exchanges } = fx;
  await sleep(2200);
  exchanges.length = 0;
  assertEquals(await df.system.role.count(), 0);
  const seq = exchanges.map(path);
  assertEquals(seq[0], "GET /api/v2/system/role 401");
  assert(seq.includes("POST /api/v2/system/admin/session 200"), seq.join("\n"));
  assertEquals(seq.at(-1), "GET /api/v2/system/role 200");
});

Deno.test("a token-only client that cannot renew says so", async () => {
  const sb = await startSandbox({ port: 0, jwtTtl: 1, jwtRefreshTtl: 1 });
  try {
    const token = await adminLogin(sb);
    const df = await connect({ url: sb.url, sessionToken: token, refreshBefore: -3600 });
    await sleep(2200);
    const err = await assertRejects(() => df.system.role.count(), DreamFactoryError);
    assertStringIncludes(err.message, "no email and password");
    assert(/[.!?] The session cannot be renewed/.test(err.message), err.message);
    assert(!Deno.inspect(err).includes(token));
    await df.logout(); // an expired token is already as logged out as it gets: no error
    assertEquals(df.session, undefined);
  } finally {
    await sb.close();
  }
});

Deno.test("logout ends the session on the server and forgets it", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  await df.logout();
  assertEquals(path(exchanges.at(-1)!), "DELETE /api/v2/system/admin/session 200");
  assertEquals(df.session, undefined);
  const err = await assertRejects(() => df.system.role.count(), DreamFactoryError);
  assertEquals(err.status, 400); // no credentials left to send
});

/** A token the client can read (it never checks signatures): `exp`, `iat`, `nbf` in seconds. */
function jwt(claims: Record<string, number>): string {
  const part = (o: unknown) => btoa(JSON.stringify(o)).replace(/=+$/, "");
  return `${part({ typ: "JWT", alg: "HS256" })}.${part({ sub: "1", ...claims })}.c2ln`;
}

/** A minimal DreamFactory session endpoint on a real port, with a clock `skew` seconds off ours
 * and a refresh (PUT) that takes `putDelay` ms. Every other path answers `{}`. */
function fakeDreamFactory(opts: { skew?: number; ttl?: number; putDelay?: number } = {}) {
  const seen: string[] = [];
  const token = () => {
    const now = Math.floor(Date.now() / 1000) + (opts.skew ?? 0);
    return jwt({ iat: now, nbf: now, exp: now + (opts.ttl ?? 60) });
  };
  const json = (body: unknown) => Response.json(body);
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const path = new URL(req.url).pathname;
    seen.push(`${req.method} ${path}`);
    if (!path.endsWith("/session")) return json({ resource: [] });
    if (req.method === "PUT") await sleep(opts.putDelay ?? 0);
    return json({ session_token: token(), id: 1, email: "a@example.com", is_sys_admin: true });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    seen,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

Deno.test("logout() during a refresh leaves no session behind", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const refreshing = df.refresh();
  await df.logout();
  await assertRejects(() => refreshing, Error);
  assertEquals(df.session, undefined);
  const err = await assertRejects(() => df.system.role.count(), DreamFactoryError);
  assertEquals(err.status, 400); // no token came back to life
  // a token the refresh obtained anyway was ended on the server too
  const seq = exchanges.map(path);
  const deletes = seq.filter((p) => p.startsWith("DELETE")).length;
  assertEquals(deletes, seq.includes("PUT /api/v2/system/admin/session 200") ? 2 : 1);
});

Deno.test("a caller that aborts stops waiting; the shared refresh goes on for the others", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const ctl = new AbortController();
  const mine = df.refresh({ signal: ctl.signal });
  const other = df.system.role.count(); // waits for the same refresh
  ctl.abort(new Error("stop waiting"));
  await assertRejects(() => mine, Error, "stop waiting");
  assertEquals(await other, 0);
  assertEquals(refreshes(exchanges).map(path), ["PUT /api/v2/system/admin/session 200"]);
  assertEquals(await df.system.role.count(), 0);
});

Deno.test("a call waiting for a slow refresh still honours its own signal", async () => {
  await using srv = fakeDreamFactory({ putDelay: 1500 });
  const df = await connect({ url: srv.url, email: "a@example.com", password: "pw" });
  const slow = df.refresh();
  const started = performance.now();
  await assertRejects(
    () => df.request("GET", "system/role", { signal: AbortSignal.timeout(100) }),
    DOMException,
  );
  const waited = performance.now() - started;
  assert(waited < 1000, `waited ${waited.toFixed(0)} ms for someone else's refresh`);
  await slow;
});

Deno.test("a server clock far from ours does not make every call refresh first", async () => {
  // The server is 10 minutes behind and issues 5-minute tokens: by our clock they expired
  // before they were issued. The client measures the offset when a token is issued.
  await using srv = fakeDreamFactory({ skew: -600, ttl: 300 });
  const df = await connect({ url: srv.url, email: "a@example.com", password: "pw" });
  const left = Date.parse(df.session!.expires_at!) - Date.now();
  assert(left > 290_000 && left <= 300_000, `expires in ${left} ms by our clock`);
  for (let i = 0; i < 3; i++) await df.request("GET", "system/role");
  assertEquals(srv.seen.filter((s) => s.startsWith("PUT")), []);
});

Deno.test("a refreshBefore longer than the token's life does not refresh on every call", async () => {
  await using fx = await setup({ jwtTtl: 4, jwtRefreshTtl: 60 }, { refreshBefore: 120 });
  const { df, exchanges } = fx;
  exchanges.length = 0;
  for (let i = 0; i < 3; i++) await df.system.role.count();
  assertEquals(refreshes(exchanges), []);
});

Deno.test("an early refresh that fails does not fail a call the current token can still make", async () => {
  // 3 s tokens, refreshable only within 1 s of issue: the early refresh (1 s before expiry)
  // is refused, but the token is still good for a second.
  const sb = await startSandbox({ port: 0, jwtTtl: 3, jwtRefreshTtl: 1 });
  try {
    const token = await adminLogin(sb);
    const df = await connect({ url: sb.url, sessionToken: token });
    await sleep(Math.max(0, Date.parse(df.session!.expires_at!) - Date.now() - 700));
    assertEquals(await df.system.role.count(), 0);
  } finally {
    await sb.close();
  }
});

Deno.test("logout() that cannot reach the server keeps the session, and a later logout() ends it", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/df.sqlite`;
  let sb = await startSandbox({ port: 0, data });
  const port = Number(new URL(sb.url).port);
  try {
    const df = await connect({ url: sb.url, ...sb.admin, retries: 0 });
    await sb.close();
    const err = await assertRejects(() => df.logout(), DreamFactoryError);
    assertEquals(err.code, "NETWORK");
    assert(df.session !== undefined, "the token is kept: the server never heard of the logout");
    sb = await startSandbox({ port, data });
    assertEquals(await df.system.role.count(), 0); // still logged in
    await df.logout();
    assertEquals(df.session, undefined);
    const after = await assertRejects(() => df.system.role.count(), DreamFactoryError);
    assertEquals(after.status, 400);
  } finally {
    await sb.close();
    await Deno.remove(dir, { recursive: true });
  }
});
