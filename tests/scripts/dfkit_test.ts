import assert from "node:assert/strict";
import type { Command } from "commander";
import { type Sandbox, startSandbox } from "../../lib/sandbox/mod.ts";
import { connect } from "../../lib/client.ts";
import { displayReady } from "../../lib/display.ts";
import {
  buildProgram,
  connectOptions,
  maskSecrets,
  overflowHint,
  parseTarget,
  printResult,
  reportError,
} from "../../scripts/dfkit.ts";
import {
  assertNoSecrets,
  childEnv,
  followStderr,
  HAS_PYTHON,
  onPty,
  readerKey,
  ROOT,
  runDeno,
  taskFlags,
} from "./helpers.ts";
import { startFaultProxy } from "../provision/helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";
import { writeProfiles } from "../client/helpers.ts";

/** The smallest valid snapshot (read before any password is asked for). */
const EMPTY_SNAPSHOT = JSON.stringify({ format: "dfkit.snapshot/v1", sections: [], objects: {} });

const flags = await taskFlags("dfkit");

/** Runs the CLI with exactly the permissions of `deno task dfkit`. */
function dfkit(args: string[], env: Record<string, string> = {}, stdin?: string) {
  return runDeno(["run", ...flags, "scripts/dfkit.ts", ...args], { env, stdin });
}

/** A sandbox and the environment that points the CLI at it as its admin. */
async function withSandbox(
  body: (env: Record<string, string>, url: string, sb: Sandbox) => Promise<void>,
  options: { maxRecords?: number } = {},
): Promise<void> {
  const sb = await startSandbox({ port: 0, ...options });
  try {
    await body(
      { DF_URL: sb.url, DF_EMAIL: sb.admin.email, DF_PASSWORD: sb.admin.password },
      sb.url,
      sb,
    );
  } finally {
    await sb.close();
  }
}

function commandPaths(cmd: Command, prefix: string[] = []): string[][] {
  const out: string[][] = [];
  for (const sub of cmd.commands) {
    const path = [...prefix, sub.name()];
    out.push(path, ...commandPaths(sub, path));
  }
  return out;
}

