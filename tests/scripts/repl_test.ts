import assert from "node:assert/strict";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import { assertNoSecrets, HAS_PYTHON, onPty, readerKey, runDeno, taskFlags } from "./helpers.ts";
import { writeProfiles } from "../client/helpers.ts";

/** Drives a real `deno repl` with the REPL task's flags, typing `lines` on its stdin. */
async function repl(lines: string[], env: Record<string, string> = {}) {
  const args = ["repl", ...await taskFlags("repl"), "--eval-file=scripts/repl.ts"];
  return await runDeno(args, { stdin: lines.join("\n") + "\n", env });
}

Deno.test("repl: on a fresh sandbox, df/system/db are ready and results print as tables", async () => {
  const run = await repl([
    'await system.service.fields("id", "name")',
    'await db.table("contact").fields("name", "city").order("name")',
    "df",
    'console.log(system.user.filter("id > 1").toCurl())',
    "df.session.email",
    "close()",
  ]);
  assert.equal(run.code, 0, run.stderr);
  const out = run.stdout;
  assert.match(out, /dfkit REPL: connected to a fresh sandbox at http:\/\/127\.0\.0\.1:\d+/);
  // The banner (everything before the REPL's own greeting) fits on one screen.
  const greeting = out.split("\n").findIndex((l) => l.startsWith("Deno "));
  assert.ok(greeting > 3 && greeting < 20, `banner is ${greeting} lines`);
  // A table of the three default services, and of the sample contacts.
  assert.match(out, /│ id │ name\s+│/);
  for (const svc of ["system", "db", "user"]) {
    assert.match(out, new RegExp(`│ \\d+\\s+│ ${svc}\\s+│`));
  }
  assert.match(out, /│ Ada Lovelace\s+│ London\s+│/);
  assert.match(out, /3 records/);
  assert.match(out, /auth: "admin session as admin@example.com"/);
  assert.match(out, /X-DreamFactory-Session-Token: \$DF_SESSION_TOKEN/);
  assert.match(out, /"admin@example.com"/);
  assert.doesNotMatch(out + run.stderr, /Uncaught/);
  assertNoSecrets(out + run.stderr, ["Passw0rd123"], "REPL output");
});

Deno.test("repl: with DF_URL it connects to that instance instead of starting a sandbox", async () => {
  const sb = await startSandbox({ port: 0 });
  try {
    const run = await repl(["await system.role.count()", "close()"], {
      DF_URL: sb.url,
      DF_EMAIL: sb.admin.email,
      DF_PASSWORD: sb.admin.password,
    });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`dfkit REPL: connected to ${sb.url} as admin@example.com`));
    assert.doesNotMatch(run.stdout, /fresh sandbox/);
    assert.match(run.stdout, /\n0\n/, "a fresh instance has no roles");
    assertNoSecrets(run.stdout + run.stderr, [sb.admin.password], "REPL output");
  } finally {
    await sb.close();
  }
});

Deno.test("repl: with no DF_URL or DF_PROFILE it uses the profiles file's default", async () => {
  const sb = await startSandbox({ port: 0 });
  const dir = await Deno.makeTempDir();
  try {
    const file = await writeProfiles(dir, {
      local: { url: sb.url, email: sb.admin.email, password: "env:LOCAL_PW" },
    }, { default: "local" });
    const run = await repl(["close()"], { DFKIT_PROFILES: file, LOCAL_PW: sb.admin.password });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`dfkit REPL: connected to ${sb.url} as admin@example.com`));
    assert.doesNotMatch(run.stdout, /fresh sandbox/);
    assertNoSecrets(run.stdout + run.stderr, [sb.admin.password], "REPL output");
  } finally {
    await Deno.remove(dir, { recursive: true });
    await sb.close();
  }
});

Deno.test("repl: an instance it cannot reach is one line, and the prompt still works", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const run = await repl(["typeof connect", "typeof df", "close()"], {
    DF_URL: `http://127.0.0.1:${port}`,
    DF_EMAIL: "a@example.com",
    DF_PASSWORD: "Hunter2-long-password",
  });
  assertNoSecrets(run.stdout + run.stderr, ["Hunter2-long-password"], "REPL output");
  assert.match(run.stderr, /dfkit REPL: could not connect to http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(run.stderr, /^\s+at /m, "no stack trace");
  assert.match(run.stdout, /"function"/);
  assert.match(run.stdout, /"undefined"/);
});

Deno.test("repl: an API key or no credentials is checked against the server, and named", async () => {
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (closed.addr as Deno.NetAddr).port;
  closed.close();
  const key = "k".repeat(64);
  const gone = await repl(["typeof df", "close()"], {
    DF_URL: `http://127.0.0.1:${port}`,
    DF_API_KEY: key,
  });
  assert.match(gone.stderr, /dfkit REPL: could not connect to http:\/\/127\.0\.0\.1:\d+/);
  assert.doesNotMatch(gone.stdout, /connected to/);
  assert.match(gone.stdout, /"undefined"/);
  assertNoSecrets(gone.stdout + gone.stderr, [key], "REPL output");
  const sb = await startSandbox({ port: 0 });
  try {
    const anonymous = await repl(["close()"], { DF_URL: sb.url });
    assert.match(
      anonymous.stdout,
      /connected to http:\/\/127\.0\.0\.1:\d+ as nobody \(no credentials/,
    );
    // An API key: the services its app's role reaches, as `dfkit whoami` says; an unknown key
    // reaches none, and the banner says what that means instead of a plain "as API key".
    const good = await repl(["close()"], {
      DF_URL: sb.url,
      DF_API_KEY: await readerKey(sb.url, sb.admin),
    });
    assert.match(good.stdout, /connected to \S+ as API key \(services it reaches: db\)/);
    const bogus = await repl(["close()"], { DF_URL: sb.url, DF_API_KEY: key });
    assert.match(bogus.stdout, /as API key, which reaches no service: the key is unknown/);
    assertNoSecrets(good.stdout + good.stderr + bogus.stdout + bogus.stderr, [key], "REPL output");
  } finally {
    await sb.close();
  }
});

Deno.test({
  name: "repl: a profile's unset password variable is asked for on the terminal, then df is ready",
  ignore: !HAS_PYTHON, // the pseudo-terminal comes from python3's pty module
  fn: async () => {
    const sb = await startSandbox({ port: 0 });
    const dir = await Deno.makeTempDir();
    try {
      const entry = { url: sb.url, email: sb.admin.email, password: "env:REPL_PW" };
      const file = await writeProfiles(dir, { loc: entry }, { default: "loc" });
      const command = [
        Deno.execPath(),
        "repl",
        ...await taskFlags("repl"),
        "--eval-file=scripts/repl.ts",
      ];
      const seen = await onPty(command, { DFKIT_PROFILES: file }, [
        ["Password for profile loc", `${sb.admin.password}\r`],
        ["> ", "df.session.email\r"],
        ['"admin@example.com"', "close()\r"],
      ], { seconds: 60 });
      assert.ok(seen !== undefined, "python3 went missing");
      assert.match(seen, /connected to http:\/\/127\.0\.0\.1:\d+ as admin@example\.com/);
      assert.match(seen, /"admin@example\.com"/, `the REPL did not answer:\n${seen}`);
      assertNoSecrets(seen, [sb.admin.password], "the REPL");
    } finally {
      await sb.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
