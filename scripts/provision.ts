/**
 * `provision`: customer provisioning from the shell (the recipe in `lib/provision/`).
 *
 * ```sh
 * deno run -A scripts/provision.ts provision acme-42 --name "Acme Inc." \
 *   --access 'db:_table/*:GET' --limit 1000/day
 * deno run -A scripts/provision.ts rotate-key acme-42 --json
 * deno run -A scripts/provision.ts suspend acme-42
 * deno run -A scripts/provision.ts resume acme-42
 * deno run -A scripts/provision.ts deprovision acme-42
 * ```
 *
 * Connects as every dfkit command does: `--profile NAME` (or `DF_PROFILE`), else `DF_URL` with
 * `DF_EMAIL`/`DF_PASSWORD`, `DF_SESSION_TOKEN` or `DF_API_KEY`, else the profiles file's
 * `"default"`; a missing password (`DF_PASSWORD`, or a profile's unset `env:` variable) is asked
 * for on the terminal. A session token you give is kept; a session it opens is ended. The narrowest account is a non-admin user (logged in with the API key of an
 * app whose role has these rules on service `system`): GET on `service`; GET, POST, PATCH,
 * DELETE on `role/*`, `app/*` and `limit/*`; GET, POST, PATCH on `user/*` when `--member` is used.
 * A sys-admin needs nothing more. (`role/*` also covers `role` itself.)
 *
 * A flag not given (and not in `--spec`) keeps what the customer has: `--limit 5000/day` alone
 * changes only the limit (its `per` included), `--access` alone only the rules; `--no-limit`
 * removes the limit. Members are kept unless `--member` lists them.
 *
 * The API key is printed once, by the command that creates it (`provision` of a new customer,
 * `rotate-key`); every other output shows it masked (`****0c00`).
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { connect } from "../lib/client.ts";
import {
  type ConnectionFlags,
  openClient,
  type OpenedClient,
  withConnectionOptions,
} from "./connection.ts";
import { reportFailure, runCommandLine } from "./usage.ts";
import { parseInput, readInput } from "./input.ts";
import {
  type AccessRule,
  type AccessVerb,
  type CustomerSpec,
  deprovisionCustomer,
  getCustomer,
  type LimitPeriod,
  provisionCustomer,
  ProvisionSpecError,
  readCustomerSpec,
  resumeCustomer,
  rotateKey,
  suspendCustomer,
} from "../lib/provision/mod.ts";
import { MAX_LIMIT_RATE, normalizeSpec } from "../lib/provision/spec.ts";

/** The options of the command and its parents (mounted in dfkit: `--url`, `--email`, `--user`
 * too). */
interface GlobalOptions extends ConnectionFlags {
  json?: boolean;
}

interface ProvisionOptions {
  spec?: string;
  name?: string;
  access?: AccessRule[];
  limit?: { rate: number; period: LimitPeriod } | false;
  limitPer?: "key" | "user";
  member?: string[];
  sendInvites?: boolean;
  adopt?: boolean;
}

/** `service[:component]:VERBS`, e.g. `db:_table/*:GET,POST` or `db:GET` (whole service). */
function parseAccess(value: string, previous: AccessRule[] = []): AccessRule[] {
  const parts = value.split(":");
  if (parts.length < 2) {
    throw new InvalidArgumentError(
      `"${value}": use service[:component]:VERBS, e.g. db:_table/*:GET,POST`,
    );
  }
  const service = parts[0];
  const verbs = parts[parts.length - 1].split(",").map((v) =>
    v.trim().toUpperCase()
  ) as AccessVerb[];
  const component = parts.length > 2 ? parts.slice(1, -1).join(":") : "*";
  return [...previous, { service, component, verbs }];
}

