import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { connect, DreamFactoryError, type HttpExchange } from "./dfkit.ts";
import { setup } from "./helpers.ts";

/** A real local HTTP server whose answers are scripted per request (for retry behaviour). */
function scripted(answers: (() => Response | Promise<Response>)[]) {
  let i = 0;
  const hits: string[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    hits.push(req.method);
    const answer = answers[Math.min(i++, answers.length - 1)];
    return answer();
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    hits,
    async [Symbol.asyncDispose]() {
      await server.shutdown();
    },
  };
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) => () =>
  new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
const busy = (retryAfter?: string) =>
  json(
    503,
    { error: { code: 503, context: null, message: "Busy &amp; tired", status_code: 503 } },
    retryAfter === undefined ? {} : { "Retry-After": retryAfter },
  );

Deno.test("GET is retried on 503 with backoff; the exchanges show each attempt", async () => {
  await using srv = scripted([busy("0"), busy(), json(200, { resource: [{ id: 1 }] })]);
  const seen: HttpExchange[] = [];
  const df = await connect({
    url: srv.url,
    apiKey: "k".repeat(64),
    onExchange: (e) => seen.push(e),
  });
  assertEquals(await df.request("GET", "db/_table/x"), { resource: [{ id: 1 }] });
  assertEquals(seen.map((e) => [e.status, e.attempt]), [[503, 1], [503, 2], [200, 3]]);
});

Deno.test("POST is retried only on 429/503 carrying Retry-After", async () => {
  {
    await using srv = scripted([busy(), json(200, {})]);
    const df = await connect({ url: srv.url, apiKey: "k".repeat(64) });
    const err = await assertRejects(
      () => df.request("POST", "db/_table/x", { body: {} }),
      DreamFactoryError,
    );
    assertEquals([err.status, err.message, err.method], [503, "Busy & tired", "POST"]);
    assertEquals(srv.hits.length, 1);
  }
  {
    await using srv = scripted([
      json(429, { error: { code: 429, message: "API limit(s) exceeded. " } }, {
        "Retry-After": "0",
      }),
      json(200, { resource: [] }),
    ]);
    const df = await connect({ url: srv.url, apiKey: "k".repeat(64) });
    assertEquals(await df.request("POST", "db/_table/x", { body: { resource: [] } }), {
      resource: [],
    });
    assertEquals(srv.hits.length, 2);
  }
  {
    // a Retry-After longer than the client will wait: fail now, with the server's message
    await using srv = scripted([
      json(429, { error: { code: 429, message: "API limit(s) exceeded. " } }, {
        "Retry-After": "3600",
      }),
    ]);
    const df = await connect({ url: srv.url, apiKey: "k".repeat(64) });
    const err = await assertRejects(() => df.request("GET", "db/_table/x"), DreamFactoryError);
    assertEquals(err.status, 429);
    assertEquals(srv.hits.length, 1);
  }
});

Deno.test("timeouts and AbortSignal apply to every call", async () => {
  await using srv = scripted([async () => {
    await new Promise((r) => setTimeout(r, 400));
    return new Response("{}", { headers: { "Content-Type": "application/json" } });
  }]);
  const df = await connect({ url: srv.url, apiKey: "k".repeat(64), retries: 0, timeout: 100 });
  const err = await assertRejects(() => df.request("GET", "system/role"), DreamFactoryError);
  assertEquals([err.status, err.code], [0, "TIMEOUT"]);
  const ctl = new AbortController();
  const p = df.system.role.abortSignal(ctl.signal).timeout(5000).count();
  ctl.abort(new Error("stop now"));
  await assertRejects(() => p, Error, "stop now");
  await new Promise((r) => setTimeout(r, 450)); // let the slow answers drain
});