Deno.test("dfkit --help: every command (mounted recipes too) documents itself and the global options", async () => {
  const paths = [[], ...commandPaths(buildProgram())];
  assert.ok(paths.length >= 10, `expected a full command tree, got ${paths.length}`);
  for (const names of ["login", "whoami", "get", "create", "update", "delete", "curl", "sandbox"]) {
    assert.ok(paths.some((p) => p[0] === names), `no "${names}" command`);
  }
  for (const path of paths) {
    const run = await dfkit([...path, "--help"]);
    const label = ["dfkit", ...path].join(" ");
    assert.equal(run.code, 0, `${label} --help exited ${run.code}: ${run.stderr}`);
    assert.match(run.stdout, new RegExp(`^Usage: ${["dfkit", ...path].join(" ")}\\b`), label);
    for (const opt of ["--profile", "--json", "--help"]) {
      assert.ok(run.stdout.includes(opt), `${label} --help does not mention ${opt}`);
    }
    // Each option once (a mounted recipe's own --json/--profile are the program's here).
    const listed = [...run.stdout.matchAll(/^\s+(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
    assert.deepEqual(listed, [...new Set(listed)], `${label} --help lists an option twice`);
    // Passwords never come from argv: no command offers a password option.
    assert.doesNotMatch(run.stdout, /--(admin-)?password\b/, `${label} takes a password option`);
  }
});

Deno.test("dfkit: a table too wide for the terminal suggests only options its command accepts", () => {
  const program = buildProgram();
  for (const path of commandPaths(program)) {
    let cmd: Command = program;
    for (const name of path) cmd = cmd.commands.find((c) => c.name() === name)!;
    const accepted = new Set<string>();
    for (let c: Command | null = cmd; c; c = c.parent) {
      for (const o of c.options) if (o.long) accepted.add(o.long);
    }
    for (const option of overflowHint(cmd).match(/--[\w-]+/g) ?? []) {
      assert.ok(accepted.has(option), `dfkit ${path.join(" ")} suggests ${option}`);
    }
    assert.doesNotMatch(overflowHint(cmd), /\.fields\(/, "library syntax on the command line");
  }
  const whoami = program.commands.find((c) => c.name() === "whoami")!;
  assert.equal(overflowHint(whoami), "see everything with --json");
  const get = program.commands.find((c) => c.name() === "get")!;
  assert.match(overflowHint(get), /--fields/);
});

Deno.test("dfkit: resource paths name system resources, tables, schema, or raw paths", () => {
  assert.deepEqual(parseTarget("system/user"), { kind: "system", resource: "user", id: undefined });
  assert.deepEqual(parseTarget("/api/v2/system/role/4"), {
    kind: "system",
    resource: "role",
    id: "4",
  });
  assert.deepEqual(parseTarget("db/_table/contact/7"), {
    kind: "table",
    service: "db",
    table: "contact",
    id: "7",
  });
  assert.deepEqual(parseTarget("db/_schema"), { kind: "schema", service: "db", table: undefined });
  assert.deepEqual(parseTarget("system/environment/x/y"), {
    kind: "raw",
    path: "system/environment/x/y",
  });
  // A URL copied from the browser: the path part, and where the host goes instead.
  assert.throws(
    () => parseTarget("http://df.example.com/api/v2/system/user?api_key=k3y-Secret&limit=1"),
    (e: Error) =>
      /Give the path under \/api\/v2 \(system\/user\); the instance goes in --url/.test(
        e.message,
      ) &&
      !e.message.includes("k3y-Secret"),
  );
});

Deno.test("dfkit whoami / get: tables by default, JSON with --json, never a token", async () => {
  await withSandbox(async (env) => {
    const who = await dfkit(["whoami"], env);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /│ http:\/\/127\.0\.0\.1:\d+ │ 1\s+│ admin@example\.com │/);

    const whoJson = await dfkit(["whoami", "--json"], env);
    assert.equal(whoJson.code, 0, whoJson.stderr);
    const me = JSON.parse(whoJson.stdout);
    assert.equal(me.email, "admin@example.com");
    assert.equal(me.session_token, undefined);
    assert.equal(me.session_id, undefined);
    // the same expiry format as `login` (ISO 8601, this machine's clock)
    assert.match(me.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const login = JSON.parse((await dfkit(["login", "--json"], env)).stdout);
    assert.match(login.expires_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    const services = await dfkit(
      ["get", "system/service", "--fields", "id,name,type", "--order", "id"],
      env,
    );
    assert.equal(services.code, 0, services.stderr);
    assert.match(services.stdout, /│ 2\s+│ db\s+│ sqlite │/);

    const json = await dfkit(
      ["--json", "get", "system/service", "--filter", "name like 's%'", "--fields", "id,name"],
      env,
    );
    assert.equal(json.code, 0, json.stderr);
    assert.deepEqual(JSON.parse(json.stdout), [{ id: 1, name: "system" }]);

    const count = await dfkit(["get", "system/app", "--count"], env);
    assert.equal(count.stdout.trim(), "3");

    const one = await dfkit(["get", "system/service/2", "--json"], env);
    assert.equal(JSON.parse(one.stdout).name, "db");

    // API keys are data, but masked unless asked for.
    const apps = await dfkit(["get", "system/app", "--fields", "name,api_key", "--json"], env);
    assert.ok(
      JSON.parse(apps.stdout).every((a: { api_key: string }) => a.api_key === "[REDACTED]"),
    );
    const shown = await dfkit(
      ["get", "system/app", "--fields", "api_key", "--json", "--show-secrets"],
      env,
    );
    assert.match(JSON.parse(shown.stdout)[0].api_key, /^[0-9a-f]{64}$/);

    for (const run of [who, whoJson, services, json, count, one, apps]) {
      assertNoSecrets(run.stdout + run.stderr, [env.DF_PASSWORD]);
    }
  });
});

Deno.test("dfkit create / update / delete change the instance; get --limit walks pages", async () => {
  await withSandbox(async (env, url) => {
    const roles = Array.from({ length: 12 }, (_, i) => ({ name: `r${i}`, is_active: true }));
    const made = await dfkit(
      ["--json", "create", "system/role", "--file", "-", "--chunk", "5", "--fields", "id,name"],
      env,
      JSON.stringify(roles),
    );
    assert.equal(made.code, 0, made.stderr);
    const created = JSON.parse(made.stdout) as { id: number; name: string }[];
    assert.equal(created.length, 12);

    const upd = await dfkit(
      ["update", `system/role/${created[0].id}`, "--data", '{"description":"tier 1"}'],
      env,
    );
    assert.equal(upd.code, 0, upd.stderr);
    const bulk = await dfkit(
      [
        "update",
        "system/role",
        "--data",
        JSON.stringify([{ id: created[1].id, description: "bulk" }]),
      ],
      env,
    );
    assert.equal(bulk.code, 0, bulk.stderr);

    const del = await dfkit(
      ["delete", "system/role", "--ids", `${created[2].id},${created[3].id}`],
      env,
    );
    assert.equal(del.code, 0, del.stderr);

    const df = await connect({ url, email: env.DF_EMAIL, password: env.DF_PASSWORD });
    try {
      assert.equal((await df.system.role.get(created[0].id)).description, "tier 1");
      assert.equal((await df.system.role.get(created[1].id)).description, "bulk");
      assert.equal(await df.system.role.count(), 10);
    } finally {
      await df.logout();
    }

    const limited = await dfkit(
      ["--json", "get", "system/role", "--limit", "7", "--order", "id"],
      env,
    );
    assert.equal(JSON.parse(limited.stdout).length, 7);
  });
});

Deno.test("dfkit tables and schema: db/_table/<t> and db/_schema", async () => {
  await withSandbox(async (env, url) => {
    const df = await connect({ url, email: env.DF_EMAIL, password: env.DF_PASSWORD });
    await df.db("db").schema.create([{
      name: "contact",
      field: [{ name: "id", type: "id" }, { name: "name", type: "string", length: 40 }],
    }]);
    await df.logout();
    const ins = await dfkit(
      ["create", "db/_table/contact", "--data", '[{"name":"Ada"},{"name":"Grace"}]'],
      env,
    );
    assert.equal(ins.code, 0, ins.stderr);
    const list = await dfkit(["get", "db/_schema"], env);
    assert.match(list.stdout, /│ contact │/);
    const rows = await dfkit(
      ["--json", "get", "db/_table/contact", "--filter", "name = 'Grace'", "--fields", "name"],
      env,
    );
    assert.deepEqual(JSON.parse(rows.stdout), [{ name: "Grace" }]);
    const gone = await dfkit(["delete", "db/_table/contact", "--filter", "name = 'Ada'"], env);
    assert.equal(gone.code, 0, gone.stderr);
    const left = await dfkit(["get", "db/_table/contact", "--count"], env);
    assert.equal(left.stdout.trim(), "1");
  });
});

Deno.test("dfkit exit codes: 1 server error, 2 bad usage, 3 partial batch", async () => {
  await withSandbox(async (env) => {
    const missing = await dfkit(["get", "system/role/999"], env);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /error: 404 on GET .*system\/role\/999/);
    const missingDelete = await dfkit(["delete", "system/role/999"], env);
    assert.equal(missingDelete.code, 1, missingDelete.stderr);
    assert.match(
      missingDelete.stderr,
      /error: 404 on DELETE .*Record with identifier '999' not found/,
    );
    const missingUpdate = await dfkit(
      ["update", "system/role/999", "--data", '{"description":"x"}'],
      env,
    );
    assert.equal(missingUpdate.code, 1, missingUpdate.stderr);
    assert.match(
      missingUpdate.stderr,
      /error: 404 on PATCH .*Record with identifier '999' not found/,
    );

    const unknown = await dfkit(["get", "system/role", "--nope"], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown option '--nope'/);

    const badLimit = await dfkit(["get", "system/role", "--limit", "ten"], env);
    assert.equal(badLimit.code, 2);
    assert.match(badLimit.stderr, /--limit must be a whole number/);

    const zero = await dfkit(["get", "system/role", "--limit", "0"], env);
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--limit must be a whole number >= 1/);

    const badFilter = await dfkit(["get", "system/role", "--filter", "name = = 'x'"], env);
    assert.equal(badFilter.code, 2, badFilter.stderr);
    assert.match(badFilter.stderr, /Invalid filter at position/);

    const noScope = await dfkit(["delete", "system/role"], env);
    assert.equal(noScope.code, 2);
    assert.match(noScope.stderr, /Refusing to delete without a scope/);

    const badJson = await dfkit(["create", "system/role", "--data", "{name:"], env);
    assert.equal(badJson.code, 2);
    assert.match(badJson.stderr, /--data is not valid JSON/);
    // where the mistake is, never the text around it (it may be a password)
    const leaky = await dfkit(
      ["create", "system/user", "--data", `{"email":"a@x.com","password":'Hunter2-secret'}`],
      env,
    );
    assert.equal(leaky.code, 2);
    assert.match(leaky.stderr, /--data is not valid JSON \(line 1, column 31\)/);
    assertNoSecrets(leaky.stderr, ["Hunter2-secret"], "JSON error");

    const batch = await dfkit(
      ["create", "system/role", "--continue", "--data", '[{"name":"x"},{"name":"x"},{"name":"y"}]'],
      env,
    );
    assert.equal(batch.code, 3, batch.stderr);
    assert.match(batch.stderr, /#1 failed: /);
    assert.match(batch.stderr, /#0 succeeded \(id \d+\)/);
    assert.match(batch.stderr, /#2 succeeded \(id \d+\)/);

    // Nothing written (one record, or a rollback): a plain failure, exit 1, not "partly".
    const single = await dfkit(["create", "system/role", "--data", '{"name":"x"}'], env);
    assert.equal(single.code, 1, single.stderr);
    assert.match(single.stderr, /batch failed, nothing written/);
    const rolledBack = await dfkit(
      ["create", "system/role", "--rollback", "--data", '[{"name":"z"},{"name":"x"}]'],
      env,
    );
    assert.equal(rolledBack.code, 1, rolledBack.stderr);
    assert.match(rolledBack.stderr, /#0 rolled back/);
    assert.match(rolledBack.stderr, /#1 failed: /);
    // In chunks, a rolled-back chunk undoes only itself: the earlier chunk stays (exit 3).
    const chunkRolledBack = await dfkit([
      "create",
      "system/role",
      "--chunk",
      "2",
      "--rollback",
      "--data",
      '[{"name":"rr1"},{"name":"rr2"},{"name":"rr3"},{"name":"rr1"}]',
    ], env);
    assert.equal(chunkRolledBack.code, 3, chunkRolledBack.stderr);
    assert.match(chunkRolledBack.stderr, /batch partly failed/);
    assert.match(chunkRolledBack.stderr, /#0 succeeded \(id \d+\)/);
    assert.match(chunkRolledBack.stderr, /#2 rolled back/);
    assert.match(chunkRolledBack.stderr, /#3 failed: /);

    // In chunks, positions count in the whole input, and later chunks are "not attempted".
    const chunked = await dfkit([
      "create",
      "system/role",
      "--chunk",
      "2",
      "--data",
      '[{"name":"n1"},{"name":"n2"},{"name":"x"},{"name":"n4"},{"name":"n5"}]',
    ], env);
    assert.equal(chunked.code, 3, chunked.stderr);
    assert.match(chunked.stderr, /#2 failed: /);
    assert.match(chunked.stderr, /#0 succeeded \(id \d+\)/);
    assert.match(chunked.stderr, /#1 succeeded \(id \d+\)/);
    assert.match(chunked.stderr, /not attempted: #3, #4/);
  });
});

Deno.test("dfkit whoami with an API key alone: the services its app's role reaches", async () => {
  await withSandbox(async (env, url) => {
    const key = await readerKey(url, { email: env.DF_EMAIL, password: env.DF_PASSWORD });
    const who = await dfkit(["whoami", "--json"], { DF_URL: url, DF_API_KEY: key });
    assert.equal(who.code, 0, who.stderr);
    assert.deepEqual(JSON.parse(who.stdout), {
      url,
      auth: "API key only",
      services: ["db"],
    });
    assert.equal(who.stderr, "");
    // An unknown key gets no services, and a note that says what that can mean.
    const bad = await dfkit(["whoami"], { DF_URL: url, DF_API_KEY: "0".repeat(64) });
    assert.equal(bad.code, 0, bad.stderr);
    assert.match(bad.stdout, /API key only\s+│ none/);
    assert.match(bad.stderr, /the key is unknown, or its app has no default role/);
    // A call with that key: DreamFactory's "No session token" refusal, with a hint on the key.
    const call = await dfkit(["get", "db/_schema"], { DF_URL: url, DF_API_KEY: "0".repeat(64) });
    assert.equal(call.code, 1, call.stderr);
    assert.match(call.stderr, /400 on GET \S+: No session token \(JWT\) provided\./);
    assert.match(call.stderr, /Hint: this client sends an API key and no session\. The key is/);
    assertNoSecrets(
      who.stdout + who.stderr + bad.stdout + bad.stderr + call.stderr,
      [key, "0".repeat(64)],
    );
  });
});

Deno.test("dfkit credentials: no DF_URL or no password is a usage error, never a hang", async () => {
  // A profiles file without a "default" (the user's own file could name one).
  const dir = await Deno.makeTempDir();
  const none = await dfkit(["whoami"], { DFKIT_PROFILES: await writeProfiles(dir, {}) });
  await Deno.remove(dir, { recursive: true });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /No DreamFactory instance given/);
  await withSandbox(async (env) => {
    // No password and no terminal: told to set DF_PASSWORD (no prompt on a pipe).
    const noPw = await dfkit(["whoami"], { DF_URL: env.DF_URL, DF_EMAIL: env.DF_EMAIL }, "");
    assert.equal(noPw.code, 2);
    assert.match(noPw.stderr, /set DF_PASSWORD/);
    // A URL with a base path DreamFactory is not served at: the full path, and what to check.
    const based = await dfkit(["whoami"], { ...env, DF_URL: `${env.DF_URL}/df` });
    assert.equal(based.code, 1);
    assert.match(based.stderr, /404 on POST \/df\/api\/v2\/system\/admin\/session/);
    assert.match(based.stderr, /Check the instance URL \(DF_URL, --url or the profile's url\)/);
    assertNoSecrets(based.stderr, [env.DF_PASSWORD]);
    const wrong = await dfkit(["whoami"], { ...env, DF_PASSWORD: "wrong" });
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /401.*Invalid credentials/);
    assertNoSecrets(wrong.stderr, ["wrong"]);
  });
});

Deno.test("dfkit curl prints the exact call with secrets as shell variables", async () => {
  await withSandbox(async (env, url) => {
    const get = await dfkit(
      ["curl", "get", "system/user", "--filter", "id > 1", "--fields", "id,email"],
      env,
    );
    assert.equal(get.code, 0, get.stderr);
    assert.ok(
      get.stdout.includes(`'${url}/api/v2/system/user?filter=id%20%3E%201&fields=id,email`),
    );
    assert.match(get.stdout, /-H "X-DreamFactory-Session-Token: \$DF_SESSION_TOKEN"/);
    const post = await dfkit(["curl", "post", "system/role", "--data", '{"name":"x"}'], env);
    assert.equal(post.code, 0, post.stderr);
    assert.match(post.stdout, /-X( \\\n)?\s+POST/);
    assert.ok(post.stdout.includes(`'{"resource":[{"name":"x"}]}'`), post.stdout);
    assertNoSecrets(get.stdout + post.stdout, [env.DF_PASSWORD]);
  });
});

Deno.test({
  name: "dfkit curl: the printed command, run by a shell with $DF_SESSION_TOKEN set, works",
  ignore: !(await Deno.stat("/usr/bin/curl").catch(() => null)),
  fn: async () => {
    await withSandbox(async (env, _url, sb) => {
      const printed = await dfkit(
        ["curl", "get", "system/service", "--filter", "name like 'd%'", "--fields", "id,name"],
        env,
      );
      assert.equal(printed.code, 0, printed.stderr);
      // The test logs in itself to get a token for the shell; the CLI never printed one.
      const shell = await new Deno.Command("bash", {
        args: ["-c", printed.stdout],
        env: { DF_SESSION_TOKEN: await adminLogin(sb) },
        stdout: "piped",
        stderr: "piped",
      }).output();
      assert.equal(shell.code, 0, new TextDecoder().decode(shell.stderr));
      const body = JSON.parse(new TextDecoder().decode(shell.stdout));
      assert.deepEqual(body.resource, [{ id: 2, name: "db" }]);
    });
  },
});

Deno.test("dfkit login --save writes a profile without secrets; --profile uses it", async () => {
  await withSandbox(async (env) => {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/profiles.json`;
      const login = await dfkit(["login", "--save", "local"], { ...env, DFKIT_PROFILES: file });
      assert.equal(login.code, 0, login.stderr);
      const text = await Deno.readTextFile(file);
      assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
      assert.deepEqual(JSON.parse(text).profiles.local, {
        url: env.DF_URL,
        email: env.DF_EMAIL,
        password: "env:DF_PASSWORD",
      });
      assertNoSecrets(text, [env.DF_PASSWORD], "profiles file");
      const who = await dfkit(["--profile", "local", "whoami"], {
        DFKIT_PROFILES: file,
        DF_PASSWORD: env.DF_PASSWORD,
      });
      assert.equal(who.code, 0, who.stderr);
      assert.match(who.stdout, /admin@example\.com/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit: with no --profile and no DF_URL, every command uses the profiles file's default", async () => {
  await withSandbox(async (env, url) => {
    const dir = await Deno.makeTempDir();
    try {
      const file = await writeProfiles(dir, {
        staging: { url, email: env.DF_EMAIL, password: "env:STG_PW" },
        prod: { url: "http://127.0.0.1:9", email: env.DF_EMAIL, password: "env:PROD_PW" },
      }, { default: "staging" });
      const fileEnv = { DFKIT_PROFILES: file, STG_PW: env.DF_PASSWORD };
      // The same resolution in-process: the default's settings, env: references resolved.
      const options = await connectOptions({}, { env: fileEnv });
      assert.equal(options.url, url);
      assert.equal(options.email, env.DF_EMAIL);
      // DF_URL (or a named profile) still wins over the default.
      const named = await connectOptions({ profile: "prod" }, {
        env: { ...fileEnv, PROD_PW: "x" },
      });
      assert.equal(named.url, "http://127.0.0.1:9");
      const viaUrl = await connectOptions({}, {
        env: { ...fileEnv, DF_URL: "http://127.0.0.1:9", DF_API_KEY: "k" },
      });
      assert.equal(viaUrl.url, "http://127.0.0.1:9");
      for (
        const args of [["whoami"], ["get", "system/role"], [
          "migrate",
          "snapshot",
          "-o",
          `${dir}/s.json`,
        ]]
      ) {
        const run = await dfkit(args, fileEnv);
        assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
        assertNoSecrets(run.stdout + run.stderr, [env.DF_PASSWORD]);
      }
      assert.match((await dfkit(["whoami"], fileEnv)).stdout, /admin@example\.com/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit: a saved profile whose password variable is unset asks for it, or says to set it", async () => {
  await withSandbox(async (env, url) => {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/profiles.json`;
      const saved = await dfkit(["login", "--save", "local"], { ...env, DFKIT_PROFILES: file });
      assert.equal(saved.code, 0, saved.stderr);
      const data = JSON.parse(await Deno.readTextFile(file));
      data.default = "local";
      await Deno.writeTextFile(file, JSON.stringify(data));
      // On a terminal: asked for, once, naming the email and the profile.
      const asked: [string, string][] = [];
      const ask = (message: string, variable: string) => {
        asked.push([message, variable]);
        return Promise.resolve(env.DF_PASSWORD);
      };
      for (const opts of [{ profile: "local" }, {}]) {
        asked.length = 0;
        const got = await connectOptions(opts, { env: { DFKIT_PROFILES: file }, ask });
        assert.equal(got.url, url);
        assert.equal(got.password, env.DF_PASSWORD);
        assert.equal(asked.length, 1);
        assert.equal(asked[0][1], "DF_PASSWORD");
        assert.match(asked[0][0], /admin@example\.com \(profile local\)/);
      }
      // The variable set: no question.
      asked.length = 0;
      const set = await connectOptions({}, {
        env: { DFKIT_PROFILES: file, DF_PASSWORD: "from-env" },
        ask,
      });
      assert.equal(set.password, "from-env");
      assert.equal(asked.length, 0);
      // No terminal (stdin a pipe): exit 2, told to set the variable, never to write the password
      // into the file. The same for a recipe command connecting through the default profile.
      for (const args of [["--profile", "local", "whoami"], ["whoami"], ["migrate", "snapshot"]]) {
        const run = await dfkit(args, { DFKIT_PROFILES: file }, "");
        assert.equal(run.code, 2, `${args.join(" ")}: ${run.stdout}${run.stderr}`);
        assert.match(run.stderr, /no terminal to ask on: set DF_PASSWORD/);
        assert.doesNotMatch(run.stderr, /put the value in the profile/);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit login: a session token the user gave stays valid; an API key saves as env:", async () => {
  await withSandbox(async (_env, url, sb) => {
    const tokenEnv = { DF_URL: url, DF_SESSION_TOKEN: await adminLogin(sb) };
    assert.equal((await dfkit(["login"], tokenEnv)).code, 0);
    const who = await dfkit(["whoami"], tokenEnv);
    assert.equal(who.code, 0, who.stderr);
    assert.match(who.stdout, /admin@example\.com/);
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/profiles.json`;
      const keyed = await dfkit(["login", "--save", "keyed"], {
        DF_URL: url,
        DF_API_KEY: "k".repeat(64),
        DFKIT_PROFILES: file,
      });
      assert.equal(keyed.code, 0, keyed.stderr);
      assert.deepEqual(JSON.parse(await Deno.readTextFile(file)).profiles.keyed, {
        url,
        apiKey: "env:DF_API_KEY",
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit sandbox: serves until SIGTERM, then stops cleanly", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", ...flags, "scripts/dfkit.ts", "sandbox", "--port", "0", "--json"],
    cwd: ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const info = JSON.parse(text.split("\n")[0]);
  assert.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const df = await connect({ url: info.url, email: info.email, password: "Passw0rd123" });
  assert.equal(df.session?.is_sys_admin, true);
  await df.logout();
  child.kill("SIGTERM");
  while (!(await reader.read()).done) { /* drain */ }
  const status = await child.status;
  assert.equal(status.code, 0);
});

Deno.test("dfkit mounts the recipe commands, passing --url/--email on to them", async () => {
  await withSandbox(async (env) => {
    // Only the password in the environment; the instance and login come from global options.
    const run = await dfkit(
      ["--url", env.DF_URL, "--email", env.DF_EMAIL, "customer", "status", "acme-1"],
      { DF_PASSWORD: env.DF_PASSWORD },
    );
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /customer acme-1: not provisioned/);
    const snap = await dfkit(["migrate", "snapshot", "--help"], env);
    assert.equal(snap.code, 0, snap.stderr);
  });
});

Deno.test("dfkit har: converts a recording offline, never copying its credentials", async () => {
  const token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjEsImV4cCI6OX0.c2lnbmF0dXJlLXNpZ25hdHVyZQ";
  const entry = {
    startedDateTime: "2026-01-01T00:00:00Z",
    time: 1,
    request: {
      method: "POST",
      url: "http://df.example.com/api/v2/system/role",
      httpVersion: "HTTP/1.1",
      headers: [
        { name: "X-DreamFactory-Session-Token", value: token },
        { name: "Content-Type", value: "application/json" },
      ],
      queryString: [],
      cookies: [],
      headersSize: -1,
      bodySize: -1,
      postData: {
        mimeType: "application/json",
        text: JSON.stringify({ resource: [{ name: "support", is_active: true }] }),
      },
    },
    response: {
      status: 201,
      statusText: "Created",
      httpVersion: "HTTP/1.1",
      headers: [],
      cookies: [],
      content: { size: 20, mimeType: "application/json", text: '{"resource":[{"id":1}]}' },
      redirectURL: "",
      headersSize: -1,
      bodySize: -1,
    },
    cache: {},
    timings: { send: 0, wait: 1, receive: 0 },
  };
  const dir = await Deno.makeTempDir();
  try {
    const file = `${dir}/console.har`;
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        log: { version: "1.2", creator: { name: "t", version: "1" }, entries: [entry] },
      }),
    );
    const run = await dfkit(["har", file]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /df\.system\.role\.create\(\{ name: "support", is_active: true \}\)/);
    assertNoSecrets(run.stdout + run.stderr, [token]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dfkit: a missing or broken input file is named, without a stack trace", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/bad.json`, '{"a":');
    const env = { DF_URL: "http://127.0.0.1:1", DF_API_KEY: "k".repeat(64) };
    const cases: [string[], RegExp, number][] = [
      [
        ["migrate", "plan", "--snapshot", `${dir}/nope.json`],
        /--snapshot .*nope\.json does not exist/,
        2,
      ],
      [
        ["migrate", "drift", "--snapshot", `${dir}/nope.json`],
        /--snapshot .*nope\.json does not exist/,
        1, // drift's 2 means drifted
      ],
      [["migrate", "apply"], /give exactly one of --plan <file> or --snapshot <path>/, 2],
      [["har", `${dir}/nope.har`], /^error: HAR file \S*nope\.har does not exist\n$/, 2],
      [
        ["migrate", "plan", "--snapshot", `${dir}/bad.json`],
        /snapshot .*bad\.json is not valid JSON/,
        1,
      ],
      [
        ["create", "system/role", "--file", `${dir}/nope.json`],
        /--file .*nope\.json does not exist/,
        2,
      ],
      [
        ["create", "system/role", "--file", dir],
        /^error: cannot read --file \S+: it is a folder\n$/,
        2,
      ],
    ];
    for (const [args, message, code] of cases) {
      const run = await dfkit(args, env);
      assert.equal(run.code, code, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.doesNotMatch(run.stderr, /^\s+at /m);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dfkit customer provision --member adds a user (no clash with the global --user)", async () => {
  await withSandbox(async (env) => {
    const run = await dfkit([
      "--json",
      "customer",
      "provision",
      "u1",
      "--access",
      "db:_table/*:GET",
      "--member",
      "alice@example.com",
    ], env);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.users.map((u: { email: string }) => u.email), ["alice@example.com"]);
  });
});

Deno.test("dfkit: Ctrl-C at the password prompt is 'cancelled', exit 130", () => {
  const e = new Error("User force closed the prompt with SIGINT");
  e.name = "ExitPromptError"; // what @inquirer/password throws on Ctrl-C
  const errors: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => void errors.push(a.join(" "));
  try {
    assert.equal(reportError(e), 130);
  } finally {
    console.error = original;
  }
  assert.deepEqual(errors, ["cancelled"]);
});

Deno.test("dfkit migrate drift: a mistake exits 1, never 2 (which means drifted)", async () => {
  const env = { DF_URL: "http://127.0.0.1:1", DF_EMAIL: "admin@example.com" };
  const typo = await dfkit(["migrate", "drift", "--snapshpt", "x.json"], env);
  assert.equal(typo.code, 1, typo.stderr);
  assert.match(typo.stderr, /--snapsh/);
  // an option's value before the command does not hide it
  const valued = await dfkit(
    ["migrate", "--profile", "prod", "drift", "--snapshot", "x.json", "--bogus"],
    env,
  );
  assert.equal(valued.code, 1, valued.stderr);
  // No password and no terminal to ask for one: an error, not drift.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/s.json`, EMPTY_SNAPSHOT);
    const noPassword = await dfkit(["migrate", "drift", "--snapshot", `${dir}/s.json`], env);
    assert.equal(noPassword.code, 1, noPassword.stderr);
    assert.match(noPassword.stderr, /password/i);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  // Elsewhere the same mistakes stay usage errors (2).
  const other = await dfkit(["migrate", "plan", "--snapshpt", "x.json"], env);
  assert.equal(other.code, 2, other.stderr);
});

Deno.test("dfkit migrate: input files are checked before a missing password is asked for", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const entry = { url: "http://127.0.0.1:1", email: "admin@example.com", password: "env:A_PW" };
    const file = await writeProfiles(dir, { a: entry }, { default: "a" });
    await Deno.writeTextFile(`${dir}/s.json`, EMPTY_SNAPSHOT);
    const profiles = { DFKIT_PROFILES: file, A_PW: "" };
    const setups: [string, Record<string, string>, string[], string][] = [
      ["the default profile", profiles, [], "A_PW"],
      ["--profile", profiles, ["--profile", "a"], "A_PW"],
      [
        "DF_EMAIL without DF_PASSWORD",
        { DF_URL: entry.url, DF_EMAIL: entry.email },
        [],
        "DF_PASSWORD",
      ],
    ];
    const missing = "/nonexistent/s.json";
    for (const [label, env, global, variable] of setups) {
      for (const [command, code] of [["plan", 2], ["drift", 1]] as const) {
        const r = await dfkit([...global, "migrate", command, "--snapshot", missing], env);
        assert.equal(r.code, code, `${label}, ${command}: ${r.stderr}`);
        assert.equal(r.stderr, `error: --snapshot ${missing} does not exist\n`, label);
      }
      const plan = await dfkit([...global, "migrate", "apply", "--plan", missing], env);
      assert.equal(plan.code, 2, `${label}: ${plan.stderr}`);
      assert.equal(plan.stderr, `error: --plan ${missing} does not exist\n`, label);
      // The file exists: then the password is asked for (no terminal: the variable to set).
      const asked = await dfkit([...global, "migrate", "plan", "--snapshot", `${dir}/s.json`], env);
      assert.equal(asked.code, 2, `${label}: ${asked.stderr}`);
      assert.match(asked.stderr, new RegExp(`no terminal to ask on: set ${variable} `), label);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dfkit: a raw answer's resource envelope prints as a table of its records", async () => {
  await displayReady();
  const printed: string[] = [];
  const log = console.log;
  console.log = (...args: unknown[]) => printed.push(args.join(" "));
  try {
    printResult({ resource: [{ name: "contact" }, { name: "orders" }] }, {});
    printResult({ resource: [{ name: "contact" }] }, { json: true });
  } finally {
    console.log = log;
  }
  assert.match(printed[0], /│ name\s+│/);
  assert.match(printed[0], /│ orders\s+│/);
  assert.match(printed[0], /2 records/);
  assert.deepEqual(JSON.parse(printed[1]), { resource: [{ name: "contact" }] }, "JSON as sent");
});

Deno.test("dfkit started by another project's task keeps that task's folder (INIT_CWD aside)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(`${dir}/sub`);
    const har = { log: { version: "1.2", creator: { name: "t", version: "1" }, entries: [] } };
    await Deno.writeTextFile(`${dir}/sub/in.har`, JSON.stringify(har));
    const dfkitTs = `${ROOT}/scripts/dfkit.ts`;
    await Deno.writeTextFile(
      `${dir}/deno.json`,
      JSON.stringify({
        tasks: { gen: `cd sub && deno run -A --config ${ROOT}/deno.json ${dfkitTs} har in.har` },
      }),
    );
    const run = await runDeno(["task", "-q", "gen"], { cwd: dir });
    // The file was found in sub/ (an empty recording is then refused for what it is).
    assert.doesNotMatch(run.stderr, /cannot read in\.har/);
    assert.match(run.stderr, /no DreamFactory API calls found/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("dfkit create --chunk: Ctrl-C stops after the chunk in flight and says where the input stopped", async () => {
  await withSandbox(async (env, url) => {
    const df = await connect({ url, email: env.DF_EMAIL, password: env.DF_PASSWORD });
    await df.request("POST", "db/_schema", {
      body: {
        resource: [{
          name: "big",
          field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
        }],
      },
    });
    const dir = await Deno.makeTempDir();
    try {
      const total = 30_000;
      const file = `${dir}/big.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify(Array.from({ length: total }, (_, i) => ({ name: `N${i}` }))),
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, "scripts/dfkit.ts", "create", "db/_table/big"]
          .concat(["--file", file, "--chunk", "100", "--fields", "id"]),
        cwd: ROOT,
        env: childEnv(env),
        clearEnv: true,
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const count = async () =>
        (await df.request<{ meta: { count: number } }>("GET", "db/_table/big", {
          query: { include_count: true, limit: 1 },
        })).meta.count;
      // Ctrl-C once chunks are landing (the listener is installed before the first is sent).
      // A deadline rather than a number of polls, and checked: on a loaded machine the test
      // fails here instead of killing a child that has no listener yet.
      const until = Date.now() + 60_000;
      let landed = 0;
      while ((landed = await count()) < 500 && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 25));
      }
      if (landed < 500) {
        child.kill("SIGKILL");
        await child.output();
        assert.fail(`only ${landed} record(s) created after 60 s: Ctrl-C not sent`);
      }
      child.kill("SIGINT");
      const out = await child.output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 130, stderr);
      const m =
        /Interrupted: created (\d+) of 30000 record\(s\) \(#0 to #(\d+)\); #(\d+) to #29999 were not sent\. To finish, create the records of .*big\.json from index (\d+) on/
          .exec(stderr);
      assert.ok(m, stderr);
      const created = Number(m[1]);
      assert.ok(created >= 500 && created < total && created % 100 === 0, stderr);
      assert.equal(Number(m[2]), created - 1);
      assert.equal(Number(m[4]), created);
      // Exactly the reported records are on the server: the chunk in flight was waited for.
      assert.equal(await count(), created);
      assert.doesNotMatch(stderr, /^\s+at /m);
    } finally {
      await Deno.remove(dir, { recursive: true });
      await df.logout();
    }
  });
});

Deno.test("dfkit create --chunk: a second Ctrl-C quits at once, saying the chunk in flight may or may not be written", async () => {
  await withSandbox(async (env, url) => {
    const df = await connect({ url, email: env.DF_EMAIL, password: env.DF_PASSWORD });
    await df.request("POST", "db/_schema", {
      body: {
        resource: [{
          name: "big",
          field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
        }],
      },
    });
    // The CLI talks to a proxy whose third record write hangs (a server too slow to wait for).
    const proxy = startFaultProxy(url);
    let release = () => {};
    const held = new Promise<void>((r) => release = r);
    let tableWrites = 0, holding = false;
    proxy.state.onWrite = (_method, path) => {
      if (!path.includes("_table") || ++tableWrites < 3) return Promise.resolve();
      holding = true;
      return held;
    };
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/big.json`;
      await Deno.writeTextFile(
        file,
        JSON.stringify(Array.from({ length: 1000 }, (_, i) => ({ name: `N${i}` }))),
      );
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", ...flags, "scripts/dfkit.ts", "create", "db/_table/big"]
          .concat(["--file", file, "--chunk", "100", "--fields", "id"]),
        cwd: ROOT,
        env: childEnv({ ...env, DF_URL: proxy.url }),
        clearEnv: true,
        stdout: "null",
        stderr: "piped",
      }).spawn();
      // A CLI that does not react would wait for the held write forever: give up after 30 s.
      const stderr = followStderr(child, 30);
      try {
        const until = Date.now() + 25_000;
        while (!holding && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
        assert.ok(holding, "the third chunk never reached the server");
        child.kill("SIGINT");
        await stderr.until(/Stopping after the chunk in flight \(Ctrl-C again to quit now\)\./);
        child.kill("SIGINT");
        await stderr.until(/Quit without waiting/);
        const code = await stderr.exit();
        assert.equal(code, 130, stderr.text);
        assert.match(
          stderr.text,
          /Quit without waiting for the chunk in flight: created 200 of 1000 record\(s\) \(#0 to #199\); #200 to #299, the chunk in flight, may or may not have been written; #300 to #999 were not sent\./,
        );
        assert.doesNotMatch(stderr.text, /^\s+at /m);
      } finally {
        stderr.stop();
      }
    } finally {
      release();
      await proxy.close();
      await Deno.remove(dir, { recursive: true });
      await df.logout();
    }
  });
});

/** Runs the CLI (or `script`) on a pseudo-terminal, typing `keys` once the first prompt shows,
 * for at most `seconds`; returns what the user saw (undefined without python3). */
function onTerminal(
  args: string[],
  env: Record<string, string>,
  keys: string,
  { script = "scripts/dfkit.ts", seconds = 60 } = {},
): Promise<string | undefined> {
  return onPty([Deno.execPath(), "run", ...flags, script, ...args], env, [["Password", keys]], {
    seconds,
  });
}

Deno.test({
  name: "dfkit: the password prompt masks what is typed and cannot be made to show it",
  ignore: !HAS_PYTHON, // the pseudo-terminal comes from python3's pty module
  fn: async () => {
    const env = { DF_URL: "http://127.0.0.1:1", DF_EMAIL: "admin@example.com", DF_PASSWORD: "" };
    // Type a password, then ctrl+t (which @inquirer/password would use to reveal it), then Ctrl-C.
    const seen = await onTerminal(["whoami"], env, "Hunter2-secret\x14\x03");
    assert.ok(seen !== undefined, "python3 went missing");
    assert.match(seen, /Password for admin@example\.com/);
    assert.match(seen, /\*{6}/, "the typed characters show as *");
    assert.ok(!/toggle/i.test(seen), `the prompt offers to reveal the password:\n${seen}`);
    assertNoSecrets(seen, ["Hunter2-secret"], "the prompt");
  },
});

Deno.test({
  name:
    "dfkit migrate: a profile copied to itself, or named by --profile alone, asks for its password once",
  ignore: !HAS_PYTHON,
  fn: async () => {
    await withSandbox(async (env, url) => {
      const dir = await Deno.makeTempDir();
      try {
        const entry = { url, email: env.DF_EMAIL, password: "env:A_PW" };
        const vars = { DFKIT_PROFILES: await writeProfiles(dir, { a: entry }), A_PW: "" };
        const dbs = ["--source-db", "db", "--target-db", "db"];
        const keys = `${env.DF_PASSWORD}\r`;
        // Asked twice, the second prompt would wait for keys that never come: 60 s, then killed.
        const runs: [string, string[], string][] = [
          [
            "dfkit",
            ["migrate", "copy-schema", "--from", "a", "--to", "a", ...dbs],
            "scripts/dfkit.ts",
          ],
          ["standalone", ["--profile", "a", "copy-schema", ...dbs], "scripts/migrate.ts"],
        ];
        for (const [label, args, script] of runs) {
          const seen = await onTerminal(args, vars, keys, { script, seconds: 60 });
          assert.ok(seen !== undefined, "python3 went missing");
          assert.match(seen, /Password for admin@example\.com \(profile a\)/, `${label}:\n${seen}`);
          assert.match(seen, /Created tables: none/, `${label}: asked again?\n${seen}`);
          assertNoSecrets(seen, [env.DF_PASSWORD], label);
        }
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    });
  },
});

Deno.test("dfkit --json masks what the tables hide: service config secrets, credential pairs", () => {
  const shown = JSON.stringify(maskSecrets([
    {
      name: "crm",
      config: {
        key: "AKIA-Secret-1",
        secret: "Secret-2",
        dsn: "mysql://u:Secret-3@h/db",
        client_secret: "Secret-4",
        access_token: "Secret-5",
        headers: [{ name: "Authorization", value: "Bearer Secret-6" }],
      },
    },
    { name: "api_key", value: "Secret-7", private: true },
    { api_key: "Secret-8", id: 3 },
  ]));
  assert.ok(!shown.includes("Secret-"), shown);
  assert.match(shown, /"id":3/);
});

Deno.test("dfkit login --save: a broken profiles file is named with where it breaks, never quoted", async () => {
  await withSandbox(async (env) => {
    const dir = await Deno.makeTempDir();
    try {
      const file = `${dir}/profiles.json`;
      await Deno.writeTextFile(file, '{"profiles":{"a":{"password":hunter2-Secret}}}');
      const r = await dfkit(["login", "--save", "local"], { ...env, DFKIT_PROFILES: file });
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /profiles\.json is not valid JSON \(line 1, column \d+\)/);
      assert.ok(!r.stderr.includes("hunter2"), r.stderr);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit login --save: a profiles file it cannot read is one sentence naming it", async () => {
  await withSandbox(async (env) => {
    const dir = await Deno.makeTempDir();
    try {
      await Deno.writeTextFile(`${dir}/file`, "");
      for (
        const [path, reason] of [
          [dir, "it is a folder"],
          [`${dir}/file/profiles.json`, "a part of the path is a file, not a folder"],
        ]
      ) {
        const r = await dfkit(["login", "--save", "local"], { ...env, DFKIT_PROFILES: path });
        assert.equal(r.code, 1, r.stderr);
        assert.equal(r.stderr, `error: cannot read dfkit profiles file ${path}: ${reason}\n`);
      }
      // No file yet: login --save starts one (its folder too).
      const fresh = `${dir}/new/profiles.json`;
      const r = await dfkit(["login", "--save", "local"], { ...env, DFKIT_PROFILES: fresh });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(Object.keys(JSON.parse(await Deno.readTextFile(fresh)).profiles), ["local"]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit: --url wins over DF_PROFILE, as in connect(); DF_PROFILE alone names the profile", async () => {
  await withSandbox(async (env, url) => {
    const dir = await Deno.makeTempDir();
    try {
      // A profile pointing where nothing listens: used, it fails to connect.
      const far = { url: "http://127.0.0.1:9", email: env.DF_EMAIL, password: "env:FAR_PW" };
      const vars = {
        DFKIT_PROFILES: await writeProfiles(dir, { far }),
        DF_PROFILE: "far",
        FAR_PW: "x",
        DF_PASSWORD: env.DF_PASSWORD,
      };
      const flags = ["--url", url, "--email", env.DF_EMAIL];
      for (const args of [["whoami"], ["customer", "status", "acme-1"]]) {
        const run = await dfkit([...flags, ...args], vars);
        assert.equal(run.code, 0, `${args.join(" ")}: ${run.stderr}`);
      }
      const viaProfile = await dfkit(["whoami"], vars);
      assert.equal(viaProfile.code, 1, viaProfile.stderr);
      assert.match(viaProfile.stderr, /127\.0\.0\.1:9/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("dfkit: a flag value the query builder refuses is a usage mistake (exit 2), said before any read", async () => {
  await withSandbox(async (env) => {
    const run = await dfkit(["get", "system/user", "--related", "role_by_role_id"], env);
    assert.equal(run.code, 2, run.stderr);
    assert.match(
      run.stderr,
      /Unknown relationship "role_by_role_id".*user_to_app_to_role_by_user_id/,
    );
  });
});

Deno.test("dfkit login --save adds to the local dfkit.profiles.json connect() reads, not a new home file", async () => {
  await withSandbox(async (env) => {
    const home = await Deno.makeTempDir();
    const work = await Deno.makeTempDir();
    try {
      await writeProfiles(work, { old: { url: "http://127.0.0.1:9", apiKey: "env:K" } }, {
        name: "dfkit.profiles.json", // the file connect() reads in the folder it runs in
      });
      const saved = await runDeno(
        ["run", ...flags, `${ROOT}/scripts/dfkit.ts`, "login", "--save", "fresh"],
        { env: { ...env, HOME: home }, cwd: work },
      );
      assert.equal(saved.code, 0, saved.stderr);
      const local = JSON.parse(await Deno.readTextFile(`${work}/dfkit.profiles.json`));
      assert.deepEqual(Object.keys(local.profiles).sort(), ["fresh", "old"]);
      await assert.rejects(Deno.stat(`${home}/.config/dfkit/profiles.json`), Deno.errors.NotFound);
    } finally {
      await Deno.remove(home, { recursive: true });
      await Deno.remove(work, { recursive: true });
    }
  });
});

Deno.test({
  name: "migrate and provision: Ctrl-C at the password prompt is 'cancelled', as in dfkit",
  ignore: !HAS_PYTHON,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const entry = { url: "http://127.0.0.1:9", email: "a@example.com", password: "env:CC_PW" };
      const vars = { DFKIT_PROFILES: await writeProfiles(dir, { a: entry }) };
      for (
        const [script, args] of [
          ["scripts/provision.ts", ["--profile", "a", "status", "acme-1"]],
          ["scripts/migrate.ts", ["--profile", "a", "snapshot"]],
        ] as const
      ) {
        const seen = await onTerminal([...args], vars, "\x03", { script, seconds: 20 });
        assert.ok(seen !== undefined, "python3 went missing");
        assert.match(seen, /Password for a@example\.com/, `${script}:\n${seen}`);
        assert.match(seen, /cancelled\r?$/m, `${script}:\n${seen}`);
        assert.doesNotMatch(seen, /force closed|ExitPromptError/, `${script}:\n${seen}`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
