#!/usr/bin/env -S deno run --no-prompt --allow-net --allow-env --allow-read --allow-write --allow-sys=hostname
/**
 * `dfkit`: the DreamFactory command line.
 *
 * ```sh
 * deno task dfkit --help
 * deno task dfkit get system/user --filter "email like '%@x.com'" --fields id,email --limit 10
 * ```
 *
 * Permissions (exactly what `deno task dfkit` passes):
 * - `--allow-net`: the DreamFactory instance (any host you point it at) and `sandbox` listening.
 * - `--allow-env`: `DF_*` settings, `HOME` for the profiles file, terminal detection.
 * - `--allow-read`: the profiles file, `--file` inputs, snapshots and HAR files.
 * - `--allow-write`: `login --save` (profiles file), the sandbox's `--data` file, command outputs.
 * - `--allow-sys=hostname`: `sandbox` reports the host name in sessions, as DreamFactory does.
 * - `--no-prompt`: anything else fails at once instead of waiting at a permission prompt.
 *
 * Exit codes: 0 success, 1 a DreamFactory, network or other runtime error, 2 bad usage
 * (unknown option, missing argument, missing credentials), 3 a batch that partly failed.
 *
 * Passwords come from `DF_PASSWORD` (or the `env:` variable a profile names) or a hidden prompt,
 * never from the command line.
 *
 * @module
 */
import { Command, InvalidArgumentError } from "commander";
import {
  type connect,
  displayReady,
  DreamFactoryBatchError,
  DreamFactoryError,
  FilterError,
  FilterSyntaxError,
  QueryArgumentError,
  renderCurl,
  startSandbox,
  table,
} from "../mod.ts";
import { DEFAULT_ADMIN } from "../lib/sandbox/mod.ts";
import { existingProfilesFile } from "../lib/auth.ts";
import { jsonErrorAt } from "../lib/json.ts";
import { fileError, mkdirNamed, writeTextFileNamed } from "../lib/files.ts";
import { harCommand } from "./har.ts";
import { migrateCommand } from "./migrate.ts";
import { provisionCommand } from "./provision.ts";
import { enterTaskFolder } from "./cwd.ts";
import {
  EXIT,
  mayRunDrift,
  reportFailure,
  runCommandLine,
  throwOnUsageErrors,
  UsageError,
} from "./usage.ts";
import { onCtrlC, untilStopped } from "./signals.ts";
import { parseInput, readInput } from "./input.ts";
import { terminalProgress } from "./progress.ts";
import { redactJson } from "../lib/secrets.ts";
import { type AskPassword, promptPassword } from "./password.ts";
import {
  type ConnectionFlags,
  connectOptions,
  type ConnectSources,
  openClient,
  type OpenedClient,
  withConnectionOptions,
} from "./connection.ts";

/** Command trees of the recipes, mounted as subcommands. Each connects by itself (with
 * {@linkcode connectOptions} and the global options), when it is ready to: `migrate` checks its
 * input files before it asks for a missing password. */
const RECIPE_COMMANDS: (() => Command)[] = [migrateCommand, provisionCommand, harCommand];

export { type AskPassword, connectOptions, type ConnectSources, promptPassword, UsageError };

/** Exit codes of every dfkit command. */
export { EXIT };

/** Options every command accepts (declared on the program, shown in every `--help`). */
export interface GlobalOptions extends ConnectionFlags {
  json?: boolean;
  showSecrets?: boolean;
}

type Client = Awaited<ReturnType<typeof connect>>;
type AnyRecord = Record<string, unknown>;

function env(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined;
  }
}

/**
 * Connects with the global options (see {@linkcode connectOptions}); `close()` ends the session
 * only if the command opened it.
 */
export function connectFrom(opts: GlobalOptions): Promise<OpenedClient> {
  return openClient(opts);
}

/** Masks secret fields in data about to be printed as JSON (unless `--show-secrets`): the
 * shared classifier's rule, the same the tables use. */
export function maskSecrets(value: unknown): unknown {
  return redactJson(value);
}

/** What a table too wide for the terminal suggests: only options `cmd` accepts. */
export function overflowHint(cmd?: Command): string {
  const fields = cmd?.options.some((o) => o.long === "--fields");
  return fields
    ? "narrow with --fields a,b,... or see everything with --json"
    : "see everything with --json";
}

