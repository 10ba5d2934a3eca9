// Limit enforcement of the sandbox (lib/sandbox/limits.ts), end to end over HTTP: the counting
// rules of df-limits for the types a customer's limits do not use.
import assert from "node:assert/strict";
import { connect } from "../../lib/client.ts";
import { provisionCustomer } from "../../lib/provision/mod.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { callWithKey, setup } from "./helpers.ts";

async function status(url: string, apiKey: string, path: string, token?: string, method = "GET") {
  const headers: Record<string, string> = { "X-DreamFactory-API-Key": apiKey };
  if (token) headers["X-DreamFactory-Session-Token"] = token;
  const res = await fetch(`${url}/api/v2/${path}`, {
    method,
    headers: { ...headers, "Content-Type": "application/json" },
    body: method === "POST" ? JSON.stringify({ resource: [{ label: "n" }] }) : undefined,
  });
  await res.body?.cancel();
  return res.status;
}

Deno.test("each_user limits count per logged-in user, skip key-only calls, and yield to a user's own limit", async () => {
  const { df, url, close } = await setup();
  try {
    const users = [{ email: "ann@acme.test" }, { email: "bob@acme.test" }];
    const r = await provisionCustomer(df, {
      key: "acme",
      access: [{ service: "db", verbs: ["GET"] }],
      users,
    });
    const tokens: Record<string, string> = {};
    for (const u of r.users!) {
      await df.system.user.ids(u.id).update({ password: "a-long-enough-password" });
      const res = await fetch(`${url}/api/v2/user/session`, {
        method: "POST",
        headers: { "X-DreamFactory-API-Key": r.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({ email: u.email, password: "a-long-enough-password" }),
      });
      tokens[u.email] = ((await res.json()) as { session_token: string }).session_token;
    }
    const bob = r.users!.find((u) => u.email === "bob@acme.test")!;
    await df.system.limit.create([
      { name: "each", type: "instance.each_user", rate: 1, period: "minute" },
      { name: "bob", type: "instance.user", user_id: bob.id, rate: 3, period: "minute" },
    ]);
    const get = (who?: string) => status(url, r.apiKey, "db/_table/widget", who && tokens[who]);
    assert.deepEqual([await get("ann@acme.test"), await get("ann@acme.test")], [200, 429]);
    assert.deepEqual(
      [await get("bob@acme.test"), await get("bob@acme.test"), await get("bob@acme.test")],
      [200, 200, 200],
      "Bob's own limit (3) overrides the each-user limit (1)",
    );
    assert.equal(await get("bob@acme.test"), 429);
    assert.deepEqual(
      [await get(), await get()],
      [200, 200],
      "key-only calls have no user to count",
    );
  } finally {
    await close();
  }
});

Deno.test("endpoint limits share one counter under a wildcard; verb limits count only their verb", async () => {
  const { df, url, close } = await setup();
  try {
    const r = await provisionCustomer(df, {
      key: "acme",
      access: [{ service: "db", verbs: ["GET", "POST"] }],
    });
    const db = (await df.system.service.filter("name = 'db'").first())!;
    await df.system.limit.create([
      {
        name: "widgets",
        type: "instance.service.endpoint",
        service_id: db.id,
        endpoint: "_table/widget*",
        rate: 2,
        period: "hour",
      },
      {
        name: "posts",
        type: "instance.service",
        service_id: db.id,
        verb: "POST",
        rate: 1,
        period: "hour",
      },
    ]);
    assert.deepEqual([
      await status(url, r.apiKey, "db/_table/widget"),
      await status(url, r.apiKey, "db/_table/widget/1"),
      await status(url, r.apiKey, "db/_table/widget/2"),
    ], [200, 200, 429]);
    assert.equal(await status(url, r.apiKey, "db/_schema"), 200, "outside the endpoint");
    // POST /_table/widget is under the (exhausted) endpoint limit too; /_schema is not.
    const schemaPost = () =>
      fetch(`${url}/api/v2/db/_schema`, {
        method: "POST",
        headers: { "X-DreamFactory-API-Key": r.apiKey, "Content-Type": "application/json" },
        body: JSON.stringify({ resource: [] }),
      }).then(async (res) => (await res.body?.cancel(), res.status));
    assert.notEqual(await schemaPost(), 429);
    assert.equal(await schemaPost(), 429, "the second POST exceeds the POST-only limit");
    assert.equal(await status(url, r.apiKey, "db/_schema"), 200, "GETs are not counted by it");
  } finally {
    await close();
  }
});

Deno.test("inactive limits are ignored; limit_cache lists counters and flushes them", async () => {
  const { df, url, close } = await setup();
  try {
    const r = await provisionCustomer(df, {
      key: "acme",
      access: [{ service: "db", verbs: ["GET"] }],
      limit: { rate: 1, period: "day" },
    });
    const [off] = await df.system.limit.create([
      { name: "off", type: "instance", rate: 1, period: "minute", is_active: false },
    ]);
    await df.system.limit.ids(off.id).update({ is_active: false });
    assert.deepEqual(
      [
        await status(url, r.apiKey, "db/_table/widget"),
        await status(url, r.apiKey, "db/_table/widget"),
      ],
      [200, 429],
    );
    const cache = await df.request("GET", "system/limit_cache") as { resource: unknown[] };
    assert.deepEqual(cache.resource, [
      { id: r.limit!.id, key: `instance.role:${r.role.id}.day`, max: 1, attempts: 1, remaining: 0 },
      { id: off.id, key: "instance.minute", max: 1, attempts: 0, remaining: 1 },
    ]);
    assert.deepEqual(
      await df.request("DELETE", "system/limit_cache", { query: { allow_delete: true } }),
      { success: true },
    );
    assert.equal(await status(url, r.apiKey, "db/_table/widget"), 200);
    await assert.rejects(
      df.request("GET", "system/limit_cache/999"),
      /Record with identifier '999' not found/,
    );
  } finally {
    await close();
  }
});

Deno.test("limit_cache by ids; a deleted and re-created limit starts from zero", async () => {
  const { df, url, close } = await setup();
  try {
    const spec = {
      key: "acme",
      access: [{ service: "db", verbs: ["GET" as const] }],
      limit: { rate: 1, period: "day" as const },
    };
    const r = await provisionCustomer(df, spec);
    assert.equal(await status(url, r.apiKey, "db/_table/widget"), 200);
    const byIds = await df.request("GET", "system/limit_cache", {
      query: { ids: String(r.limit!.id) },
    });
    assert.deepEqual(
      (byIds as { resource: { attempts: number }[] }).resource.map((c) => c.attempts),
      [1],
    );
    await assert.rejects(
      df.request("DELETE", "system/limit_cache", { query: { ids: `${r.limit!.id},999` } }),
      /Batch Error: Not all requested records could be deleted/,
    );
    assert.equal(await status(url, r.apiKey, "db/_table/widget"), 200, "the first id was reset");
    assert.equal(await status(url, r.apiKey, "db/_table/widget"), 429);
    await provisionCustomer(df, { ...spec, limit: null });
    await provisionCustomer(df, spec);
    assert.equal(await status(url, r.apiKey, "db/_table/widget"), 200, "a new limit, a new count");
  } finally {
    await close();
  }
});

Deno.test("limit counters survive a restart with a data file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    let sb = await startSandbox({ port: 0, data: `${dir}/sandbox.db` });
    let df = await connect({ url: sb.url, ...sb.admin });
    const r = await provisionCustomer(df, {
      key: "acme",
      access: [{ service: "system", component: "environment", verbs: ["GET"] }],
      limit: { rate: 1, period: "hour" },
    });
    assert.equal((await callWithKey(sb.url, r.apiKey, "GET", "system/environment")).status, 200);
    await df.logout();
    await sb.close();
    sb = await startSandbox({ port: 0, data: `${dir}/sandbox.db` });
    df = await connect({ url: sb.url, ...sb.admin });
    assert.equal((await callWithKey(sb.url, r.apiKey, "GET", "system/environment")).status, 429);
    await df.logout();
    await sb.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
