/**
 * Migration benchmark (a script printing numbers, not `deno bench`):
 *
 *   deno run -A --v8-flags=--expose-gc bench/migrate_bench.ts [--rows 100000]
 *
 * 1. Copies N rows (default 100,000) between two sandbox database services, each sandbox in its
 *    own process so the memory measured is the copier's: `copyData` (batch 1000, concurrency 4,
 *    checkpoint file, checksum verification) against, in the same run, an ideal bare-`fetch`
 *    pipeline with the same batch size and concurrency (no checkpoint, no verification), and a
 *    naive loop (one page read, then one insert request per record), which is sampled on 2,000
 *    records and extrapolated (said so in the output).
 * 2. Peak memory (heap and RSS growth) of `copyData` at 10,000 and at N rows.
 * 3. HTTP requests of applying a 1,000-object snapshot to an empty instance, against the minimum.
 *
 * @module
 */
import { connect, type DreamFactory } from "../lib/client.ts";
import { apply, copyData, snapshot } from "../lib/migrate/mod.ts";

const CONFIG = new URL("../deno.json", import.meta.url).pathname;
const SANDBOX = new URL("../scripts/sandbox.ts", import.meta.url).pathname;
const BATCH = 1000;
const CONCURRENCY = 4;
const NAIVE_SAMPLE = 2000;

interface Child {
  url: string;
  process: Deno.ChildProcess;
}

/** Starts a sandbox in a child process and waits for its URL. */
async function spawnSandbox(): Promise<Child> {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--config", CONFIG, SANDBOX, "--port", "0"],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let seen = "";
  while (true) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`sandbox exited before listening: ${seen}`);
    seen += value;
    const m = seen.match(/http:\/\/127\.0\.0\.1:\d+/);
    if (m) {
      // Keep draining so the child never blocks on a full pipe.
      (async () => {
        while (!(await reader.read()).done) { /* discard */ }
      })();
      return { url: m[0], process };
    }
  }
}

const ADMIN = { email: "admin@example.com", password: "Passw0rd123" };

const FIELDS = [
  { name: "id", type: "id" },
  { name: "sku", type: "string", length: 32, allow_null: true },
  { name: "name", type: "string", length: 100, allow_null: true },
  { name: "qty", type: "integer", allow_null: true },
  { name: "price", type: "double", allow_null: true },
  { name: "note", type: "text", allow_null: true },
];

async function createTables(df: DreamFactory, names: string[]) {
  await df.request("POST", "db/_schema", {
    body: { resource: names.map((name) => ({ name, field: FIELDS })) },
  });
}

async function seed(df: DreamFactory, table: string, rows: number) {
  for (let start = 0; start < rows; start += BATCH) {
    const batch = Array.from({ length: Math.min(BATCH, rows - start) }, (_, i) => {
      const n = start + i;
      return {
        sku: `SKU-${n}`,
        name: `Item ${n}`,
        qty: n % 97,
        price: (n % 1000) / 10,
        note: n % 5 ? null : "some longer text for this row, to give it a realistic size",
      };
    });
    await df.request("POST", `db/_table/${table}`, { body: { resource: batch } });
  }
}

/**
 * Samples heap and RSS while `run` executes; returns the peaks above the starting level, and the
 * retained heap (after a forced GC, taken every 10 batches through `probe`).
 */
async function peakMemory<T>(
  run: (probe: (batches: number) => void) => Promise<T>,
): Promise<{ result: T; heapMb: number; rssMb: number; retainedMb: number }> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const base = Deno.memoryUsage();
  let heap = base.heapUsed, rss = base.rss, retained = 0;
  const timer = setInterval(() => {
    const m = Deno.memoryUsage();
    heap = Math.max(heap, m.heapUsed);
    rss = Math.max(rss, m.rss);
  }, 10);
  const probe = (batches: number) => {
    if (!gc || batches % 10 !== 0) return;
    gc();
    retained = Math.max(retained, Deno.memoryUsage().heapUsed - base.heapUsed);
  };
  try {
    const result = await run(probe);
    return {
      result,
      heapMb: (heap - base.heapUsed) / 2 ** 20,
      rssMb: (rss - base.rss) / 2 ** 20,
      retainedMb: retained / 2 ** 20,
    };
  } finally {
    clearInterval(timer);
  }
}