/** Prints a result: JSON with `--json`, else a table (records) or key/value lines. `cmd`: the
 * command printing it (a table too wide for the terminal suggests that command's options). */
export function printResult(value: unknown, opts: GlobalOptions, cmd?: Command): void {
  if (opts.json) {
    console.log(JSON.stringify(opts.showSecrets ? value : maskSecrets(value), null, 2));
    return;
  }
  // A raw answer's {"resource": [...]} envelope shows as its records (JSON keeps the envelope).
  const records = value && typeof value === "object" && !Array.isArray(value) &&
      Object.keys(value).length === 1 && Array.isArray((value as AnyRecord).resource)
    ? (value as AnyRecord).resource as unknown[]
    : value;
  const options = { overflowHint: overflowHint(cmd) };
  if (Array.isArray(records)) console.log(String(table(records, options)));
  else if (records && typeof records === "object") console.log(String(table([records], options)));
  else console.log(String(records));
}

/**
 * A progress bar on stderr for long work; silent when stderr is not a terminal (CI, pipes) so
 * output stays clean.
 */
export function progressBar(label: string, total: number): {
  tick(n?: number): void;
  stop(): void;
} {
  const bar = terminalProgress(`${label} [{bar}] {value}/{total} {eta_formatted}`, {
    silent: total <= 0,
  });
  bar.update(0, total);
  return bar;
}

// ---------------------------------------------------------------------------------------------
// Resource paths: `system/<resource>[/<id>]`, `<service>/_table/<table>[/<id>]`,
// `<service>/_schema[/<table>]`; anything else goes through `df.request` as-is.

/** What a resource path names. */
export type Target =
  | { kind: "system"; resource: string; id?: string }
  | { kind: "table"; service: string; table: string; id?: string }
  | { kind: "schema"; service: string; table?: string }
  | { kind: "raw"; path: string };

