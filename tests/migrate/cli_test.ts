/**
 * `scripts/migrate.ts` as a CI job runs it: snapshot to a file, plan as JSON, apply, and drift
 * with its exit codes (0 match, 2 drifted, 1 error).
 */
import assert from "node:assert/strict";
import { connect } from "../../lib/client.ts";
import { type Sandbox, startSandbox } from "../../lib/sandbox/mod.ts";
import { startFaultProxy } from "../provision/helpers.ts";
import { childEnv, followStderr } from "../scripts/helpers.ts";
import { writeProfiles } from "../client/helpers.ts";

const SCRIPT = new URL("../../scripts/migrate.ts", import.meta.url).pathname;
const CONFIG = new URL("../../deno.json", import.meta.url).pathname;

async function cli(env: Record<string, string>, ...args: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", CONFIG, "-A", SCRIPT, ...args],
    // Only these settings: no DF_* or DFKIT_* of the shell reaches it.
    env: childEnv(env),
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/** A profiles file naming sandbox `a` "staging" and `b` "prod" (password from TEST_PW). */
function stagingAndProd(dir: string, a: Sandbox, b: Sandbox): Promise<string> {
  const entry = (sb: Sandbox) => ({ url: sb.url, email: sb.admin.email, password: "env:TEST_PW" });
  return writeProfiles(dir, { staging: entry(a), prod: entry(b) });
}

Deno.test("migrate CLI: snapshot, plan --json, apply, drift exit codes", async () => {
  const staging = await startSandbox({ port: 0 });
  const prod = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  const as = (sb: typeof staging) => ({
    DF_URL: sb.url,
    DF_EMAIL: sb.admin.email,
    DF_PASSWORD: sb.admin.password,
  });
  try {
    const df = await connect({ url: staging.url, ...staging.admin });
    await df.request("POST", "system/role", {
      body: { resource: [{ name: "reader", description: "r", is_active: true }] },
    });
    await df.logout();

    // An output folder that does not exist: named, in one sentence.
    const nowhere = await cli(as(staging), "snapshot", "-o", `${dir}/nonexistent/x.json`);
    assert.equal(nowhere.code, 1);
    assert.equal(
      nowhere.stderr,
      `error: cannot write snapshot ${dir}/nonexistent/x.json: the folder ${dir}/nonexistent ` +
        "does not exist (create it first)\n",
    );

    const snap = await cli(as(staging), "snapshot", "-o", `${dir}/staging.json`);
    assert.equal(snap.code, 0, snap.stderr);
    assert.match(snap.stderr, /Wrote .*staging\.json/);

    const planned = await cli(
      as(prod),
      "--json",
      "plan",
      "--snapshot",
      `${dir}/staging.json`,
      "-o",
      `${dir}/p.json`,
    );
    assert.equal(planned.code, 0, planned.stderr);
    const plan = JSON.parse(planned.stdout);
    assert.deepEqual(
      plan.changes.filter((c: { action: string }) => c.action === "create").map((
        c: { name: string },
      ) => c.name),
      ["reader"],
    );

    const applied = await cli(as(prod), "apply", "--plan", `${dir}/p.json`);
    assert.equal(applied.code, 0, applied.stderr);
    assert.match(applied.stdout, /Applied 1 change\(s\) with 1 write request/);

    assert.equal((await cli(as(prod), "snapshot", "-o", `${dir}/prod.json`)).code, 0);
    const clean = await cli(as(prod), "drift", "--snapshot", `${dir}/prod.json`);
    assert.equal(clean.code, 0, clean.stderr);
    assert.match(clean.stdout, /No drift/);

    const pdf = await connect({ url: prod.url, ...prod.admin });
    await pdf.request("POST", "system/lookup", { body: { resource: [{ name: "x", value: "1" }] } });
    const [reader] = await pdf.system.role.where("name", "=", "reader").fields("id");
    await pdf.request("DELETE", `system/role/${reader.id}`);
    await pdf.logout();
    const drifted = await cli(as(prod), "drift", "--snapshot", `${dir}/prod.json`);
    assert.equal(drifted.code, 2, drifted.stderr);
    // Said as what differs on the instance, never as actions ("to delete") to take.
    assert.match(drifted.stdout, /\+ lookups\/x {2}\(only on the instance\)/);
    assert.match(drifted.stdout, /- roles\/reader {2}\(missing on the instance\)/);
    assert.match(
      drifted.stdout,
      /1 missing on the instance, 1 only on the instance, 0 changed on the instance, \d+ unchanged\./,
    );
    assert.doesNotMatch(drifted.stdout, /to (create|update|delete)/);
    // plan, the other way, would restore what is missing by creating it.
    const restore = await cli(as(prod), "plan", "--snapshot", `${dir}/prod.json`);
    assert.match(restore.stdout, /\+ roles\/reader\n/);
    assert.match(restore.stdout, /1 to create/);

    const broken = await cli(as(prod), "drift", "--snapshot", `${dir}/missing.json`);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /error: .*missing\.json/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await staging.close();
    await prod.close();
  }
});

Deno.test("migrate CLI: copy-schema and copy-data between two profiles", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const profiles = await stagingAndProd(dir, a, b);
    const env = { DFKIT_PROFILES: profiles, TEST_PW: a.admin.password, DF_URL: "" };
    const df = await connect({ url: a.url, ...a.admin });
    await df.request("POST", "db/_schema", {
      body: {
        resource: [{
          name: "note",
          field: [{ name: "id", type: "id" }, { name: "body", type: "text", allow_null: true }],
        }],
      },
    });
    await df.request("POST", "db/_table/note", {
      body: { resource: Array.from({ length: 45 }, (_, i) => ({ body: `note ${i}` })) },
    });
    await df.logout();

    const schema = await cli(
      env,
      "copy-schema",
      "--from",
      "staging",
      "--to",
      "prod",
      "--source-db",
      "db",
      "--target-db",
      "db",
    );
    assert.equal(schema.code, 0, schema.stderr);
    assert.match(schema.stdout, /Created tables: note/);

    const data = await cli(
      env,
      "--json",
      "copy-data",
      "--from",
      "staging",
      "--to",
      "prod",
      "--source-db",
      "db",
      "--target-db",
      "db",
      "--table",
      "note",
      "--batch-size",
      "10",
      "--checkpoint",
      `${dir}/note.ckpt`,
    );
    assert.equal(data.code, 0, data.stderr);
    const report = JSON.parse(data.stdout);
    assert.equal(report.rows, 45);
    assert.equal(report.batches, 5);
    assert.equal(report.verification.ok, true);

    const bad = await cli(
      env,
      "copy-data",
      "--from",
      "staging",
      "--to",
      "prod",
      "--source-db",
      "db",
      "--target-db",
      "db",
      "--table",
      "note",
      "--batch-size",
      "0",
    );
    assert.equal(bad.code, 2, bad.stderr); // a usage mistake, as in the dfkit CLI
    assert.match(bad.stderr, /not a positive integer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await a.close();
    await b.close();
  }
});

