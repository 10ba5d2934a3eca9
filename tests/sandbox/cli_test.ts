import { equal, match, ok } from "node:assert/strict";

const SCRIPT = new URL("../../scripts/sandbox.ts", import.meta.url).pathname;

Deno.test("deno task sandbox: prints URL and credentials, serves, stops cleanly on Ctrl-C", async () => {
  const dir = await Deno.makeTempDir();
  // The task's own permissions: the sandbox must not need more (and never prompts).
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-prompt",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write",
      "--allow-sys=hostname",
      SCRIPT,
      "--port",
      "0",
      "--data",
      `${dir}/cli.sqlite`,
      "--admin-email",
      "cli@example.com",
    ],
    env: { DF_SANDBOX_PASSWORD: "Cl1Secret!" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  try {
    const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let out = "";
    while (!out.includes("Ctrl-C")) {
      const { value, done } = await reader.read();
      if (done) break;
      out += value;
    }
    const url = out.match(/listening on (http:\/\/127\.0\.0\.1:\d+)\/api\/v2/)?.[1];
    ok(url, out);
    match(out, /cli@example\.com {2}password: \(from DF_SANDBOX_PASSWORD\)/);
    ok(!out.includes("Cl1Secret!"), "a chosen password is never printed");
    const res = await fetch(`${url}/api/v2/system/admin/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ email: "cli@example.com", password: "Cl1Secret!" }),
    });
    equal(res.status, 200);
    await res.body?.cancel();
    child.kill("SIGINT");
    const rest = await reader.read();
    void rest;
    reader.releaseLock();
    const status = await child.status;
    equal(status.code, 0);
    await child.stderr.cancel();
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already stopped */ }
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("deno task sandbox: bad arguments are a usage error naming the option", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--allow-read", "--allow-write", SCRIPT, "--port", "abc"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(out.code, 2);
  match(new TextDecoder().decode(out.stderr), /--port must be a whole number, got 'abc'/);
});

Deno.test("deno task sandbox: a port in use is one clear line, not a stack trace", async () => {
  const taken = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((taken.addr as Deno.NetAddr).port);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-prompt", "--allow-net", "--allow-env", SCRIPT, "--port", port],
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 1);
    const err = new TextDecoder().decode(out.stderr);
    match(err, new RegExp(`port ${port} on 127\\.0\\.0\\.1 is in use; pick another with --port N`));
    ok(!err.includes("    at "), err);
  } finally {
    taken.close();
  }
});

Deno.test("deno task sandbox: --data is read from where the task started; a non-database is one line", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "not a database, just notes\n".repeat(20));
    const config = new URL("../../deno.json", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["task", "-q", "--config", config, "sandbox", "--port", "0", "--data", "notes.txt"],
      cwd: dir,
      // As if started in dir (an outer `deno task test` has set INIT_CWD, which tasks keep).
      env: { INIT_CWD: dir },
      signal: AbortSignal.timeout(30_000), // a sandbox that started serves until killed
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(out.code, 1);
    const err = new TextDecoder().decode(out.stderr);
    match(err, /^sandbox: cannot open --data notes\.txt: file is not a database\n$/);
    // `deno task dfkit sandbox` says the same
    const cli = await new Deno.Command(Deno.execPath(), {
      args: [
        "task",
        "-q",
        "--config",
        config,
        "dfkit",
        "sandbox",
        "--port",
        "0",
        "--data",
        "notes.txt",
      ],
      cwd: dir,
      env: { INIT_CWD: dir },
      signal: AbortSignal.timeout(30_000),
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(cli.code, 1);
    match(
      new TextDecoder().decode(cli.stderr),
      /^error: cannot open --data notes\.txt: file is not a database\n$/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