/** Parses a resource path as used by `get`, `create`, `update`, `delete` and `curl`. */
export function parseTarget(path: string): Target {
  const full = path.match(/^https?:\/\/[^/]+(?:\/api\/v2)?\/?(.*)$/);
  if (full) {
    // Without the query string: it may carry an api_key or session_token.
    const resource = full[1].replace(/[?#].*$/, "") || "system/user";
    throw new UsageError(
      `Give the path under /api/v2 (${resource}); the instance goes in --url or DF_URL, and ` +
        "query parameters in options (--filter, --fields, ...).",
    );
  }
  const clean = path.replace(/^\/+|\/+$/g, "").replace(/^api\/v2\//, "");
  if (!clean) throw new UsageError("Empty resource path: try system/user or db/_table/contact.");
  const parts = clean.split("/");
  if (parts[0] === "system" && parts.length >= 2 && parts.length <= 3) {
    return { kind: "system", resource: parts[1], id: parts[2] };
  }
  if (parts[1] === "_table" && parts.length >= 3 && parts.length <= 4) {
    return { kind: "table", service: parts[0], table: parts[2], id: parts[3] };
  }
  if (parts[1] === "_schema" && parts.length <= 3) {
    return { kind: "schema", service: parts[0], table: parts[2] };
  }
  return { kind: "raw", path: clean };
}

interface QueryOptions {
  filter?: string;
  fields?: string;
  related?: string;
  order?: string;
  limit?: number;
  offset?: number;
  ids?: string;
  count?: boolean;
}

// deno-lint-ignore no-explicit-any
type AnyQuery = any; // the builder type differs per resource; the CLI drives it generically

function builderFor(df: Client, target: Target): AnyQuery | undefined {
  if (target.kind === "system") {
    const q = (df.system as unknown as Record<string, AnyQuery>)[target.resource];
    return q && typeof q.filter === "function" ? q : undefined;
  }
  if (target.kind === "table") return df.db(target.service).table(target.table);
  return undefined;
}

function splitList(text: string | undefined): string[] | undefined {
  return text ? text.split(",").map((s) => s.trim()).filter(Boolean) : undefined;
}

function applyQuery(q: AnyQuery, o: QueryOptions, id?: string): AnyQuery {
  if (id !== undefined) q = q.ids(id);
  if (o.ids) q = q.ids(...splitList(o.ids)!);
  if (o.filter) q = q.filter(o.filter);
  if (o.fields) q = q.fields(...splitList(o.fields)!);
  if (o.related) q = q.related(...splitList(o.related)!);
  if (o.order) q = q.order(o.order);
  if (o.limit !== undefined) q = q.limit(o.limit);
  if (o.offset !== undefined) q = q.offset(o.offset);
  return q;
}

function rawQuery(o: QueryOptions): Record<string, string | number | boolean | undefined> {
  return {
    filter: o.filter,
    fields: o.fields,
    related: o.related,
    order: o.order,
    limit: o.limit,
    offset: o.offset,
    ids: o.ids,
    count_only: o.count || undefined,
  };
}

function intOption(name: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `from ${min} to ${max}`;
      throw new InvalidArgumentError(`${name} must be a whole number ${range}.`);
    }
    return n;
  };
}

function addQueryOptions(cmd: Command, what: "read" | "write"): Command {
  cmd
    .option("--filter <expr>", "DreamFactory filter, e.g. \"(email like '%@x.com') and (id > 1)\"")
    .option("--ids <list>", "comma-separated ids");
  if (what === "read") {
    cmd
      .option("--fields <list>", "comma-separated fields to return (default: all)")
      .option("--related <list>", "comma-separated relationships to include")
      .option("--order <spec>", 'order, e.g. "name desc"')
      .option("--limit <n>", "most records to return", intOption("--limit", 1))
      .option("--offset <n>", "records to skip", intOption("--offset"))
      .option("--count", "print only the number of matching records");
  }
  return cmd;
}

/** Reads record data from `--data JSON`, `--file PATH` or stdin (`--file -`). */
export async function readData(o: { data?: string; file?: string }): Promise<unknown> {
  let text: string;
  let where: string;
  if (o.data !== undefined) {
    text = o.data;
    where = "--data";
  } else if (o.file !== undefined) {
    where = o.file === "-" ? "stdin" : o.file;
    text = await readInput(o.file, "--file");
  } else {
    throw new UsageError(
      "No record data: pass --data '{...}' or --file records.json (- for stdin).",
    );
  }
  return parseInput(text, (at) => `${where} is not valid JSON (${at})`);
}

function asRecordList(data: unknown): AnyRecord[] {
  const list = Array.isArray(data)
    ? data
    : data && typeof data === "object" && Array.isArray((data as AnyRecord).resource)
    ? (data as { resource: unknown[] }).resource
    : [data];
  list.forEach((r, i) => {
    if (!r || typeof r !== "object" || Array.isArray(r)) {
      throw new UsageError(`Record #${i} is not a JSON object; records look like {"name": "x"}.`);
    }
  });
  return list as AnyRecord[];
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

async function withClient<T>(cmd: Command, work: (df: Client) => Promise<T>): Promise<T> {
  const client = await connectFrom(globals(cmd));
  try {
    return await work(client.df);
  } finally {
    await client.close(); // a session made for this one command; a token the user gave is kept
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

async function getAction(path: string, o: QueryOptions, cmd: Command): Promise<void> {
  const target = parseTarget(path);
  await withClient(cmd, async (df) => {
    if (target.kind === "schema") {
      const schema = df.db(target.service).schema;
      const result = target.table ? await schema.get(target.table) : await schema.list();
      printResult(
        Array.isArray(result) ? result.map((name: string) => ({ name })) : result,
        globals(cmd),
        cmd,
      );
      return;
    }
    const q = builderFor(df, target);
    if (!q || target.kind === "raw") {
      const rawPath = target.kind === "raw" ? target.path : path.replace(/^\/+|\/+$/g, "");
      printResult(await df.request("GET", rawPath, { query: rawQuery(o) }), globals(cmd), cmd);
      return;
    }
    if (target.id !== undefined && !o.ids && !o.filter && !o.count) {
      // One record by id: a 404 when absent (fields and related apply).
      printResult(await applyQuery(q, o).get(target.id), globals(cmd), cmd);
      return;
    }
    const query = applyQuery(q, o, target.id);
    if (o.count) {
      const n = await query.count();
      printResult(globals(cmd).json ? { count: n } : n, globals(cmd), cmd);
      return;
    }
    printResult(await collect(query, o.limit), globals(cmd), cmd);
  });
}

/** Walks every page of a query, with a progress bar when more than one page is needed. */
async function collect(query: AnyQuery, limit?: number): Promise<unknown[]> {
  const records: unknown[] = [];
  let bar: ReturnType<typeof progressBar> | undefined;
  try {
    for await (const page of query.pages()) {
      records.push(...page.records);
      if (!bar && page.more) {
        bar = progressBar("Reading", Math.min(page.count ?? 0, limit ?? Infinity));
        bar.tick(records.length);
      } else bar?.tick(page.records.length);
    }
  } finally {
    bar?.stop();
  }
  return records;
}

interface WriteOptions {
  data?: string;
  file?: string;
  fields?: string;
  continue?: boolean;
  rollback?: boolean;
  chunk?: number;
  filter?: string;
  ids?: string;
}

function writeOptions(o: WriteOptions) {
  return { fields: o.fields, continue: o.continue, rollback: o.rollback };
}

async function createAction(path: string, o: WriteOptions, cmd: Command): Promise<void> {
  const target = parseTarget(path);
  const records = asRecordList(await readData(o));
  await withClient(cmd, async (df) => {
    const q = builderFor(df, target);
    if (!q) {
      const rawPath = target.kind === "raw" ? target.path : path;
      printResult(
        await df.request("POST", rawPath, { body: { resource: records } }),
        globals(cmd),
        cmd,
      );
      return;
    }
    const chunk = o.chunk ?? records.length;
    const created: unknown[] = [];
    const bar = progressBar("Creating", records.length > chunk ? records.length : 0);
    // In chunks, Ctrl-C stops after the chunk in flight (its records are then on the server)
    // and says where the input stopped, instead of dying mid-way without a word.
    let interrupted = false;
    let next = 0; // the first record of the chunk in flight
    let end = 0; // the first record after it
    const last = records.length - 1;
    const release = records.length > chunk
      ? onCtrlC(() => {
        bar.stop();
        interrupted = true;
        console.error("Stopping after the chunk in flight (Ctrl-C again to quit now).");
      }, () => {
        bar.stop();
        console.error(
          `Quit without waiting for the chunk in flight: created ${next} of ${records.length} ` +
            `record(s)${next ? ` (#0 to #${next - 1})` : ""}; #${next} to #${end - 1}, the ` +
            "chunk in flight, may or may not have been written" +
            (end <= last ? `; #${end} to #${last} were not sent` : "") +
            ". Check which of the chunk exist before sending them again.",
        );
      })
      : undefined;
    try {
      for (let i = 0; i < records.length; i += chunk) {
        if (interrupted) break;
        next = i;
        end = Math.min(i + chunk, records.length);
        const part = records.slice(i, i + chunk);
        try {
          created.push(...await q.create(part, writeOptions(o)));
        } catch (e) {
          // The server only saw this chunk: report positions in the whole file, with the
          // records of earlier chunks as created and the later ones as never attempted.
          if (e instanceof DreamFactoryBatchError && records.length > part.length) {
            const before = created.map((record, index) => ({ index, record: record as AnyRecord }));
            throw e.rebased(i, part.length, records.length, before);
          }
          throw e;
        }
        bar.tick(part.length);
        next = i + part.length;
      }
    } finally {
      release?.();
      bar.stop(); // ends the progress line
    }
    printResult(created, globals(cmd), cmd);
    if (interrupted && next < records.length) {
      const source = o.file && o.file !== "-" ? o.file : "the input";
      console.error(
        `Interrupted: created ${next} of ${records.length} record(s) (#0 to #${next - 1}); ` +
          `#${next} to #${records.length - 1} were not sent. To finish, create the records ` +
          `of ${source} from index ${next} on (the first ${next} exist now).`,
      );
      Deno.exitCode = 130; // as shells report an interrupted command
    }
  });
}

/** For a write to one record named in the path: its own error (a 404, exit 1) rather than a
 * one-record batch report (exit 3). */
function ownError(single: boolean): (e: unknown) => never {
  return (e) => {
    if (single && e instanceof DreamFactoryBatchError && e.failed.length === 1) {
      throw e.failed[0].error;
    }
    throw e;
  };
}

async function updateAction(path: string, o: WriteOptions, cmd: Command): Promise<void> {
  const target = parseTarget(path);
  const data = await readData(o);
  await withClient(cmd, async (df) => {
    const q = builderFor(df, target);
    if (!q) {
      const rawPath = target.kind === "raw" ? target.path : path;
      printResult(await df.request("PATCH", rawPath, { body: data }), globals(cmd), cmd);
      return;
    }
    const id = "id" in target ? target.id : undefined;
    if (id !== undefined || o.ids || o.filter) {
      if (Array.isArray(data)) {
        throw new UsageError(
          "With an id, --ids or --filter, --data must be one object of changes.",
        );
      }
      const scoped = applyQuery(q, { ids: o.ids, filter: o.filter }, id);
      const updated = await scoped.update(data, writeOptions(o))
        .catch(ownError(id !== undefined && !o.ids && !o.filter));
      printResult(updated, globals(cmd), cmd);
    } else {
      const records = asRecordList(data);
      const missing = records.findIndex((r) => r.id === undefined);
      if (missing >= 0) {
        throw new UsageError(
          `Record #${missing} has no "id": give each record its id, or name the records with ` +
            "an id in the path, --ids or --filter.",
        );
      }
      printResult(await q.update(records, writeOptions(o)), globals(cmd), cmd);
    }
  });
}

async function deleteAction(path: string, o: WriteOptions, cmd: Command): Promise<void> {
  const target = parseTarget(path);
  await withClient(cmd, async (df) => {
    const q = builderFor(df, target);
    const id = "id" in target ? target.id : undefined;
    if (!q) {
      const rawPath = target.kind === "raw" ? target.path : path;
      printResult(await df.request("DELETE", rawPath, { query: rawQuery(o) }), globals(cmd), cmd);
      return;
    }
    if (id === undefined && !o.ids && !o.filter) {
      throw new UsageError(
        "Refusing to delete without a scope: name the record (system/role/4), or pass --ids or --filter.",
      );
    }
    const deleted = await applyQuery(q, { ids: o.ids, filter: o.filter }, id).delete()
      .catch(ownError(id !== undefined && !o.ids && !o.filter));
    printResult(deleted, globals(cmd), cmd);
  });
}

async function curlAction(
  method: string,
  path: string,
  o: QueryOptions & WriteOptions,
  cmd: Command,
): Promise<void> {
  const verb = method.toUpperCase();
  if (!["GET", "POST", "PUT", "PATCH", "DELETE"].includes(verb)) {
    throw new UsageError(`Unknown method "${method}": use get, post, put, patch or delete.`);
  }
  const target = parseTarget(path);
  await withClient(cmd, async (df) => {
    const q = builderFor(df, target);
    if (verb === "GET" && q) {
      console.log(applyQuery(q, o, "id" in target ? target.id : undefined).toCurl());
      return;
    }
    const body = o.data !== undefined || o.file !== undefined ? await readData(o) : undefined;
    const wrapped = verb === "POST" && body !== undefined && !(body as AnyRecord)?.resource
      ? { resource: asRecordList(body) }
      : body;
    const rawPath = target.kind === "raw" ? target.path : path.replace(/^\/+|\/+$/g, "");
    console.log(renderCurl(df.describe(verb, rawPath, { query: rawQuery(o), body: wrapped })));
  });
}

async function loginAction(o: { save?: string }, cmd: Command): Promise<void> {
  const g = globals(cmd);
  const client = await connectFrom(g);
  const { df } = client;
  const session = df.session;
  // A session opened for this check is ended; a token the user gave (env, profile) is theirs.
  await client.close();
  if (o.save) {
    // The profile keeps no secret: the password (or key) is read from the environment.
    const secret = session?.email
      ? { email: session.email, password: "env:DF_PASSWORD" }
      : { apiKey: "env:DF_API_KEY" };
    const path = await saveProfile(o.save, {
      url: df.url,
      ...(g.user ? { admin: false } : {}),
      ...secret,
    });
    const from = "password" in secret ? "password: env:DF_PASSWORD" : "API key: env:DF_API_KEY";
    if (!g.json) console.error(`Saved profile "${o.save}" in ${path} (${from}).`);
  }
  printResult(
    g.json ? { url: df.url, ...session } : [{ url: df.url, ...pick(session) }],
    g,
    cmd,
  );
}

function pick(session: unknown): AnyRecord {
  const s = (session ?? {}) as AnyRecord;
  return {
    id: s.id,
    email: s.email,
    name: s.name,
    is_sys_admin: s.is_sys_admin,
    role: s.role ?? null,
    expires_at: s.expires_at ?? s.token_expiry_date,
  };
}

/** Adds or replaces a profile in the profiles file (`$DFKIT_PROFILES` or the default path). */
async function saveProfile(name: string, entry: AnyRecord): Promise<string> {
  const home = env("HOME");
  // The file connect() reads (a ./dfkit.profiles.json when there is no home one), else a new one.
  const path = env("DFKIT_PROFILES") ?? await existingProfilesFile() ??
    (home ? `${home}/.config/dfkit/profiles.json` : "./dfkit.profiles.json");
  let data: { default?: string; profiles: Record<string, AnyRecord> } = { profiles: {} };
  let text: string | undefined;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    // None yet: this profile starts it.
    if (!(e instanceof Deno.errors.NotFound)) {
      throw fileError(e, path, "read", "dfkit profiles file");
    }
  }
  if (text !== undefined) {
    try {
      data = JSON.parse(text);
    } catch {
      // Where the mistake is, never the text around it (V8's message quotes it: a password).
      throw new Error(`The dfkit profiles file ${path} is not valid JSON (${jsonErrorAt(text)})`);
    }
    data.profiles ??= {};
  }
  data.profiles[name] = entry;
  const dir = path.includes("/") ? path.slice(0, path.lastIndexOf("/")) : ".";
  await mkdirNamed(dir, "folder of the dfkit profiles file");
  await writeTextFileNamed(path, JSON.stringify(data, null, 2) + "\n", "dfkit profiles file", {
    mode: 0o600,
  });
  return path;
}

async function whoamiAction(_o: unknown, cmd: Command): Promise<void> {
  await withClient(cmd, async (df) => {
    const g = globals(cmd);
    if (!df.session) {
      // An API key alone: the service list is what its app's default role reaches. DreamFactory
      // answers an unknown key like a key without a role (no services), so say both.
      const root = await df.request<{ services?: { name: string }[] }>("GET", "");
      const services = (root.services ?? []).map((s) => s.name);
      const who = { url: df.url, auth: "API key only", services: services.join(", ") || "none" };
      printResult(g.json ? { ...who, services } : [who], g, cmd);
      if (!services.length) {
        console.error(
          "note: this API key reaches no service on its own: the key is unknown, or its app has " +
            "no default role (or one that grants no service). Log in as a user " +
            "(DF_EMAIL/DF_PASSWORD with the key) to use that user's role.",
        );
      }
      return;
    }
    // Ask the server (not the local copy) who this token belongs to; drop the token it echoes.
    const path = df.session.is_sys_admin ? "system/admin/session" : "user/session";
    const { session_token: _t, session_id: _i, ...session } = await df.request<AnyRecord>(
      "GET",
      path,
    );
    // The expiry as `login` shows it: when the token expires by this machine's clock.
    const expires = { expires_at: df.session.expires_at ?? session.token_expiry_date };
    printResult(
      g.json
        ? { url: df.url, ...session, ...expires }
        : [{ url: df.url, ...pick({ ...session, ...expires }) }],
      g,
      cmd,
    );
  });
}

interface SandboxCliOptions {
  port: number;
  host: string;
  data?: string;
  adminEmail?: string;
  jwtTtl?: number;
  maxRecords?: number;
}

async function sandboxAction(o: SandboxCliOptions, cmd: Command): Promise<void> {
  const password = env("DF_SANDBOX_PASSWORD");
  const admin = o.adminEmail || password
    ? { email: o.adminEmail ?? DEFAULT_ADMIN.email, password: password ?? DEFAULT_ADMIN.password }
    : undefined;
  // An existing data file keeps the admin it was created with.
  const existing = o.data !== undefined && await Deno.stat(o.data).then(() => true, () => false);
  let sb;
  try {
    sb = await startSandbox({
      port: o.port,
      host: o.host,
      data: o.data,
      admin,
      jwtTtl: o.jwtTtl,
      maxRecords: o.maxRecords,
    });
  } catch (e) {
    if (e instanceof Deno.errors.AddrInUse) {
      throw new Error(`port ${o.port} on ${o.host} is in use; pick another with --port N`);
    }
    // A --data file that is not a sandbox database, a folder that is not writable, ...
    if (o.data !== undefined) {
      throw new Error(`cannot open --data ${o.data}: ${(e as Error).message}`);
    }
    throw e;
  }
  const g = globals(cmd);
  // The default password is public (DreamFactory's docs use it); a chosen one is never printed.
  const passwordNote = existing
    ? `(the one set when ${o.data} was created)`
    : password
    ? "(from DF_SANDBOX_PASSWORD)"
    : `${DEFAULT_ADMIN.password} (the default)`;
  if (g.json) {
    console.log(JSON.stringify({ url: sb.url, email: sb.admin.email, data: o.data ?? null }));
  } else {
    console.log(`DreamFactory sandbox listening on ${sb.url}`);
    console.log(`  admin:    ${sb.admin.email}  password: ${passwordNote}`);
    console.log(`  storage:  ${o.data ?? "in memory (gone on exit)"}`);
    console.log(`  try:      DF_URL=${sb.url} DF_EMAIL=${sb.admin.email} deno task dfkit whoami`);
    console.log("Press Ctrl-C to stop.");
  }
  await untilStopped();
  await sb.close();
  if (!g.json) console.log("Sandbox stopped.");
}

/** Builds the `dfkit` program (exported for tests and embedding). */
export function buildProgram(): Command {
  const program = new Command("dfkit")
    .description("Script DreamFactory from the command line: query, change, migrate, provision.")
    .version("0.1.0");
  withConnectionOptions(program)
    .option("--json", "print JSON instead of tables")
    .option("--show-secrets", "with --json: do not mask api_key and other secret fields")
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      `
Resource paths: system/<resource>[/<id>], <service>/_table/<table>[/<id>], <service>/_schema[/<table>]
Environment: DF_URL, DF_EMAIL, DF_PASSWORD, DF_API_KEY, DF_SESSION_TOKEN, DF_PROFILE, DFKIT_PROFILES
Exit codes: 0 ok, 1 error, 2 bad usage, 3 batch partly failed`,
    );

  program.command("login")
    .description("log in (admin, or --user), show the session; --save NAME stores a profile")
    .option("--save <profile>", "save url and email as a profile (password stays in DF_PASSWORD)")
    .action(loginAction);

  program.command("whoami")
    .description("show who the current credentials belong to")
    .action(whoamiAction);

  addQueryOptions(
    program.command("get")
      .description("read records: get system/user --filter ... --fields id,email --limit 10")
      .argument(
        "<path>",
        "resource path, e.g. system/user, system/role/4, db/_table/contact, db/_schema",
      ),
    "read",
  ).action(getAction);

  const withData = (cmd: Command) =>
    cmd
      .option("--data <json>", 'record(s) as JSON: an object, an array, or {"resource": [...]}')
      .option("--file <path>", "read record JSON from a file (- for stdin)")
      .option("--fields <list>", "fields to return for each written record")
      .option("--continue", "keep going past a failing record (DreamFactory's continue=true)")
      .option("--rollback", "undo the whole batch if any record fails (rollback=true)");

  withData(
    program.command("create")
      .description('create records: create system/role --data \'{"name":"support"}\'')
      .argument("<path>", "resource path, e.g. system/role or db/_table/contact"),
  ).option(
    "--chunk <n>",
    "send records in batches of n (with a progress bar)",
    intOption("--chunk", 1),
  )
    .action(createAction);

  addQueryOptions(
    withData(
      program.command("update")
        .description("PATCH records: by id in the path, --ids, --filter, or records carrying ids")
        .argument("<path>", "resource path, e.g. system/role/4 or db/_table/contact"),
    ),
    "write",
  ).action(updateAction);

  addQueryOptions(
    program.command("delete")
      .description("delete records named by id in the path, --ids or --filter")
      .argument("<path>", "resource path, e.g. system/role/4 or db/_table/contact"),
    "write",
  ).action(deleteAction);

  addQueryOptions(
    program.command("curl")
      .description("print the exact HTTP call as curl (secrets as $DF_SESSION_TOKEN / $DF_API_KEY)")
      .argument("<method>", "get, post, put, patch or delete")
      .argument("<path>", "resource path, e.g. system/user")
      .option("--data <json>", "request body as JSON")
      .option("--file <path>", "read the request body from a file (- for stdin)"),
    "read",
  ).action(curlAction);

  program.command("sandbox")
    .description("run an embedded DreamFactory-compatible sandbox until Ctrl-C")
    .option(
      "--port <n>",
      "port to listen on (0 = any free port)",
      intOption("--port", 0, 65535),
      8080,
    )
    .option("--host <host>", "interface to listen on", "127.0.0.1")
    .option("--data <file>", "SQLite file to keep data in (default: memory)")
    .option("--admin-email <email>", "first admin's email (password from $DF_SANDBOX_PASSWORD)")
    .option("--jwt-ttl <seconds>", "session token lifetime (default 86400)", intOption("--jwt-ttl"))
    .option("--max-records <n>", "most records per request", intOption("--max-records", 1))
    .action(sandboxAction);

  for (const make of RECIPE_COMMANDS) {
    const sub = make();
    // A recipe's own --json/--profile (for running it standalone) work here too, but help
    // lists the program's: once, not twice.
    for (const option of sub.options) {
      if (program.options.some((p) => p.long === option.long)) option.hideHelp();
    }
    program.addCommand(sub);
  }

  // Every command, mounted ones included: help shows the global options, and usage errors
  // throw (mapped to exit code 2 by runCommandLine) instead of exiting the process.
  return throwOnUsageErrors(program, { showGlobalOptions: true });
}

/** Maps an error to a message on stderr and an exit code. */
export function reportError(e: unknown): number {
  if (e instanceof DreamFactoryBatchError) {
    // Exit 3 tells a CI job that some writes landed; with none kept it is a plain failure.
    // (A chunked create keeps earlier chunks even when the failing one was rolled back.)
    const kept = e.succeeded.some((s) => !s.rolledBack);
    console.error(
      `error: batch ${kept ? "partly failed" : "failed, nothing written"}: ${e.summary}`,
    );
    for (const f of e.failed) console.error(`  #${f.index} failed: ${f.error.message}`);
    for (const s of e.succeeded) {
      const id = (s.record as AnyRecord | null)?.id;
      console.error(
        `  #${s.index} ${s.rolledBack ? "rolled back" : "succeeded"}${
          id !== undefined ? ` (id ${id})` : ""
        }`,
      );
    }
    if (e.skipped.length) console.error(`  not attempted: #${e.skipped.join(", #")}`);
    return kept ? EXIT.partial : EXIT.error;
  }
  if (e instanceof DreamFactoryError) {
    console.error(`error: ${e.summary}`);
    return EXIT.error;
  }
  // Ctrl-C at the password prompt, usage mistakes (a flag's value the builder cannot use too),
  // anything else.
  return reportFailure(e, {
    usage: (e) =>
      e instanceof FilterSyntaxError || e instanceof FilterError || e instanceof QueryArgumentError,
  });
}

/** Runs the CLI with the given arguments and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  await displayReady(); // tables render as tables from the first command on
  // Mounted recipe commands report failures through Deno.exitCode; `migrate drift` answers 2 for
  // "drifted": a CI job must not read a mistake as drift.
  return await runCommandLine(buildProgram(), args, {
    report: reportError,
    mayDrift: mayRunDrift(args, "migrate"),
  });
}

if (import.meta.main) {
  enterTaskFolder(); // --file, -o, --snapshot, ./dfkit.profiles.json are the user's paths
  Deno.exit(await main(Deno.args));
}