Deno.test("migrate CLI: copy-data --key-map of a parent and --remap of its child keep foreign keys right", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const profiles = await stagingAndProd(dir, a, b);
    const env = { DFKIT_PROFILES: profiles, TEST_PW: a.admin.password, DF_URL: "" };
    const tables = [{
      name: "customer",
      field: [{ name: "id", type: "id" }, { name: "name", type: "string", allow_null: false }],
    }, {
      name: "purchase",
      field: [
        { name: "id", type: "id" },
        {
          name: "customer_id",
          type: "reference",
          ref_table: "customer",
          ref_field: "id",
          allow_null: true,
        },
        { name: "note", type: "string" },
      ],
    }];
    const df = await connect({ url: a.url, ...a.admin });
    const prod = await connect({ url: b.url, ...b.admin });
    try {
      await df.request("POST", "db/_schema", { body: { resource: tables } });
      await df.request("POST", "db/_table/customer", {
        body: { resource: Array.from({ length: 25 }, (_, i) => ({ name: `c${i + 1}` })) },
      });
      await df.request("POST", "db/_table/purchase", {
        body: {
          resource: [3, 25, 3, 17, null].map((c, i) => ({ customer_id: c, note: `p${i}` })),
        },
      });
      // The target has customers of its own: the copies get other ids than in the source.
      await prod.request("POST", "db/_schema", { body: { resource: tables } });
      await prod.request("POST", "db/_table/customer", {
        body: { resource: [{ name: "own 1" }, { name: "own 2" }, { name: "own 3" }] },
      });
      const common = [
        "--from",
        "staging",
        "--to",
        "prod",
        "--source-db",
        "db",
        "--target-db",
        "db",
      ];
      const keys = `${dir}/customer.keys.json`;
      const parent = await cli(
        env,
        "copy-data",
        ...common,
        "--table",
        "customer",
        "--batch-size",
        "10",
        "--checkpoint",
        `${dir}/customer.ckpt`,
        "--key-map",
        keys,
        "--no-verify",
      );
      assert.equal(parent.code, 0, parent.stderr);
      assert.match(parent.stdout, /Wrote key map .*customer\.keys\.json \(25 pair\(s\)\)/);
      const file = JSON.parse(await Deno.readTextFile(keys));
      assert.equal(file.format, "dfkit.key-map/v1");
      assert.equal(file.target, `${prod.url} db/customer`);
      assert.deepEqual(file.pairs[0], [1, 4]);
      assert.equal(file.pairs.length, 25);

      const child = await cli(
        env,
        "--json",
        "copy-data",
        ...common,
        "--table",
        "purchase",
        "--remap",
        `customer_id=${keys}`,
      );
      assert.equal(child.code, 0, child.stderr);
      assert.equal(JSON.parse(child.stdout).verification.ok, true);
      const purchases = await prod.request<{ resource: Record<string, unknown>[] }>(
        "GET",
        "db/_table/purchase",
        { query: { related: "customer_by_customer_id", order: "id ASC" } },
      );
      assert.deepEqual(
        purchases.resource.map((p) =>
          (p.customer_by_customer_id as Record<string, unknown> | null)?.name ?? null
        ),
        ["c3", "c25", "c3", "c17", null],
      );

      // Key map files that cannot be used: said in one sentence, before connecting.
      const remap = (arg: string) =>
        cli(env, "copy-data", ...common, "--table", "purchase", "--remap", arg);
      const missing = await remap(`customer_id=${dir}/nope.json`);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--remap .*nope\.json does not exist/);
      await Deno.writeTextFile(
        `${dir}/broken.json`,
        '{"format": "dfkit.key-map/v1",\n  "pairs": [1,]}',
      );
      const broken = await remap(`customer_id=${dir}/broken.json`);
      assert.equal(broken.code, 1);
      assert.match(broken.stderr, /key map .*broken\.json is not valid JSON: line 2, column \d+/);
      await Deno.writeTextFile(`${dir}/other.json`, '{"format": "dfkit.copy-checkpoint/v1"}');
      const other = await remap(`customer_id=${dir}/other.json`);
      assert.equal(other.code, 1);
      assert.match(
        other.stderr,
        /other\.json is not a dfkit key map \(format dfkit\.key-map\/v1\)/,
      );
      const noColumn = await remap(keys);
      assert.equal(noColumn.code, 2);
      assert.match(noColumn.stderr, /is not <column>=<key map file>/);
    } finally {
      await df.logout();
      await prod.logout();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await a.close();
    await b.close();
  }
});