Deno.test("calls sharing a timeout slot each get at least their full timeout", async () => {
  // Every answer takes 150 ms; the timeout is 400 ms (slots of 20 ms share one timer). The
  // margin lets a loaded machine (parallel tests) answer late without a false timeout.
  const slow = (ms: number) => async () => {
    await new Promise((r) => setTimeout(r, ms));
    return new Response("{}", { headers: { "Content-Type": "application/json" } });
  };
  await using srv = scripted([slow(150), slow(150), slow(150), slow(900)]);
  const seen: HttpExchange[] = [];
  const df = await connect({
    url: srv.url,
    apiKey: "k".repeat(64),
    retries: 0,
    timeout: 400,
    onExchange: (e) => seen.push(e),
  });
  const first = df.request("GET", "system/role");
  await new Promise((r) => setTimeout(r, 5)); // most likely the same slot
  const second = df.request("GET", "system/role");
  await new Promise((r) => setTimeout(r, 120)); // a later slot: its own, later deadline
  const third = df.request("GET", "system/role");
  assertEquals(await Promise.all([first, second, third]), [{}, {}, {}]);
  const started = performance.now();
  const err = await assertRejects(() => df.request("GET", "system/role"), DreamFactoryError);
  const waited = performance.now() - started;
  assertEquals(err.code, "TIMEOUT");
  assert(waited >= 399, `aborted after ${waited.toFixed(0)} ms, before the 400 ms timeout`);
  // Listeners see the three answers and the failed attempt, with its reason and timing.
  assertEquals(seen.map((e) => e.status), [200, 200, 200, 0]);
  const failed = seen[3];
  assertEquals([failed.error, failed.attempt], ["No response within 400 ms", 1]);
  assert(failed.timings.wait >= 399 && failed.timings.total === failed.timings.wait);
  assertEquals(failed.requestHeaders["X-DreamFactory-API-Key"], "[REDACTED]");
  await new Promise((r) => setTimeout(r, 550)); // let the slow answer drain
});

Deno.test("a timeout longer than a timer can wait means none, not an abort at once", async () => {
  // setTimeout fires at once past 2^31 - 1 ms: such a timeout must not cut a slow call short.
  await using srv = scripted([async () => {
    await new Promise((r) => setTimeout(r, 1100));
    return new Response("{}", { headers: { "Content-Type": "application/json" } });
  }]);
  const df = await connect({ url: srv.url, apiKey: "k".repeat(64), retries: 0, timeout: 2 ** 31 });
  assertEquals(await df.request("GET", "system/role"), {});
});

