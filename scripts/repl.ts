/**
 * REPL preload: `deno task repl` runs `deno repl --eval-file=scripts/repl.ts`, which connects and
 * leaves these globals ready:
 *
 * - `df`: the connected client (`df.session`, `df.request(...)`, `df.logout()`)
 * - `system`: `df.system` (builders on users, roles, apps, services, limits, ...)
 * - `db`: `df.db("db")` (tables and schema of the `db` service)
 * - `dfkit`: the whole module; and `f`, `table`, `connect`, `startSandbox`, the error classes
 *
 * Connection: `DF_URL` (with `DF_EMAIL`/`DF_PASSWORD`, `DF_API_KEY` or `DF_SESSION_TOKEN`) or
 * `DF_PROFILE`, else the profile the profiles file's `"default"` names; when there is none of these,
 * a fresh in-memory sandbox is started with a small `contact` table to play with. A profile's
 * password whose `env:` variable is unset is asked for on the terminal (hidden).
 *
 * Permissions (exactly what `deno task repl` passes): `--allow-net` (the instance; the sandbox
 * listens on 127.0.0.1), `--allow-env` (`DF_*`, `HOME`), `--allow-read` (profiles file, local
 * modules), `--allow-write` (`writeSnapshot` and similar recipes from the prompt),
 * `--allow-sys=hostname` (the sandbox reports the host name in sessions, as DreamFactory does).
 *
 * Imports use the package's own name (`@dfkit/dfkit`): the REPL resolves an eval file's relative
 * imports against the working directory, not the file, while the package name resolves from
 * `deno.json` wherever the task runs.
 *
 * @module
 */
import * as dfkit from "@dfkit/dfkit";

const { connect, startSandbox } = dfkit;

function setting(name: string): string | undefined {
  return Deno.env.get(name) || undefined;
}

/** DF_URL as the REPL may print it: scheme and host, never a `user:password@` part. */
function shownUrl(): string {
  const url = setting("DF_URL") ?? "";
  // Cut by hand when there is an `@`: "user:12/34@host" parses as host "user:12".
  if (url.includes("@")) return "DF_URL (the host after its user:password@)";
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return "DF_URL";
  }
}

/** Creates the sample `contact` table of a fresh sandbox. */
async function seedSandbox(df: dfkit.DreamFactory): Promise<void> {
  await df.db("db").schema.create([{
    name: "contact",
    field: [
      { name: "id", type: "id" },
      { name: "name", type: "string", length: 80, allow_null: false },
      { name: "email", type: "string", length: 120 },
      { name: "city", type: "string", length: 60 },
    ],
  }]);
  await df.db("db").table("contact").create([
    { name: "Ada Lovelace", email: "ada@example.com", city: "London" },
    { name: "Grace Hopper", email: "grace@example.com", city: "New York" },
    { name: "Alan Turing", email: "alan@example.com", city: "Manchester" },
  ]);
}

/**
 * connect() from the environment; a profile's password whose `env:` variable is unset is asked
 * for on the terminal (hidden, as the CLI asks) and handed to connect() in that variable only.
 */
async function connectAsking(): Promise<dfkit.DreamFactory> {
  try {
    return await connect();
  } catch (e) {
    if (
      !(e instanceof dfkit.ProfileVariableError) || e.key !== "password" ||
      !Deno.stdin.isTerminal()
    ) throw e;
    const { default: password } = await import("@inquirer/password");
    const typed = await password({
      message: `Password for profile ${e.profile}`,
      mask: "*",
      toggleMask: false,
    });
    return await connect({ env: { ...Deno.env.toObject(), [e.variable]: typed } });
  }
}

// Neither set: the profiles file's "default", as connect() and the CLI use it (a file that cannot
// be read is reported by connect(), below, instead of quietly starting a sandbox).
const profileName = setting("DF_PROFILE") ??
  (setting("DF_URL") ? undefined : await dfkit.defaultProfileName().catch(() => "default"));
const useInstance = setting("DF_URL") || profileName;
const started = useInstance ? undefined : await startSandbox({ port: 0 });
// The sandbox as the prompt sees it: its URL and close(), not its admin's password.
const sandbox = started && { url: started.url, close: () => started.close() };
let df: dfkit.DreamFactory | undefined;
let reachable: string[] = []; // services an API key alone reaches
try {
  df = started ? await connect({ url: started.url, ...started.admin }) : await connectAsking();
  if (started) await seedSandbox(df);
  // An API key or no credentials at all: connect() sent nothing, so check the server answers.
  // (Any HTTP answer will do; only an unreachable server is a failed connection.) The root lists
  // the services the key's app role reaches, as `dfkit whoami` shows them.
  if (!df.session) {
    const root = await df.request<{ services?: { name: string }[] }>("GET", "").catch((e) => {
      if (e instanceof dfkit.DreamFactoryError && e.status === 0) throw e;
    });
    reachable = (root?.services ?? []).map((s) => s.name);
  }
} catch (e) {
  df = undefined;
  // One line, then a prompt that still has connect() and the rest to try again with.
  const where = profileName ? `profile ${profileName}` : shownUrl();
  console.error(
    `dfkit REPL: could not connect to ${where}: ${(e as Error).message}\n` +
      "  Check DF_URL / DF_EMAIL / DF_PASSWORD (or DF_API_KEY, DF_PROFILE), or unset them for a " +
      'sandbox; then: const df = await connect({ url: "...", email: "...", password: "..." })',
  );
}
const system = df?.system;
const db = df?.db("db");

Object.assign(globalThis, {
  dfkit,
  ...(df ? { df, system, db } : {}),
  sandbox,
  f: dfkit.f,
  table: dfkit.table,
  connect,
  startSandbox,
  DreamFactoryError: dfkit.DreamFactoryError,
  DreamFactoryBatchError: dfkit.DreamFactoryBatchError,
});

// `deno task repl` runs in deno.json's folder: files the user names are relative to where the
// task was started. (Inline: an eval file's relative imports resolve against the working folder.)
try {
  const from = Deno.env.get("INIT_CWD");
  // Only from the checkout's root (where the task runs; `import.meta` is not available here).
  if (from && Deno.statSync("scripts/repl.ts").isFile) {
    Deno.chdir(from);
  }
} catch { /* stay */ }

if (df) {
  const auth = df.toJSON().auth;
  // An API key alone: what it reaches. DreamFactory answers an unknown key like a key whose app
  // has no role (no services), so none is said plainly instead of "connected".
  const who = df.session?.email ??
    (auth === "anonymous"
      ? "nobody (no credentials: set DF_API_KEY or DF_EMAIL/DF_PASSWORD)"
      : reachable.length
      ? `API key (services it reaches: ${reachable.join(", ")})`
      : "API key, which reaches no service: the key is unknown, or its app has no default role\n" +
        "  (or one that grants no service). Log in as a user (DF_EMAIL/DF_PASSWORD with the key)" +
        "\n  to use that user's role.");
  const where = sandbox ? `a fresh sandbox at ${df.url} (in memory)` : df.url;
  console.log(`dfkit REPL: connected to ${where} as ${who}

  df        the client      df.session · await df.request("GET", "system/environment")
  system    df.system       await system.user.fields("id", "email", "name").limit(5)
                            await system.role.filter(f\`name like \${"cust%"}\`)
  db        df.db("db")     await db.schema.list() · await db.table("contact").order("name")
  also      dfkit (the module), f, table, connect, startSandbox, DreamFactoryError

  Results print as tables; console.log(builder.toCurl()) shows the exact call ($DF_SESSION_TOKEN).
  Secrets never print. Leave with close() or Ctrl-D.`);
}
