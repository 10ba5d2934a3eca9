/**
 * Client overhead benchmark. Prints, in one run:
 * - the per-request cost of `await builder.page()` (builder + client: URL building, filter
 *   canonicalisation, auth headers, envelope parsing, record marking) against a bare `fetch` of
 *   the very same URL with the same headers on the same sandbox, as a ratio (target <= 1.10,
 *   with the sandbox in its own process, as a real server runs; the same rows with the sandbox
 *   in-process are printed as a diagnostic: there, any code run between requests slows the next
 *   exchange far beyond its own CPU time, as the two reference rows show);
 * - the cost of importing `mod.ts` in a fresh Deno process.
 *
 * Run: deno run -A bench/client_bench.ts   (or: deno task bench, which runs it via deno bench)
 */
import { startSandbox } from "../lib/sandbox/mod.ts";
import { connect, type Query, type Role } from "../lib/client.ts";

const ROUNDS = Number(Deno.env.get("ROUNDS") ?? 1000);

/** 200 distinct one-line functions: a lot of code, little CPU (see the footprint reference). */
const SMALL_FUNCTIONS = Array.from(
  { length: 200 },
  (_, k) =>
    new Function(
      "x",
      `let y = x + ${k}; if (y % 3 === ${k % 3}) y += ${k * 7}; return (y * ${k + 1}) % 1000003;`,
    ) as (x: number) => number,
);

interface Overhead {
  label: string;
  bare: number;
  client: number;
  ratio: number;
  /** Ratio of median single-request latencies, requests interleaved one by one. */
  perRequest: number;
}

interface BenchSandbox {
  url: string;
  admin: { email: string; password: string };
  close(): Promise<void>;
}

/** The sandbox in its own process: the client's cost is then not mixed with the server's CPU
 * on the same thread (what a real deployment looks like). */
async function remoteSandbox(): Promise<BenchSandbox> {
  const modUrl = new URL("../lib/sandbox/mod.ts", import.meta.url).href;
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `import { startSandbox } from ${JSON.stringify(modUrl)};
       const sb = await startSandbox({ port: 0 });
       console.log(JSON.stringify({ url: sb.url, admin: sb.admin }));
       for await (const _ of Deno.stdin.readable) { /* until the parent closes stdin */ }
       await sb.close();`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the sandbox process exited early");
    text += value;
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  const info = JSON.parse(text.split("\n")[0]);
  return {
    ...info,
    async close() {
      await child.stdin.close();
      await child.status;
    },
  };
}