Deno.test("a server that is not there: NETWORK, with the reason (connection refused)", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${(closed.addr as Deno.NetAddr).port}`;
  closed.close();
  const df = await connect({ url, apiKey: "k".repeat(64), retries: 0 });
  const err = await assertRejects(() => df.request("GET", "system/role"), DreamFactoryError);
  assertEquals(err.code, "NETWORK");
  assertStringIncludes(err.message, `Could not reach ${url}: fetch failed (`);
  assertStringIncludes(err.message, "refused");
});

Deno.test("a body that breaks off is a NETWORK error, and listeners see the failed attempt", async () => {
  const broken = () => {
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode('{"resource": [{"id": 1}'));
        setTimeout(() => c.error(new Error("connection lost")), 20);
      },
    });
    return new Response(body, { headers: { "Content-Type": "application/json" } });
  };
  await using srv = scripted([broken]);
  const seen: HttpExchange[] = [];
  const df = await connect({
    url: srv.url,
    apiKey: "k".repeat(64),
    retries: 0,
    onExchange: (e) => seen.push(e),
  });
  const err = await assertRejects(() => df.request("GET", "system/role"), DreamFactoryError);
  assertEquals([err.status, err.code], [0, "NETWORK"]);
  assertEquals(seen.map((e) => [e.status, typeof e.error]), [[0, "string"]]);
});

Deno.test("errors carry status, code, decoded message, method and redacted path", async () => {
  await using fx = await setup();
  const { df } = fx;
  const err = await assertRejects(() => df.db("db").table("nosuch"), DreamFactoryError);
  assertEquals(err.status, 404);
  assertEquals(err.code, 404);
  assertEquals(err.message, 'Table "nosuch" does not exist in the database.');
  assertEquals(err.method, "GET");
  assertEquals(err.path, "/api/v2/db/_table/nosuch?include_count=true");
  assertStringIncludes(err.stack!, "404 on GET /api/v2/db/_table/nosuch");
  const e2 = await assertRejects(
    () => df.request("GET", "system/nosuch", { query: { api_key: "very-secret-key-123" } }),
    DreamFactoryError,
  );
  assert(!e2.path.includes("very-secret-key-123"), e2.path);
  assertStringIncludes(e2.path, "api_key=[REDACTED]");
  assertEquals(JSON.parse(JSON.stringify(e2)).status, e2.status);
});

Deno.test("a non-JSON error body still gives a readable error", async () => {
  await using srv = scripted([() => new Response("<html>Bad gateway</html>", { status: 502 })]);
  const df = await connect({ url: srv.url, apiKey: "k".repeat(64), retries: 0 });
  const err = await assertRejects(() => df.request("GET", "system/role"), DreamFactoryError);
  assertEquals(err.status, 502);
  assertStringIncludes(err.message, "Bad gateway");
});

Deno.test("query values: letters, digits and _ . ~ * , - go as they are, the rest URI-encoded", async () => {
  const { encodeQueryValue } = await import("../../lib/transport.ts");
  for (let c = 0; c < 0x250; c++) {
    const ch = String.fromCharCode(c);
    const plain = /^[\w.~*,-]$/.test(ch);
    const encoded = encodeQueryValue(`a${ch}b`);
    const expected = plain ? `a${ch}b` : encodeURIComponent(`a${ch}b`);
    assertEquals(encoded, expected, `U+${c.toString(16)}`);
    assertEquals(decodeURIComponent(encoded), `a${ch}b`);
  }
  assertEquals(encodeQueryValue(""), "");
  assertEquals(encodeQueryValue("id,name"), "id,name");
  assertEquals(encodeQueryValue("(name like 'a%')"), "(name%20like%20'a%25')");
});

Deno.test("paths: relative, absolute or with /api/v2; the root is /api/v2 itself", async () => {
  await using fx = await setup();
  const base = `${fx.sb.url}/api/v2`;
  for (
    const [path, url] of [
      ["system/role", `${base}/system/role`],
      ["/system/role", `${base}/system/role`],
      ["api/v2/system/role", `${base}/system/role`],
      ["/api/v2/system/role", `${base}/system/role`],
      ["", base],
      ["/", base],
      ["/api/v2", base],
      ["api/v2/", base],
    ]
  ) {
    assertEquals(fx.df.describe("GET", path).url, url, JSON.stringify(path));
  }
  const root = await fx.df.request<{ services: { name: string }[] }>("GET", "");
  assert(root.services.some((s) => s.name === "db"));
  assertEquals(fx.exchanges.at(-1)?.url, base);
});

Deno.test("a custom fetch may add to the headers it is given, one call at a time", async () => {
  await using srv = scripted([json(200, { resource: [{ id: 1 }] })]);
  const sent: string[] = [];
  let n = 0;
  const df = await connect({
    url: srv.url,
    apiKey: "k".repeat(64),
    fetch: ((url: string, init: RequestInit & { headers: Record<string, string> }) => {
      sent.push(init.headers["X-Trace"] ?? "none");
      init.headers["X-Trace"] = `call-${++n}`;
      return fetch(url, init);
    }) as typeof fetch,
  });
  await df.system.role;
  await df.system.role;
  assertEquals(sent, ["none", "none"], "each call starts from its own headers");
});

Deno.test("timeout slots: a call asked for anywhere in a slot is aborted no sooner than its timeout", async () => {
  const { Deadlines } = await import("../../lib/transport.ts");
  // A lower bound only: a loaded machine can make timers late, never early. Slots are 15 ms
  // wide here: calls asked for 0, 4, 8, ... 28 ms apart land early and late in two slots.
  const deadlines = new Deadlines();
  const ms = 300;
  const alive = setTimeout(() => {}, 10 * ms); // the deadline timers are unref'd
  const calls: Promise<number>[] = [];
  for (let i = 0; i < 8; i++) {
    const asked = performance.now();
    const signal = deadlines.signal(ms);
    calls.push(
      new Promise((resolve) =>
        signal.addEventListener("abort", () => resolve(performance.now() - asked), { once: true })
      ),
    );
    await new Promise((r) => setTimeout(r, 4));
  }
  for (const [i, waited] of (await Promise.all(calls)).entries()) {
    assert(waited >= ms - 1, `call ${i} aborted after ${waited.toFixed(1)} ms, before ${ms} ms`);
  }
  clearTimeout(alive);
});
