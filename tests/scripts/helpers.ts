/**
 * Shared helpers for tests of the user-facing layer: run Deno subprocesses (the CLI, the demo,
 * the REPL, notebook code) with a clean environment, read the permissions each `deno task`
 * passes, and check output for leaked secrets.
 */
import assert from "node:assert/strict";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");

/** The environment of a child: ours without any `DF_*`/`DFKIT_*` setting or `INIT_CWD`, colours
 * off. */
export function childEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(Deno.env.toObject())) {
    // INIT_CWD: an outer `deno task test` sets it, and a nested task would keep it.
    if (!k.startsWith("DF_") && !k.startsWith("DFKIT_") && k !== "INIT_CWD") env[k] = v;
  }
  return { ...env, NO_COLOR: "1", ...extra };
}

/** What a finished subprocess printed. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `deno <args>` in the repository root with {@linkcode childEnv}. */
export async function runDeno(
  args: string[],
  options: { env?: Record<string, string>; stdin?: string; cwd?: string; timeoutMs?: number } = {},
): Promise<Run> {
  const child = new Deno.Command(Deno.execPath(), {
    args,
    cwd: options.cwd ?? ROOT,
    env: childEnv(options.env),
    clearEnv: true,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(options.stdin));
    await writer.close();
  }
  // A hung child (a server left open, an endless loop) fails the test instead of hanging it.
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 240_000);
  try {
    const out = await child.output();
    const dec = new TextDecoder();
    return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The permission flags of a `deno task` (everything between `deno run`/`deno repl` and the
 * script), so tests run scripts with exactly the permissions their task grants.
 */
export async function taskFlags(task: string): Promise<string[]> {
  const config = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`));
  const line: string | undefined = config.tasks?.[task];
  assert.ok(line, `deno.json has no task "${task}"`);
  return line.split(/\s+/).filter((w) =>
    w.startsWith("--allow-") || w === "-A" || w === "--no-prompt"
  );
}

const SECRET_PATTERNS: [string, RegExp][] = [
  ["a JWT session token", /eyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]{8,}/],
  ["a 64-hex-digit API key", /\b[0-9a-f]{64}\b/],
];

/** Fails when `text` contains a session token, an API key or one of the `known` secrets. */
export function assertNoSecrets(text: string, known: string[] = [], where = "output"): void {
  for (const [what, pattern] of SECRET_PATTERNS) {
    const m = pattern.exec(text);
    assert.equal(m, null, `${where} contains ${what}: ${m?.[0].slice(0, 12)}…`);
  }
  for (const secret of known) {
    assert.ok(!text.includes(secret), `${where} contains the secret "${secret.slice(0, 3)}…"`);
  }
}

/** Whether an admin session token is still valid (not logged out). */
export async function tokenWorks(url: string, token: string): Promise<boolean> {
  const res = await fetch(`${url}/api/v2/system/admin/session`, {
    headers: { "X-DreamFactory-Session-Token": token },
  });
  await res.body?.cancel();
  return res.status === 200;
}

/** As the admin given: a role that may read the `db` service and an app with that default role;
 * returns the app's API key (the session is ended). */
export async function readerKey(
  url: string,
  admin: { email: string; password: string },
): Promise<string> {
  const { connect } = await import("../../lib/client.ts");
  const df = await connect({ url, ...admin });
  const [role] = await df.system.role.create({
    name: "reader",
    is_active: true,
    role_service_access_by_role_id: [
      { service_id: 2, component: "*", verb_mask: 1, requestor_mask: 1 },
    ],
  });
  const [app] = await df.system.app.create(
    { name: "reader-app", type: 0, is_active: true, role_id: role.id },
    { fields: ["api_key"] },
  );
  await df.logout();
  return app.api_key as string;
}

/**
 * Follows a spawned child's stderr: `until(pattern)` reads until the text matches (an error if
 * the child exits first), `exit()` reads the rest and returns the exit code. A child that stops
 * reacting is killed after `seconds`, so a test fails instead of hanging.
 */
export function followStderr(child: Deno.ChildProcess, seconds: number) {
  const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => child.kill("SIGKILL"), seconds * 1000);
  const out = {
    text: "",
    async until(pattern: RegExp): Promise<void> {
      while (!pattern.test(out.text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`exited before ${pattern}:\n${out.text}`);
        out.text += value;
      }
    },
    async exit(): Promise<number> {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out.text += value;
      }
      const { code } = await child.status;
      clearTimeout(deadline);
      return code;
    },
    /** Stops the deadline (for a test that ends early). */
    stop(): void {
      clearTimeout(deadline);
    },
  };
  return out;
}

/** Whether python3 (its pty module gives the prompt tests a terminal) is installed: without it
 * those tests are reported as ignored, not passed. */
export const HAS_PYTHON = await new Deno.Command("python3", { args: ["-c", "import pty"] })
  .output().then((o) => o.success, () => false);

/**
 * Runs `command` on a pseudo-terminal (Python's pty: Deno has none) in the repository root,
 * for at most `seconds`. `steps`: each `[text, keys]` types `keys` once `text` shows in what was
 * printed since the previous step. Returns what the user saw; undefined without python3.
 */
export async function onPty(
  command: string[],
  env: Record<string, string>,
  steps: [string, string][],
  { seconds = 60 } = {},
): Promise<string | undefined> {
  const driver = `
import json, os, pty, sys, time, select, signal
steps = json.loads(sys.argv[1])
limit = float(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
out, mark, t0 = b"", 0, time.time()
while time.time() - t0 < limit:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try: d = os.read(fd, 65536)
        except OSError: break
        if not d: break
        out += d
    if steps and steps[0][0].encode() in out[mark:]:
        time.sleep(0.3)
        for k in steps.pop(0)[1].encode():
            os.write(fd, bytes([k])); time.sleep(0.05)
        mark = len(out)
try: os.kill(pid, signal.SIGKILL)
except ProcessLookupError: pass
os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
`;
  try {
    const out = await new Deno.Command("python3", {
      args: ["-c", driver, JSON.stringify(steps), String(seconds), ...command],
      cwd: ROOT,
      env: childEnv({ ...env, NO_COLOR: "1" }),
      stdout: "piped",
      stderr: "piped",
    }).output();
    return new TextDecoder().decode(out.stdout);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}
