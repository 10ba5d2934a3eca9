/**
 * Test helpers for the provisioning recipe: a sandbox with a small table, an admin client, a
 * key-only caller, a snapshot of everything a customer could leave behind, and a fault-injecting
 * HTTP proxy (real HTTP, no stubbed fetch) that fails the n-th write passing through it.
 */
import { connect } from "../../lib/client.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import type { HttpExchange } from "../../lib/transport.ts";

export type Df = Awaited<ReturnType<typeof connect>>;

/** A sandbox, an admin client on it, and a `widget` table with two rows in service `db`. */
export async function setup(): Promise<{
  url: string;
  admin: { email: string; password: string };
  df: Df;
  exchanges: HttpExchange[];
  close: () => Promise<void>;
}> {
  const sb = await startSandbox({ port: 0 });
  const df = await connect({ url: sb.url, ...sb.admin });
  const exchanges: HttpExchange[] = [];
  df.onExchange((ex) => exchanges.push(ex));
  await df.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "widget",
        field: [{ name: "id", type: "id" }, { name: "label", type: "string" }],
      }],
    },
  });
  await df.request("POST", "db/_table/widget", {
    body: { resource: [{ label: "a" }, { label: "b" }] },
  });
  return {
    url: sb.url,
    admin: sb.admin,
    df,
    exchanges,
    close: async () => {
      await df.logout().catch(() => {});
      await sb.close();
    },
  };
}

/** One call with only an API key (no session), as a customer's program makes it. */
export async function callWithKey(
  url: string,
  apiKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${url}/api/v2/${path}`, {
    method,
    headers: { "X-DreamFactory-API-Key": apiKey, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

/** Names of every role, app, limit and user: what a failed call must leave unchanged. */
export async function snapshot(df: Df): Promise<Record<string, string[]>> {
  const names = async (path: string, field: string) => {
    const body = await df.request("GET", path, { query: { fields: field } }) as {
      resource: Record<string, unknown>[];
    };
    return body.resource.map((r) => String(r[field])).sort();
  };
  return {
    roles: await names("system/role", "name"),
    apps: await names("system/app", "name"),
    limits: await names("system/limit", "name"),
    users: await names("system/user", "email"),
  };
}

/** Writes (POST/PUT/PATCH/DELETE, logins excluded) among recorded exchanges. */
export function writes(exchanges: HttpExchange[]): HttpExchange[] {
  return exchanges.filter((ex) =>
    ex.method !== "GET" && !new URL(ex.url).pathname.endsWith("/session")
  );
}

/**
 * A proxy in front of `target` that answers the `failAt`-th write (1-based; logins excluded)
 * with DreamFactory's 500 envelope instead of forwarding it (quoting the request with `echo`). `failAt` can be changed between
 * calls; `writes` counts writes seen since the last `reset()`.
 */
export function startFaultProxy(target: string) {
  // `echo`: the error message quotes the request body, as DreamFactory's SQL errors quote the
  // failed statement with its values.
  // `sticky`: every write from the `failAt`-th on fails (the server went away), undos included.
  // `onWrite`: runs before each write is answered (to race the call with another client).
  // `failReads`: how many of the next reads (GETs) to answer with 503.
  // `lose`: the `failAt`-th write reaches the server, and its answer is replaced by a 502 (the
  // server committed it, the caller cannot know).
  const state = {
    failAt: 0,
    writes: 0,
    failed: "",
    echo: false,
    sticky: false,
    failReads: 0,
    lose: false,
    onWrite: undefined as ((method: string, path: string) => Promise<void>) | undefined,
  };
  const server = Deno.serve({
    hostname: "127.0.0.1",
    port: 0,
    onListen() {},
    // A client that went away mid-request (killed by a test) is no failure of the proxy's.
    onError: () => new Response(null, { status: 502 }),
  }, async (req) => {
    const url = new URL(req.url);
    const isWrite = req.method !== "GET" && !url.pathname.endsWith("/session");
    if (req.method === "GET" && state.failReads > 0) {
      state.failReads--;
      return Response.json({
        error: { code: 503, context: null, message: "Injected read failure", status_code: 503 },
      }, { status: 503 });
    }
    if (isWrite) await state.onWrite?.(req.method, url.pathname);
    const n = isWrite ? ++state.writes : 0;
    if (isWrite && (n === state.failAt || (state.sticky && state.failAt > 0 && n > state.failAt))) {
      state.failed = `${req.method} ${url.pathname}`;
      const body = await req.text();
      if (state.lose && n === state.failAt) {
        const headers = new Headers(req.headers);
        headers.delete("host");
        const res = await fetch(`${target}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body,
        });
        await res.body?.cancel();
        return new Response("Bad gateway", { status: 502 });
      }
      const message = state.echo ? `Injected failure (SQL: ${body})` : "Injected failure";
      return Response.json({
        error: { code: 500, context: { request: body }, message, status_code: 500 },
      }, { status: 500 });
    }
    const headers = new Headers(req.headers);
    headers.delete("host");
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body ? await req.arrayBuffer() : undefined,
    });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    state,
    reset(failAt: number) {
      state.failAt = failAt;
      state.writes = 0;
      state.failed = "";
    },
    close: () => server.shutdown(),
  };
}

/** {@linkcode setup}, a fault proxy in front of its sandbox and an admin client through the
 * proxy (no retries), for `fn`; everything is closed afterwards. */
export async function withFaultProxy(
  fn: (
    fx: Awaited<ReturnType<typeof setup>> & {
      proxy: ReturnType<typeof startFaultProxy>;
      viaProxy: Df;
    },
  ) => Promise<void>,
): Promise<void> {
  const fx = await setup();
  const proxy = startFaultProxy(fx.url);
  const viaProxy = await connect({ url: proxy.url, ...fx.admin, retries: 0 });
  try {
    await fn({ ...fx, proxy, viaProxy });
  } finally {
    await viaProxy.logout().catch(() => {});
    await proxy.close();
    await fx.close();
  }
}
