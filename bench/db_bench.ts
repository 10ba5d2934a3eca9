/**
 * Database-service benchmark over real HTTP. The sandbox runs in its own process (file-backed,
 * so the table lives on disk) and its resident memory is sampled from /proc while this script
 * inserts 100,000 rows in batches of 1,000, then reads them back in limit/offset pages and
 * through a filter. Prints rows/s per phase and the server's RSS as the table grows: it must stay
 * flat, because reads are bounded pages and rows are serialised as they are iterated.
 *
 * Run: deno run -A bench/db_bench.ts [--rows 100000] [--batch 1000] [--heap 64]
 * Under `deno bench` (`deno task bench`) the file instead registers quick in-process benchmarks
 * of the service handler (one 1,000-row batch insert, one page read, one filtered page).
 * (`--heap N` caps the sandbox's V8 old space at N MiB: the run only completes if memory does not
 * grow with the table.)
 *
 * @module
 */
import { parseArgs } from "node:util";
import { startSandbox } from "../lib/sandbox/mod.ts";
import { createSqliteService } from "../lib/sandbox/db/mod.ts";
import { call } from "../tests/sandbox/db/direct.ts";

async function main(): Promise<void> {
  if (Deno.args[0] === "serve") {
    // Child mode: run a sandbox on a data file and report where it listens.
    const sb = await startSandbox({ port: 0, data: Deno.args[1] });
    console.log(JSON.stringify({ url: sb.url, admin: sb.admin }));
    await new Promise(() => {});
  }

  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rows: { type: "string", default: "100000" },
      batch: { type: "string", default: "1000" },
      heap: { type: "string" },
    },
  });
  const ROWS = Number(values.rows);
  const BATCH = Number(values.batch);

  const dir = await Deno.makeTempDir({ prefix: "dfkit-bench-" });
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      ...(values.heap ? [`--v8-flags=--max-old-space-size=${Number(values.heap)}`] : []),
      new URL(import.meta.url).pathname,
      "serve",
      `${dir}/sandbox.sqlite`,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let first = "";
  while (!first.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("sandbox process exited before listening");
    first += value;
  }
  const { url, admin } = JSON.parse(first.split("\n")[0]);
  const base = `${url.replace(/\/$/, "")}/api/v2`;

  function rssKiB(): { rss: number; peak: number } {
    const status = Deno.readTextFileSync(`/proc/${child.pid}/status`);
    const get = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(status)?.[1] ?? 0);
    return { rss: get("VmRSS"), peak: get("VmHWM") };
  }
  let sampledPeak = 0;
  const sampler = setInterval(() => {
    sampledPeak = Math.max(sampledPeak, rssKiB().rss);
  }, 20);

  const login = await fetch(`${base}/system/admin/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(admin),
  }).then((r) => r.json());
  const headers = {
    "Content-Type": "application/json",
    "X-DreamFactory-Session-Token": login.session_token,
  };
  async function api(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await fetch(`${base}/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`);
    return json;
  }

  const mb = (kib: number) => (kib / 1024).toFixed(1);
  function line(label: string, rows: number, ms: number) {
    const { rss } = rssKiB();
    console.log(
      `${label.padEnd(34)} ${String(rows).padStart(7)} rows  ${
        (rows / (ms / 1000)).toFixed(0).padStart(7)
      } rows/s  RSS ${mb(rss)} MiB`,
    );
  }

  try {
    await api("POST", "db/_schema", {
      resource: [{
        name: "bench",
        field: [
          { name: "id", type: "id" },
          { name: "name", type: "string", length: 64 },
          { name: "grp", type: "integer" },
          { name: "score", type: "double" },
          { name: "active", type: "boolean" },
          { name: "note", type: "text", allow_null: true },
        ],
      }],
    });
    console.log(
      `sandbox pid ${child.pid}; heap cap ${values.heap ? `${values.heap} MiB` : "none"}; ` +
        `RSS before data ${mb(rssKiB().rss)} MiB`,
    );

    let t0 = performance.now();
    let mark = performance.now();
    for (let i = 0; i < ROWS; i += BATCH) {
      const batch = Array.from({ length: Math.min(BATCH, ROWS - i) }, (_, j) => {
        const n = i + j;
        return {
          name: `row ${n}`,
          grp: n % 100,
          score: n / 7,
          active: n % 2 === 0,
          note: "x".repeat(64),
        };
      });
      await api("POST", "db/_table/bench", { resource: batch });
      if ((i + BATCH) % (ROWS / 5) === 0) {
        line(`insert (table at ${i + BATCH})`, ROWS / 5, performance.now() - mark);
        mark = performance.now();
      }
    }
    const insertMs = performance.now() - t0;
    line("insert total", ROWS, insertMs);

    t0 = performance.now();
    mark = performance.now();
    let read = 0;
    for (let offset = 0; offset < ROWS; offset += 1000) {
      const page = await api("GET", `db/_table/bench?limit=1000&offset=${offset}`) as {
        resource: unknown[];
      };
      read += page.resource.length;
      if ((offset + 1000) % (ROWS / 5) === 0) {
        line(`pages (offset ${offset + 1000})`, ROWS / 5, performance.now() - mark);
        mark = performance.now();
      }
    }
    line("limit/offset pages total", read, performance.now() - t0);

    t0 = performance.now();
    let filtered = 0;
    let next: number | undefined = 0;
    const filter = encodeURIComponent("(grp = 7) and (active = false)");
    while (next !== undefined) {
      const page = await api(
        "GET",
        `db/_table/bench?filter=${filter}&include_count=true&limit=1000&offset=${next}`,
      ) as { resource: unknown[]; meta: { count: number; next?: number } };
      filtered += page.resource.length;
      next = page.meta.next;
    }
    line("filtered pages (grp=7, inactive)", filtered, performance.now() - t0);

    t0 = performance.now();
    const count = await api(
      "GET",
      `db/_table/bench?count_only=true&filter=${encodeURIComponent("score > 1000")}`,
    );
    console.log(`count_only with filter: ${count} in ${(performance.now() - t0).toFixed(1)} ms`);

    t0 = performance.now();
    const unpaged = await api("GET", "db/_table/bench") as {
      resource: unknown[];
      meta: Record<string, number>;
    };
    line(
      `no limit (server cap, meta.next=${unpaged.meta.next})`,
      unpaged.resource.length,
      performance.now() - t0,
    );

    const { peak } = rssKiB();
    console.log(
      `sandbox peak RSS: ${mb(Math.max(peak, sampledPeak))} MiB (VmHWM), sampled ${
        mb(sampledPeak)
      } MiB`,
    );
  } finally {
    clearInterval(sampler);
    child.kill();
    await child.status;
    await reader.cancel().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

/** In-process benchmarks of the handler for `deno bench` (no HTTP, no subprocess). */
function registerBenches(): void {
  const handler = createSqliteService(
    { id: 2, name: "db", type: "sqlite", is_active: true, config: {} },
    { dataDir: null, maxRecords: 1000 },
  );
  const ready = call(handler, "POST", "_schema", {
    body: {
      resource: [{
        name: "bench",
        field: [
          { name: "id", type: "id" },
          { name: "name", type: "string" },
          { name: "grp", type: "integer" },
          { name: "active", type: "boolean" },
        ],
      }],
    },
  });
  const batch = Array.from({ length: 1000 }, (_, n) => ({
    name: `row ${n}`,
    grp: n % 100,
    active: n % 2 === 0,
  }));
  Deno.bench("db service: insert a batch of 1,000 rows", async () => {
    await ready;
    await call(handler, "POST", "_table/bench", { body: { resource: batch } });
  });
  Deno.bench("db service: read a 1,000-row page", async () => {
    await ready;
    await call(handler, "GET", "_table/bench?limit=1000&offset=1000");
  });
  Deno.bench("db service: filtered page with count", async () => {
    await ready;
    await call(handler, "GET", "_table/bench?filter=grp%3D7&include_count=true&limit=100");
  });
}

if (import.meta.main) await main();
else registerBenches();