Deno.test("migrate CLI: Ctrl-C during copy-data stops cleanly (exit 130) and says how to resume", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const df = await connect({ url: a.url, ...a.admin });
    const note = {
      name: "note",
      field: [{ name: "id", type: "id" }, { name: "body", type: "text", allow_null: true }],
    };
    await df.request("POST", "db/_schema", { body: { resource: [note] } });
    for (let i = 0; i < 4; i++) {
      await df.request("POST", "db/_table/note", {
        body: { resource: Array.from({ length: 5000 }, (_, k) => ({ body: `note ${i}-${k}` })) },
      });
    }
    const dst = await connect({ url: b.url, ...b.admin });
    await dst.request("POST", "db/_schema", { body: { resource: [note] } });
    await df.logout();
    await dst.logout();
    const profiles = await stagingAndProd(dir, a, b);
    const copy = [
      "copy-data",
      ...["--from", "staging", "--to", "prod", "--source-db", "db", "--target-db", "db"],
      ...["--table", "note", "--batch-size", "50", "--concurrency", "1"],
      ...["--checkpoint", `${dir}/note.ckpt`],
    ];
    const env = { DFKIT_PROFILES: profiles, TEST_PW: a.admin.password, DF_URL: "" };
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", SCRIPT, ...copy],
      env,
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    // Interrupt once the checkpoint shows committed batches (it is written before the first
    // row moves too: its mere presence is not enough, and the handler may not be installed yet).
    const committed = async () => {
      try {
        return JSON.parse(await Deno.readTextFile(`${dir}/note.ckpt`)).rows > 0;
      } catch {
        return false; // not there yet
      }
    };
    for (let i = 0; i < 400 && !(await committed()); i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGINT");
    const out = await child.output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 130, stderr);
    assert.match(stderr, /Interrupted after \d+ row\(s\)\. Run the same command \(--checkpoint /);
    assert.doesNotMatch(stderr, /^\s+at /m);
    // The batch in flight was waited for and recorded: the same command resumes and completes.
    const again = await cli(env, ...copy);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /resumed after \d+/);
    assert.match(again.stdout, /Verification OK: 20000 source \/ 20000 target rows/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await a.close();
    await b.close();
  }
});