async function overhead(where: "in-process" | "own process"): Promise<Overhead[]> {
  const sb: BenchSandbox = where === "in-process"
    ? await startSandbox({ port: 0 })
    : await remoteSandbox();
  try {
    const login = await fetch(`${sb.url}/api/v2/system/admin/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(sb.admin),
    });
    const token: string = (await login.json()).session_token;
    const df = await connect({ url: sb.url, sessionToken: token });
    await df.system.role.create(
      Array.from({ length: 20 }, (_, i) => ({ name: `role${i}`, is_active: true })),
    );
    const untimed = await connect({ url: sb.url, sessionToken: token, timeout: 0 });
    const variants: [string, (i: number) => Query<Role>][] = [
      // the same with per-call timeouts off: what the timeout timer and signal cost
      ["no filter, timeout off", () => untimed.system.role.fields("id", "name").limit(20)],
      // no filter: the client's own cost (URL, headers, auth check, envelope, record marking)
      ["no filter", () => df.system.role.fields("id", "name").limit(20)],
      // the same filter string each time (what a loop in a script does)
      [
        "filter string",
        () => df.system.role.filter("name like 'role%'").fields("id", "name").limit(20),
      ],
      // a value that changes every time: the filter is built and printed on every call
      [
        "where(), fresh value",
        (i) =>
          df.system.role.where("name", "like", `role%${"%".repeat(i % 2)}`).fields("id", "name")
            .limit(20),
      ],
    ];
    const out: Overhead[] = [];
    const runners = variants.map(([label, query]) => {
      const req = query(0).toRequest();
      const headers = { ...req.headers, "X-DreamFactory-Session-Token": token };
      const urls = [req.url, query(1).toRequest().url];
      const bare = async (i: number) => {
        const res = await fetch(urls[i % 2], { headers });
        const body = await res.json();
        if (body.resource.length !== 20) throw new Error("bare fetch: unexpected answer");
      };
      const client = async (i: number) => {
        const page = await query(i).page();
        if (page.records.length !== 20) throw new Error("client: unexpected answer");
      };
      return { label, bare, client };
    });
    // The noise floor of this run: bare fetch against itself, measured the same way.
    const control = runners[1].bare;
    // A reference, not the client: the same bare fetch with its URL built the way hand-written
    // fetch code builds it (URL + searchParams). With the sandbox in-process, any JS run between
    // requests slows the next exchange well beyond that code's own CPU time (measured: a
    // canned-answer `page()`, ~2 us of CPU, put before a bare fetch costs ~10%); this row shows
    // how much of the ratio that effect alone explains.
    const refHeaders = { Accept: "application/json", "X-DreamFactory-Session-Token": token };
    const handWritten = async () => {
      const u = new URL("/api/v2/system/role", sb.url);
      u.searchParams.set("fields", "id,name");
      u.searchParams.set("limit", "20");
      u.searchParams.set("include_count", "true");
      const res = await fetch(u, { headers: refHeaders });
      const body = await res.json();
      if (body.resource.length !== 20) throw new Error("hand-written fetch: unexpected answer");
    };
    // A second reference: 200 distinct one-line functions (about 1.5 us of CPU, no allocation,
    // no I/O) run before the same bare fetch. It isolates the effect above: what slows the next
    // exchange is how much distinct code runs between requests, not how long it runs.
    let sink = 0;
    const footprint = async (i: number) => {
      let x = i;
      for (const f of SMALL_FUNCTIONS) x = f(x);
      sink += x;
      await control(i);
    };
    runners.unshift(
      { label: "control, bare fetch vs itself", bare: control, client: control },
      {
        label: "reference, hand-written URL building",
        bare: control,
        client: handWritten,
      },
      {
        label: "reference, 200 small functions before a bare fetch",
        bare: control,
        client: footprint,
      },
    );
    for (const r of runners) {
      for (let i = 0; i < 200; i++) {
        await r.bare(i);
        await r.client(i);
      }
    }
    const block = async (fn: (i: number) => Promise<void>, from: number) => {
      const t = performance.now();
      for (let j = 0; j < 20; j++) await fn(from + j);
      return performance.now() - t;
    };
    const timed = async (fn: (i: number) => Promise<void>, i: number) => {
      const t = performance.now();
      await fn(i);
      return performance.now() - t;
    };
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1];
    for (const { label, bare, client } of runners) {
      // Estimator 1: small blocks in alternating order (ABBA) so drift, GC and other load hit
      // both sides alike; the ratio is the median over block pairs, robust to the odd slow block.
      const ratios: number[] = [];
      let tBare = 0, tClient = 0;
      for (let i = 0; i < ROUNDS; i += 20) {
        let b: number, c: number;
        if ((i / 20) % 2) {
          c = await block(client, i);
          b = await block(bare, i);
        } else {
          b = await block(bare, i);
          c = await block(client, i);
        }
        tBare += b;
        tClient += c;
        ratios.push(c / b);
      }
      // Estimator 2: single requests, interleaved one by one (order swapped every pair); the
      // ratio of the median latencies, which a burst of load on the machine cannot move much.
      const bs: number[] = [], cs: number[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 2) {
          cs.push(await timed(client, i));
          bs.push(await timed(bare, i));
        } else {
          bs.push(await timed(bare, i));
          cs.push(await timed(client, i));
        }
      }
      out.push({
        label,
        bare: tBare / ROUNDS,
        client: tClient / ROUNDS,
        ratio: median(ratios),
        perRequest: median(cs) / median(bs),
      });
    }
    if (sink === 0.5) console.log(sink); // keeps the small functions' work observable
    return out;
  } finally {
    await sb.close();
  }
}

/** Diagnostic: the client's own CPU per call, with the answer handed over in-process (no
 * network, no server), so machine load cannot hide it. */
async function clientCpu(): Promise<number> {
  const body = JSON.stringify({
    resource: Array.from({ length: 20 }, (_, i) => ({ id: i, name: `role${i}` })),
    meta: { count: 20 },
  });
  const canned = (() =>
    Promise.resolve(
      new Response(body, { headers: { "Content-Type": "application/json" } }),
    )) as typeof fetch;
  const df = await connect({ url: "http://127.0.0.1:9", apiKey: "k".repeat(64), fetch: canned });
  const q = () => df.system.role.fields("id", "name").limit(20);
  const bare = async () => (await canned("http://127.0.0.1:9")).json();
  for (let i = 0; i < 3000; i++) await q().page();
  const n = 20000;
  let t = performance.now();
  for (let i = 0; i < n; i++) await q().page();
  const client = performance.now() - t;
  t = performance.now();
  for (let i = 0; i < n; i++) await bare();
  return ((client - (performance.now() - t)) / n) * 1000;
}

async function importCost(): Promise<{ inProcess: number; wall: number; wallEmpty: number }> {
  const modUrl = new URL("../mod.ts", import.meta.url).href;
  const run = async (code: string) => {
    const t = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["eval", code],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    return { wall: performance.now() - t, printed: Number(new TextDecoder().decode(out.stdout)) };
  };
  const inProcess: number[] = [];
  const wall: number[] = [];
  const wallEmpty: number[] = [];
  for (let i = 0; i < 5; i++) {
    const r = await run(
      `const t=performance.now(); await import(${JSON.stringify(modUrl)}); ` +
        `console.log(performance.now()-t)`,
    );
    inProcess.push(r.printed);
    wall.push(r.wall);
    wallEmpty.push((await run("console.log(0)")).wall);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { inProcess: median(inProcess), wall: median(wall), wallEmpty: median(wallEmpty) };
}

if (import.meta.main) {
  for (const where of ["own process", "in-process"] as const) {
    console.log(`sandbox ${where}:`);
    for (const o of await overhead(where)) {
      const extra = ((o.client - o.bare) * 1000).toFixed(0);
      console.log(
        `  ${o.label}: bare fetch ${o.bare.toFixed(3)} ms, builder+client ` +
          `${o.client.toFixed(3)} ms (mean difference ${extra} us); ratio: block median ` +
          `${o.ratio.toFixed(3)}, per-request median ${o.perRequest.toFixed(3)}` +
          `${
            /^(control|reference)/.test(o.label)
              ? ""
              : where === "own process"
              ? " (target <= 1.10)"
              : " (diagnostic: client and server code share one thread)"
          }, ` +
          `${ROUNDS}+${ROUNDS} requests each`,
      );
    }
  }
  console.log(
    `client CPU per call over bare fetch+json (canned answer, no network): ` +
      `${(await clientCpu()).toFixed(1)} us`,
  );
  const i = await importCost();
  console.log(
    `import mod.ts: ${i.inProcess.toFixed(1)} ms inside a fresh process; process wall time ` +
      `${i.wall.toFixed(0)} ms vs ${i.wallEmpty.toFixed(0)} ms for an empty script (median of 5)`,
  );
}