/** `RATE/PERIOD`, e.g. `1000/day`, `50/minute`, `100000/30-day`. */
function parseLimit(value: string): { rate: number; period: LimitPeriod } {
  const m = /^(\d+)\/(minute|hour|day|7-day|30-day)$/.exec(value.trim());
  if (!m) {
    throw new InvalidArgumentError(
      `"${value}": use RATE/PERIOD with PERIOD minute, hour, day, 7-day or 30-day (e.g. 1000/day)`,
    );
  }
  const rate = Number(m[1]);
  if (rate < 1 || rate > MAX_LIMIT_RATE) {
    throw new InvalidArgumentError(
      `"${value}": RATE must be from 1 to ${MAX_LIMIT_RATE} (DreamFactory stores it as an INT)`,
    );
  }
  return { rate, period: m[2] as LimitPeriod };
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

async function readSpecFile(path: string): Promise<Partial<CustomerSpec>> {
  // A usage mistake (exit 2), as `dfkit --file` answers it.
  const text = await readInput(path, "--spec");
  return parseInput(text, (at) => `--spec ${path}: not valid JSON (${at})`) as CustomerSpec;
}

/**
 * The spec as given: the `--spec` file first, then the flags on top, checked as
 * provisionCustomer would check it (before connecting).
 */
async function givenSpec(key: string, o: ProvisionOptions): Promise<CustomerSpec> {
  const base = o.spec ? await readSpecFile(o.spec) : {};
  const spec = { ...base, key } as CustomerSpec;
  if (o.access) spec.access = o.access;
  if (o.name !== undefined) spec.name = o.name;
  if (o.limit === false) spec.limit = null;
  else if (o.limit) spec.limit = o.limit;
  if (o.member) spec.users = o.member.map((email) => ({ email }));
  if (o.sendInvites) spec.sendInvites = true;
  // Always read: even a full set of flags leaves the limit's `per` and the users to keep.
  // What is given is checked before the read, as provisionCustomer would before any request.
  normalizeSpec({
    ...spec,
    access: spec.access ?? [],
    users: spec.users ?? (spec.limit?.per === "user" ? [] : undefined),
  });
  return spec;
}

/**
 * Completes the given spec with the customer's current state for what it does not give (name,
 * access, limit and its `per`), so a command changes only what it names. (The library's spec
 * reads an absent `access` or `limit` as "none".)
 */
async function completeSpec(
  df: Awaited<ReturnType<typeof connect>>,
  key: string,
  given: CustomerSpec,
  o: ProvisionOptions,
): Promise<CustomerSpec> {
  const spec = { ...given };
  const current = await readCustomerSpec(df, key, { adopt: o.adopt === true });
  spec.access ??= current?.access ?? [];
  if (!("name" in spec) && current?.name !== undefined) spec.name = current.name;
  if (!("limit" in spec)) spec.limit = current?.limit ?? null;
  else if (o.limit && current?.limit) spec.limit = { ...spec.limit!, per: current.limit.per };
  if (o.limitPer && spec.limit) spec.limit = { ...spec.limit, per: o.limitPer };
  // Per-user limits count the listed users: keep the current ones unless others are given.
  if (spec.limit?.per === "user" && spec.users === undefined) spec.users = current?.users;
  return spec;
}

function print(global: GlobalOptions, value: unknown, lines: string[]): void {
  if (global.json) console.log(JSON.stringify(value, null, 2));
  else console.log(lines.join("\n"));
}

/**
 * Runs `prepare` (reading and checking the input: its mistakes are said before any password is
 * asked for), connects, runs `body`, ends the session it opened; errors become a message on
 * stderr and exit code 1 (2: bad input).
 */
async function withClient<P = undefined>(
  command: Command,
  body: (df: Awaited<ReturnType<typeof connect>>, global: GlobalOptions, input: P) => Promise<void>,
  prepare?: () => Promise<P>,
): Promise<void> {
  const global = command.optsWithGlobals() as GlobalOptions;
  let client: OpenedClient | undefined;
  try {
    const input = (await prepare?.()) as P;
    client = await openClient(global);
    await body(client.df, global, input);
  } catch (e) {
    Deno.exitCode = reportFailure(e, {
      usage: (e) => e instanceof ProvisionSpecError,
      say: global.json
        ? (message) =>
          console.error(JSON.stringify({ error: { name: (e as Error)?.name, message } }))
        : undefined,
    });
  } finally {
    // A session made for this command is ended; a session token the user gave is kept.
    await client?.close();
  }
}

/**
 * The `provision` command tree (`provision`, `rotate-key`, `suspend`, `resume`, `deprovision`,
 * `status`), for mounting in the dfkit CLI or running on its own.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { provisionCommand } from "./provision.ts";
 * const cli = new Command("dfkit").addCommand(provisionCommand());
 * await cli.parseAsync(Deno.args, { from: "user" });
 * ```
 */
export function provisionCommand(): Command {
  const root = new Command("customer")
    .description("provision customers: role, API key and volume limit (idempotent by key)")
    .option("--json", "print results as JSON");
  withConnectionOptions(root);

  root.command("provision")
    .description("create or update a customer so it matches the spec (repeat-safe)")
    .argument("<key>", "customer key, e.g. acme-42 (names role, app and limit customer-<key>)")
    .option("--spec <file>", "JSON CustomerSpec (- for stdin); flags below override it")
    .option("--name <name>", "display name (absent: kept)")
    .option(
      "--access <rule>",
      "service[:component]:VERBS, repeatable (db:_table/*:GET); absent: rules kept",
      parseAccess,
    )
    .addOption(
      new Option("--limit <rate/period>", "volume limit, e.g. 1000/day (absent: kept)").argParser(
        parseLimit,
      ),
    )
    .option("--no-limit", "no volume limit (removes an existing one)")
    .addOption(
      new Option("--limit-per <what>", "count per API key, or per user (absent: kept)").choices([
        "key",
        "user",
      ]),
    )
    // Not `--user`: dfkit's global `--user` (log in as a user) would take it.
    .option("--member <email>", "user who logs in with the key, repeatable", collect)
    .option("--send-invites", "e-mail an invitation to users created now")
    .option("--adopt", "take over a role/app/limit named customer-<key> that dfkit did not make")
    .action((key: string, opts: ProvisionOptions, cmd: Command) =>
      withClient(cmd, async (df, g, given) => {
        const result = await provisionCustomer(df, await completeSpec(df, key, given, opts), {
          adopt: opts.adopt === true,
        });
        // A key can come without a new app: one an earlier, failed call never handed over.
        const created = result.changes.some((c) => c.startsWith("create app "));
        const lines = [
          `customer ${key}: ${created ? "created" : result.changed ? "updated" : "unchanged"}`,
        ];
        if (result.keyCreated) {
          lines.push(`  API key: ${result.apiKey}  (shown only now: hand it to the customer)`);
        } else lines.push(`  API key: ${result.apiKey}`);
        for (const c of result.changes) lines.push(`  - ${c}`);
        for (const n of result.notes ?? []) lines.push(`  note: ${n}`);
        // A plain copy: the result itself dumps its key masked; this is where it is handed over.
        print(g, { ...result }, lines);
      }, () => givenSpec(key, opts))
    );

  root.command("rotate-key")
    .description("issue a new API key; the old one stops working at once")
    .argument("<key>", "customer key")
    .action((key: string, _o: unknown, cmd: Command) =>
      withClient(cmd, async (df, g) => {
        const apiKey = await rotateKey(df, key);
        print(g, { key, apiKey }, [
          `customer ${key}: new API key ${apiKey}  (shown only now; the old key is refused)`,
        ]);
      })
    );

  for (
    const [name, run, text] of [
      ["suspend", suspendCustomer, "deactivate the customer's app and role (reversible)"],
      ["resume", resumeCustomer, "re-activate a suspended customer"],
      ["deprovision", deprovisionCustomer, "remove the customer's limit, app and role"],
    ] as const
  ) {
    root.command(name)
      .description(text)
      .argument("<key>", "customer key")
      .action((key: string, _o: unknown, cmd: Command) =>
        withClient(cmd, async (df, g) => {
          const result = await run(df, key);
          print(g, result, [
            `customer ${key}: ${result.changed ? `${name} done` : "nothing to do"}`,
            ...result.changes.map((c) => `  - ${c}`),
          ]);
        })
      );
  }

  root.command("status")
    .description("show a customer (key masked)")
    .argument("<key>", "customer key")
    .action((key: string, _o: unknown, cmd: Command) =>
      withClient(cmd, async (df, g) => {
        const s = await getCustomer(df, key);
        const limit = s.limit ? `${s.limit.rate}/${s.limit.period}` : "none";
        print(g, s, [
          !s.exists
            ? `customer ${key}: not provisioned`
            : `customer ${key}: ${s.active ? "active" : "suspended"}, key ${s.apiKey}${
              s.keyPending
                ? ` (never handed over: \`dfkit customer provision ${key}\` returns it)`
                : ""
            }, limit ${limit}`,
        ]);
      })
    );
  return root;
}

if (import.meta.main) {
  Deno.exitCode = await runCommandLine(provisionCommand().name("provision"), Deno.args);
}