Deno.test("migrate CLI: usage mistakes exit 2 (as in the dfkit CLI), but 1 in drift", async () => {
  const env = { DF_URL: "http://127.0.0.1:1", DF_EMAIL: "a@x.com", DF_PASSWORD: "x" };
  const cases: [string[], number, RegExp][] = [
    [["apply"], 2, /give exactly one of --plan <file> or --snapshot <path>/],
    [["apply", "--plan", "p.json", "--snapshot", "s.json"], 2, /exactly one of/],
    [["plan"], 2, /--snapshot <path>' not specified/],
    [["plan", "--snapshot", "/nonexistent/s.json"], 2, /--snapshot .*s\.json does not exist/],
    [["apply", "--plan", "/nonexistent/p.json"], 2, /--plan .*p\.json does not exist/],
    [["snapshot", "--split"], 2, /--split needs --out <folder>/],
    [["plan", "--snapshot", "s.json", "--bogus"], 2, /unknown option '--bogus'/],
    [["bogus"], 2, /unknown command 'bogus'/],
    [["drift", "--snapshot", "s.json", "--bogus"], 1, /unknown option '--bogus'/],
    [["drift"], 1, /--snapshot <path>' not specified/],
    [["drift", "--snapshot", "/nonexistent/s.json"], 1, /--snapshot .*s\.json does not exist/],
    // an option's value before the command does not hide it
    [["--profile", "prod", "drift", "--snapshot", "s.json", "--bogus"], 1, /unknown option/],
  ];
  for (const [args, code, message] of cases) {
    const r = await cli(env, ...args);
    assert.equal(r.code, code, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(" "));
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
  assert.equal((await cli(env, "--help")).code, 0);
  assert.equal((await cli(env, "plan", "--help")).code, 0);
});

Deno.test("migrate CLI: a plan that is a folder is named in one sentence, not the OS text", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const env = { DF_URL: "http://127.0.0.1:1", DF_EMAIL: "a@x.com", DF_PASSWORD: "x" };
    const r = await cli(env, "apply", "--plan", dir);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `error: cannot read plan ${dir}: it is a folder\n`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrate CLI: a second Ctrl-C during copy-data quits at once, saying what it leaves", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  // The target behind a proxy whose writes hang once `hold` is set (a server too slow to wait for).
  const proxy = startFaultProxy(b.url);
  let release = () => {};
  const held = new Promise<void>((r) => release = r);
  let hold = false, holding = false;
  proxy.state.onWrite = (_method, path) => {
    if (!hold || !path.includes("_table")) return Promise.resolve();
    holding = true;
    return held;
  };
  const dir = await Deno.makeTempDir();
  try {
    const note = {
      name: "note",
      field: [{ name: "id", type: "id" }, { name: "body", type: "text", allow_null: true }],
    };
    const df = await connect({ url: a.url, ...a.admin });
    await df.request("POST", "db/_schema", { body: { resource: [note] } });
    await df.request("POST", "db/_table/note", {
      body: { resource: Array.from({ length: 2000 }, (_, k) => ({ body: `note ${k}` })) },
    });
    await df.logout();
    const dst = await connect({ url: b.url, ...b.admin });
    await dst.request("POST", "db/_schema", { body: { resource: [note] } });
    await dst.logout();
    const entry = (url: string) => ({ url, email: a.admin.email, password: "env:TEST_PW" });
    const profiles = await writeProfiles(dir, { staging: entry(a.url), prod: entry(proxy.url) });
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        ...["run", "--config", CONFIG, "-A", SCRIPT, "copy-data", "--from", "staging"],
        ...["--to", "prod", "--source-db", "db", "--target-db", "db", "--table", "note"],
        ...["--batch-size", "50", "--concurrency", "1", "--checkpoint", `${dir}/note.ckpt`],
      ],
      env: { DFKIT_PROFILES: profiles, TEST_PW: a.admin.password, DF_URL: "" },
      stdout: "null",
      stderr: "piped",
    }).spawn();
    // A CLI that does not react would wait for the held write forever: give up after 20 s.
    const stderr = followStderr(child, 20);
    for (let i = 0; i < 400 && proxy.state.writes < 3; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    hold = true; // the next write hangs
    for (let i = 0; i < 400 && !holding; i++) {
      await new Promise((r) => setTimeout(r, 25));
    }
    child.kill("SIGINT");
    await stderr.until(/Stopping after the batches in flight \(Ctrl-C again/);
    child.kill("SIGINT");
    await stderr.until(/Quit without waiting/);
    const code = await stderr.exit();
    assert.equal(code, 130, stderr.text);
    assert.match(stderr.text, /the target may hold rows the checkpoint does not count/);
    assert.doesNotMatch(stderr.text, /^\s+at /m);
  } finally {
    release();
    await Deno.remove(dir, { recursive: true });
    await proxy.close();
    await a.close();
    await b.close();
  }
});

Deno.test("migrate CLI: --from/--to profiles with an unset env: password ask for it (no terminal: exit 2)", async () => {
  const a = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    // As `dfkit login --save` writes profiles: the password named, never stored.
    const entry = { url: a.url, email: a.admin.email, password: "env:STAGING_PW" };
    const profiles = await writeProfiles(dir, { staging: entry, prod: entry });
    const env = { DFKIT_PROFILES: profiles, DF_URL: "", STAGING_PW: "" };
    const args = ["copy-schema", "--from", "staging", "--to", "prod"];
    const asked = await cli(env, ...args, "--source-db", "db", "--target-db", "db");
    assert.equal(asked.code, 2, asked.stderr);
    assert.match(asked.stderr, /no terminal to ask on: set STAGING_PW/);
    assert.doesNotMatch(asked.stderr, /put the value in the profile/);
    // With the variable set, the same command runs.
    const set = await cli(
      { ...env, STAGING_PW: a.admin.password },
      ...args,
      "--source-db",
      "db",
      "--target-db",
      "db",
    );
    assert.equal(set.code, 0, set.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await a.close();
  }
});

Deno.test("migrate CLI: without --profile, DF_PROFILE or the file's default is used, its unset env: password asked for once (no terminal: exit 2)", async () => {
  const a = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const entry = { url: a.url, email: a.admin.email, password: "env:A_PW" };
    const profiles = await writeProfiles(dir, { a: entry, b: { ...entry, password: "env:B_PW" } }, {
      default: "a",
    });
    const env = { DFKIT_PROFILES: profiles, DF_URL: "", A_PW: "", B_PW: "" };
    const dbs = ["--source-db", "db", "--target-db", "db"];
    const message = (variable: string) =>
      `error: A password is needed and there is no terminal to ask on: set ${variable} ` +
      `(export ${variable}=...; passwords are never taken from the command line).\n`;
    // The source and the target are both the default profile: one message, not a
    // ProfileVariableError (exit 1).
    for (const args of [["copy-schema", ...dbs], ["copy-data", ...dbs, "--table", "t"]]) {
      const asked = await cli(env, ...args);
      assert.equal(asked.code, 2, asked.stderr);
      assert.equal(asked.stderr, message("A_PW"));
    }
    const snap = await cli(env, "snapshot", "-o", `${dir}/s.json`);
    assert.equal(snap.code, 2, snap.stderr);
    assert.equal(snap.stderr, message("A_PW"));
    // DF_PROFILE names the profile instead of the default.
    const named = await cli({ ...env, DF_PROFILE: "b" }, "copy-schema", ...dbs);
    assert.equal(named.code, 2, named.stderr);
    assert.equal(named.stderr, message("B_PW"));
    // With the variable set, the default profile connects.
    const set = await cli({ ...env, A_PW: a.admin.password }, "copy-schema", ...dbs);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /Created tables: none/);
  } finally {
    await Deno.remove(dir, { recursive: true });
    await a.close();
  }
});