async function login(url: string): Promise<Record<string, string>> {
  const r = await fetch(`${url}/api/v2/system/admin/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(ADMIN),
  });
  const { session_token } = await r.json();
  return { "X-DreamFactory-Session-Token": session_token, "Content-Type": "application/json" };
}

/** The ideal pipeline: bare fetch, keyset pages, POST batches, same concurrency, nothing else. */
async function idealCopy(src: string, dst: string, from: string, to: string): Promise<number> {
  const sh = await login(src), dh = await login(dst);
  const inflight = new Set<Promise<void>>();
  let last = 0, copied = 0;
  while (true) {
    const q = new URLSearchParams({ order: "id ASC", limit: String(BATCH) });
    if (last) q.set("filter", `id > ${last}`);
    const res = await fetch(`${src}/api/v2/db/_table/${from}?${q}`, { headers: sh });
    const rows = (await res.json()).resource as Record<string, unknown>[];
    if (!rows.length) break;
    last = rows[rows.length - 1].id as number;
    const body = JSON.stringify({ resource: rows.map(({ id: _, ...r }) => r) });
    const p: Promise<void> = fetch(`${dst}/api/v2/db/_table/${to}?rollback=true`, {
      method: "POST",
      headers: dh,
      body,
    }).then(async (r) => {
      if (!r.ok) throw new Error(await r.text());
      await r.body?.cancel();
      copied += rows.length;
    }).finally(() => inflight.delete(p));
    inflight.add(p);
    while (inflight.size >= CONCURRENCY) await Promise.race(inflight);
    if (rows.length < BATCH) break;
  }
  await Promise.all(inflight);
  return copied;
}

/** The naive loop on a sample: one page read, then one insert request per record. */
async function naiveCopy(
  src: DreamFactory,
  dst: DreamFactory,
  from: string,
  to: string,
): Promise<number> {
  const started = performance.now();
  const page = await src.request<{ resource: Record<string, unknown>[] }>(
    "GET",
    `db/_table/${from}`,
    {
      query: { limit: NAIVE_SAMPLE, order: "id ASC" },
    },
  );
  for (const { id: _, ...row } of page.resource) {
    await dst.request("POST", `db/_table/${to}`, { body: { resource: [row] } });
  }
  return page.resource.length / ((performance.now() - started) / 1000);
}

/** Staging with 1,000 objects: roles with access rows, apps, lookups, CORS entries, limits. */
async function seedObjects(df: DreamFactory) {
  const roles = Array.from({ length: 200 }, (_, i) => ({
    name: `role-${i}`,
    is_active: true,
    role_service_access_by_role_id: [
      {
        service_id: 2,
        component: "_table/*",
        verb_mask: 1,
        requestor_mask: 1,
        filters: [],
        filter_op: "AND",
      },
      {
        service_id: 2,
        component: `_table/t${i}`,
        verb_mask: 3,
        requestor_mask: 1,
        filters: [],
        filter_op: "AND",
      },
    ],
  }));
  await df.request("POST", "system/role", { body: { resource: roles } });
  const ids =
    (await df.request<{ resource: { id: number; name: string }[] }>("GET", "system/role")).resource;
  const roleId = new Map(ids.map((r) => [r.name, r.id]));
  await df.request("POST", "system/app", {
    body: {
      resource: Array.from({ length: 200 }, (_, i) => ({
        name: `app-${i}`,
        type: 0,
        is_active: true,
        role_id: roleId.get(`role-${i}`),
      })),
    },
  });
  await df.request("POST", "system/lookup", {
    body: {
      resource: Array.from(
        { length: 300 },
        (_, i) => ({ name: `var_${i}`, value: `v${i}`, private: i % 10 === 0 }),
      ),
    },
  });
  await df.request("POST", "system/cors", {
    body: {
      resource: Array.from(
        { length: 200 },
        (_, i) => ({ path: `api/v2/p${i}/*`, origin: "*", method: ["GET"], enabled: true }),
      ),
    },
  });
  await df.request("POST", "system/limit", {
    body: {
      resource: Array.from({ length: 100 }, (_, i) => ({
        name: `limit-${i}`,
        type: "instance.role",
        role_id: roleId.get(`role-${i}`),
        rate: 100 + i,
        period: "hour",
      })),
    },
  });
}

async function main() {
  const rowsArg = Deno.args.indexOf("--rows");
  const ROWS = rowsArg >= 0 ? Number(Deno.args[rowsArg + 1]) : 100_000;
  const SMALL = Math.min(10_000, ROWS);
  const [a, b] = await Promise.all([spawnSandbox(), spawnSandbox()]);
  const src = await connect({ url: a.url, ...ADMIN });
  const dst = await connect({ url: b.url, ...ADMIN });
  const dir = await Deno.makeTempDir();
  try {
    console.log(`Seeding ${ROWS.toLocaleString()} + ${SMALL.toLocaleString()} rows...`);
    await createTables(src, ["items", "items_small"]);
    await createTables(dst, ["copy_big", "copy_small", "ideal", "naive"]);
    await seed(src, "items", ROWS);
    await seed(src, "items_small", SMALL);

    const small = await peakMemory((probe) =>
      copyData({ df: src, db: "db", table: "items_small" }, {
        df: dst,
        db: "db",
        table: "copy_small",
      }, {
        batchSize: BATCH,
        concurrency: CONCURRENCY,
        checkpoint: `${dir}/small.json`,
        onProgress: (p) => probe(p.batches),
      })
    );
    const big = await peakMemory((probe) =>
      copyData({ df: src, db: "db", table: "items" }, { df: dst, db: "db", table: "copy_big" }, {
        batchSize: BATCH,
        concurrency: CONCURRENCY,
        checkpoint: `${dir}/big.json`,
        onProgress: (p) => probe(p.batches),
      })
    );
    const idealStart = performance.now();
    const idealRows = await idealCopy(a.url, b.url, "items", "ideal");
    const idealRate = idealRows / ((performance.now() - idealStart) / 1000);
    const naiveRate = await naiveCopy(src, dst, "items", "naive");

    const r = big.result;
    console.log(
      `\nCopy ${ROWS.toLocaleString()} rows, batch ${BATCH}, concurrency ${CONCURRENCY}:`,
    );
    console.log(
      `  copyData (checkpointed, verified):  ${
        Math.round(r.rowsPerSecond).toLocaleString()
      } rows/s` +
        ` (copy ${r.copySeconds.toFixed(2)} s, then verification re-read ` +
        `${(r.seconds - r.copySeconds).toFixed(2)} s; ${r.requests} requests; ` +
        `verified ${r.verification?.ok})`,
    );
    console.log(
      `  ideal bare-fetch pipeline:          ${Math.round(idealRate).toLocaleString()} rows/s`,
    );
    console.log(
      `  naive loop (1 insert per record):   ${Math.round(naiveRate).toLocaleString()} rows/s ` +
        `(sampled on ${NAIVE_SAMPLE.toLocaleString()} records; ${ROWS.toLocaleString()} would take ~${
          Math.round(ROWS / naiveRate)
        } s)`,
    );
    console.log(
      `  ratios: copyData / ideal = ${(r.rowsPerSecond / idealRate).toFixed(2)}, ` +
        `copyData / naive = ${(r.rowsPerSecond / naiveRate).toFixed(1)}x`,
    );
    console.log(
      `\nPeak memory growth of copyData (bench process; sandboxes run in their own processes):`,
    );
    for (const [rows, m] of [[SMALL, small], [ROWS, big]] as const) {
      console.log(
        `  ${rows.toLocaleString()} rows: peak heap +${m.heapMb.toFixed(1)} MB, ` +
          `peak RSS +${m.rssMb.toFixed(1)} MB, retained heap after GC (max) +${
            m.retainedMb.toFixed(1)
          } MB`,
      );
    }

    // 3. Applying a 1,000-object snapshot.
    const [c, d] = await Promise.all([spawnSandbox(), spawnSandbox()]);
    const staging = await connect({ url: c.url, ...ADMIN });
    const prod = await connect({ url: d.url, ...ADMIN });
    try {
      await seedObjects(staging);
      const snap = await snapshot(staging);
      let exchanges = 0;
      const stop = prod.onExchange(() => void exchanges++);
      const env = Object.fromEntries(
        Object.keys(snap.objects.apps ?? {}).map((
          n,
        ) => [`DF_APP_${n.toUpperCase().replace(/[^A-Z0-9]+/g, "_")}_API_KEY`, "f".repeat(64)]),
      );
      for (const [name, l] of Object.entries(snap.objects.lookups ?? {})) {
        if (l.private) env[`DF_LOOKUP_${name.toUpperCase()}`] = "secret";
      }
      const started = performance.now();
      const report = await apply(prod, snap, { env });
      const ms = performance.now() - started;
      stop();
      const created = report.done.length;
      const sections = new Set(report.done.map((x) => x.section)).size;
      console.log(
        `\nApply a ${created.toLocaleString()}-object snapshot to an empty instance (${
          ms.toFixed(0)
        } ms):`,
      );
      console.log(
        `  ${report.requests} HTTP requests (${exchanges} seen on the wire): ${
          report.requests - report.writeRequests
        } reads of the target's state + ${report.writeRequests} writes`,
      );
      console.log(
        `  minimum: ${sections} writes (one batch per section with changes: ${
          [...new Set(report.done.map((x) => x.section))].join(", ")
        }); ` +
          `one-request-per-object would be ${created}`,
      );
      const again = await apply(prod, snap, { env });
      console.log(`  re-apply: ${again.requests} requests, ${again.writeRequests} writes`);
    } finally {
      await staging.logout().catch(() => {});
      await prod.logout().catch(() => {});
      c.process.kill();
      d.process.kill();
      await c.process.status;
      await d.process.status;
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await src.logout().catch(() => {});
    await dst.logout().catch(() => {});
    a.process.kill();
    b.process.kill();
    await a.process.status;
    await b.process.status;
  }
}

if (import.meta.main) await main();
