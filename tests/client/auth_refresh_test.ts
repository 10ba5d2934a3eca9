import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { connect, DreamFactoryError, type HttpExchange } from "./dfkit.ts";
import { setup, sleep } from "./helpers.ts";

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
    const res = await fetch(`${sb.url}/api/v2/system/admin/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sb.admin),
    });
    const { session_token } = await res.json();
    const df = await connect({ url: sb.url, sessionToken: session_token, refreshBefore: -3600 });
    await sleep(2200);
    const err = await assertRejects(() => df.system.role.count(), DreamFactoryError);
    assertStringIncludes(err.message, "no email and password");
    assert(!Deno.inspect(err).includes(session_token));
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