Deno.test("migrate CLI: copy-schema/copy-data end the source's session when the target cannot be opened", async () => {
  const a = await startSandbox({ port: 0 });
  // The source behind a proxy that records the calls it forwards.
  const seen: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    seen.push(`${req.method} ${url.pathname}`);
    const headers = new Headers(req.headers);
    headers.delete("host");
    const res = await fetch(`${a.url}${url.pathname}${url.search}`, {
      method: req.method,
      headers,
      body: req.body ? await req.arrayBuffer() : undefined,
    });
    return new Response(await res.arrayBuffer(), { status: res.status, headers: res.headers });
  });
  const dir = await Deno.makeTempDir();
  try {
    const entry = (url: string, pw: string) => ({ url, email: a.admin.email, password: pw });
    const profiles = await writeProfiles(dir, {
      staging: entry(`http://127.0.0.1:${proxy.addr.port}`, "env:TEST_PW"),
      prod: entry(a.url, "env:PROD_PW"), // unset, and no terminal to ask on
    });
    const env = {
      DFKIT_PROFILES: profiles,
      DF_URL: "",
      TEST_PW: a.admin.password,
      PROD_PW: "",
    };
    const common = ["--from", "staging", "--to", "prod", "--source-db", "db", "--target-db", "db"];
    for (const args of [["copy-schema", ...common], ["copy-data", ...common, "--table", "t"]]) {
      seen.length = 0;
      const r = await cli(env, ...args);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /set PROD_PW/);
      assert.ok(seen.some((s) => /^POST .*\/session$/.test(s)), `${args[0]}: ${seen}`);
      assert.ok(seen.some((s) => /^DELETE .*\/session$/.test(s)), `${args[0]}: no logout: ${seen}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
    await proxy.shutdown();
    await a.close();
  }
});

Deno.test("migrate CLI: plan and drift read the snapshot before asking for a password", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.json`, "{not json");
    // No password and no terminal: a password question would be exit 2 "set DF_PASSWORD".
    const env = { DF_URL: "http://127.0.0.1:1", DF_EMAIL: "a@x.com", DF_PASSWORD: "" };
    for (const command of ["plan", "drift"]) {
      const r = await cli(env, command, "--snapshot", `${dir}/bad.json`);
      assert.equal(r.code, 1, `${command}: ${r.stderr}`);
      assert.match(r.stderr, /bad\.json is not valid JSON/, command);
      assert.doesNotMatch(r.stderr, /password/i, command);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("migrate CLI: a profile's unset env: variable for a key is a usage mistake (2; 1 in drift)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const profiles = await writeProfiles(dir, {
      k: { url: "http://127.0.0.1:9", apiKey: "env:UNSET_KEY_9" },
    });
    const env = { DFKIT_PROFILES: profiles, UNSET_KEY_9: "" };
    const snap = await cli(env, "snapshot", "--profile", "k");
    assert.equal(snap.code, 2, snap.stderr);
    assert.match(snap.stderr, /UNSET_KEY_9/);
    await Deno.writeTextFile(`${dir}/s.json`, "{}");
    const drift = await cli(env, "drift", "--profile", "k", "--snapshot", `${dir}/s.json`);
    assert.equal(drift.code, 1, drift.stderr);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
