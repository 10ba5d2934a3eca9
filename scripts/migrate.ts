/**
 * `migrate`: promote DreamFactory configuration between environments, check drift, copy
 * database schemas and data (the recipes in `lib/migrate/`).
 *
 * ```sh
 * deno run --allow-net --allow-env --allow-read --allow-write scripts/migrate.ts \
 *   snapshot --profile staging -o staging.json          # or --split -o snapshot/
 * ... plan  --profile prod --snapshot staging.json -o prod.plan.json
 * ... apply --profile prod --plan prod.plan.json         # or --snapshot staging.json
 * ... drift --profile prod --snapshot prod.json          # exit 0 match, 2 drifted, 1 error
 * ... copy-schema --from staging --to prod --source-db db --target-db db [--tables a,b]
 * ... copy-data --from staging --to prod --source-db db --target-db db --table contact \
 *       --checkpoint contact.ckpt.json
 * ... copy-data ... --table customer --key-map customer.keys.json   # target assigns new ids
 * ... copy-data ... --table purchase --remap customer_id=customer.keys.json
 * ```
 *
 * Environments: `--profile NAME` (`--from`/`--to` for copies) reads the dfkit profiles file;
 * without it `DF_PROFILE`, else `DF_URL` with `DF_EMAIL`/`DF_PASSWORD`, `DF_SESSION_TOKEN` or
 * `DF_API_KEY`, else the profiles file's `"default"`. A password missing (`DF_PASSWORD`, or a
 * profile's unset `env:` variable) is asked for on the terminal when connecting, after the input
 * files are checked, once per profile.
 * Secrets of a snapshot are `env:NAME` references: `apply` reads those variables.
 *
 * Narrowest Deno permissions: `--allow-net=<your instances' host:port>` (the DreamFactory
 * instances only), `--allow-env` (`DF_*` connection settings, the `env:` secrets of the snapshot,
 * `HOME`/`DFKIT_PROFILES` for the profiles file), `--allow-read=<snapshot, plan, checkpoint files,
 * `--remap` key maps, profiles file>`, `--allow-write=<snapshot/plan output, the checkpoint's
 * folder, the `--key-map` file>` (the checkpoint is written beside itself, `<file>.tmp`, then
 * renamed over, with its key pairs in `<file>.keys.jsonl`; not needed by `plan` without `-o`,
 * `drift`, `copy-schema`, or `copy-data` without `--checkpoint` and `--key-map`).
 *
 * Exit codes: 0 success (drift: no drift), 1 any error, 2 bad usage, except for `drift`, where 2
 * means drift was found and a usage mistake is 1.
 *
 * @module
 */
import { Command, InvalidArgumentError, Option } from "commander";
import type { connect } from "../lib/client.ts";
import {
  apply,
  ApplyError,
  canonicalJson,
  copyData,
  CopyDataError,
  copySchema,
  drift,
  type KeyMapFile,
  type Plan,
  plan,
  PLAN_FORMAT,
  readKeyMap,
  readSnapshot,
  renderDiffText,
  type RowKey,
  type Section,
  SECTIONS,
  snapshot,
  writeKeyMap,
  writeSnapshot,
} from "../lib/migrate/mod.ts";
import { readJsonFile, writeTextFileNamed } from "../lib/files.ts";
import { EXIT, mayRunDrift, reportFailure, runCommandLine, UsageError } from "./usage.ts";
import { onCtrlC } from "./signals.ts";
import { type Progress, terminalProgress } from "./progress.ts";
import {
  type ConnectionFlags,
  openClient,
  type OpenedClient,
  withConnectionOptions,
} from "./connection.ts";

/** The options of the command and its parents (mounted in dfkit: `--url`, `--email`, `--user`
 * too). */
interface Globals extends ConnectionFlags {
  json?: boolean;
}

type Client = Awaited<ReturnType<typeof connect>>;

/** A client for a profile (or, with none, the global options and the DF_* variables), found as
 * every dfkit command finds it; a missing password is asked for once per profile for the
 * process (`--from` and `--to` may name the same one). */
function open(g: Globals, profile = g.profile): Promise<OpenedClient> {
  // `close()` ends a session made for the command; a session token the user gave is kept.
  return openClient({ ...g, profile });
}

function list(value: string): string[] {
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}

function sections(value: string): Section[] {
  const out = list(value);
  for (const s of out) {
    if (!SECTIONS.includes(s as Section)) {
      throw new InvalidArgumentError(`"${s}" is not a section: use ${SECTIONS.join(", ")}`);
    }
  }
  return out as Section[];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new InvalidArgumentError(`"${value}" is not a positive integer`);
  }
  return n;
}

/** `--remap column=file`, repeatable: collected as [column, file] pairs. */
function remapFlag(value: string, previous: [string, string][] = []): [string, string][] {
  const at = value.indexOf("=");
  if (at < 1 || at === value.length - 1) {
    throw new InvalidArgumentError(`"${value}" is not <column>=<key map file>`);
  }
  return [...previous, [value.slice(0, at).trim(), value.slice(at + 1)]];
}

function out(g: Globals, json: unknown, text: string) {
  console.log(g.json ? JSON.stringify(json, null, 2) : text);
}

/** A progress bar on stderr when it is a terminal and output is not JSON; otherwise nothing. */
function progressBar(g: Globals, label: string): Progress {
  return terminalProgress(
    `${label} [{bar}] {value}/{total} {percentage}% | {eta_formatted} left`,
    { silent: g.json, hideCursor: true },
  );
}

/** Runs an action, printing errors and setting the exit code (1; 2 for a usage mistake, but
 * not in `drift`), apply failures with their report. */
async function run(cmd: Command, body: (g: Globals) => Promise<number | void>): Promise<void> {
  const g = cmd.optsWithGlobals() as Globals;
  try {
    const code = await body(g);
    Deno.exitCode = code ?? EXIT.ok;
  } catch (e) {
    if (e instanceof ApplyError && g.json) console.log(JSON.stringify(e.report, null, 2));
    const code = reportFailure(e);
    Deno.exitCode = code === EXIT.usage && cmd.name() === "drift" ? EXIT.error : code;
  }
}

/** A file named on the command line must exist: a missing one is a usage mistake (checked before
 * connecting). */
async function mustExist(path: string, flag: string): Promise<void> {
  await Deno.stat(path).catch((e) => {
    if (e instanceof Deno.errors.NotFound) throw new UsageError(`${flag} ${path} does not exist`);
  });
}

async function readPlan(path: string): Promise<Plan> {
  const p = await readJsonFile(path, "plan") as Plan;
  if (p?.format !== PLAN_FORMAT) {
    throw new Error(`${path} is not a dfkit plan (format ${PLAN_FORMAT})`);
  }
  return p;
}

/**
 * The `migrate` command tree (`snapshot`, `plan`, `apply`, `drift`, `copy-schema`, `copy-data`),
 * for mounting in the dfkit CLI or running on its own.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { migrateCommand } from "./migrate.ts";
 * const cli = new Command("dfkit").addCommand(migrateCommand());
 * await cli.parseAsync(Deno.args, { from: "user" });
 * ```
 */
export function migrateCommand(): Command {
  const root = new Command("migrate")
    .description("promote configuration between environments; drift check; schema and data copy")
    .option("--json", "print results as JSON");
  withConnectionOptions(root);

  root.command("snapshot")
    .description("write the instance's configuration as a portable snapshot (names, no secrets)")
    .option("-o, --out <path>", "file to write (folder with --split); default stdout")
    .option("--split", "write a folder with one file per object")
    .option("--users", "include users (passwords as optional env: references)")
    .option("--admins", "include admins")
    .addOption(
      new Option("--sections <list>", `sections to read (${SECTIONS.join(",")})`).argParser(
        sections,
      ),
    )
    .option("--exclude-service <names>", "services to leave out, comma separated", list)
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        if (o.split && !o.out) throw new UsageError("--split needs --out <folder>");
        const client = await open(g);
        const df = client.df;
        try {
          const doc = await snapshot(df, {
            users: o.users,
            admins: o.admins,
            sections: o.sections,
            excludeServices: o.excludeService,
          });
          if (o.out) await writeSnapshot(doc, o.out, { split: o.split });
          else await Deno.stdout.write(new TextEncoder().encode(canonicalJson(doc)));
          if (o.out) {
            const counts = Object.entries(doc.objects).map(([s, v]) =>
              `${Object.keys(v ?? {}).length} ${s}`
            );
            const summary = { path: o.out, split: Boolean(o.split), objects: counts };
            if (g.json) console.log(JSON.stringify(summary));
            else console.error(`Wrote ${o.out}: ${counts.join(", ")}`);
          }
        } finally {
          await client.close();
        }
      })
    );

  root.command("plan")
    .description("compare the instance with a snapshot: what apply would create/update/delete")
    .requiredOption("--snapshot <path>", "snapshot file or --split folder (the desired state)")
    .option("--prune", "delete objects the snapshot does not have")
    .option("-o, --out <file>", "save the plan for apply")
    .option("--all", "also list unchanged objects")
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        await mustExist(o.snapshot, "--snapshot");
        const desired = await readSnapshot(o.snapshot); // its mistakes before any password
        const client = await open(g);
        const df = client.df;
        try {
          const p = await plan(df, desired, { prune: o.prune });
          if (o.out) await writeTextFileNamed(o.out, JSON.stringify(p, null, 2) + "\n", "plan");
          out(g, p, renderDiffText(p, { all: o.all }));
        } finally {
          await client.close();
        }
      })
    );

  root.command("apply")
    .description("make the instance match a plan (or a snapshot); safe to re-run")
    .option("--plan <file>", "plan saved by `plan -o` (refused if the instance changed since)")
    .option("--snapshot <path>", "plan and apply a snapshot in one go")
    .option("--prune", "with --snapshot: delete objects the snapshot does not have")
    .option("--dry-run", "check references and secrets, change nothing")
    .option("--force", "apply a stale plan (re-planned against the current state)")
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        if (!o.plan === !o.snapshot) {
          throw new UsageError("give exactly one of --plan <file> or --snapshot <path>");
        }
        await mustExist(o.plan ?? o.snapshot, o.plan ? "--plan" : "--snapshot");
        const input = o.plan ? await readPlan(o.plan) : await readSnapshot(o.snapshot);
        const client = await open(g);
        const df = client.df;
        const bar = progressBar(g, "apply");
        try {
          const report = await apply(df, input, {
            dryRun: o.dryRun,
            force: o.force,
            prune: o.prune,
            onProgress: (p) => bar.update(p.done, p.total),
          });
          bar.stop();
          const lines = report.done.map((d) => `  ${d.action} ${d.section}/${d.name}`);
          out(
            g,
            report,
            [
              ...(report.note ? [report.note] : []),
              `${
                report.dryRun ? "Would apply" : "Applied"
              } ${report.done.length} change(s) with ${report.writeRequests} write request(s) (${report.requests} in total).`,
              ...lines,
            ].join("\n"),
          );
        } finally {
          bar.stop();
          await client.close();
        }
      })
    );

  root.command("drift")
    .description("check the instance against a snapshot of it: exit 0 match, 2 drifted, 1 error")
    .requiredOption("--snapshot <path>", "the expected state (snapshot file or folder)")
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        await mustExist(o.snapshot, "--snapshot");
        const desired = await readSnapshot(o.snapshot); // its mistakes before any password
        const client = await open(g);
        const df = client.df;
        try {
          const r = await drift(df, desired);
          out(
            g,
            r,
            r.drifted
              ? `Drift from ${o.snapshot} (snapshot -> live):\n${
                renderDiffText(r.diff, { drift: true })
              }`
              : `No drift from ${o.snapshot}.`,
          );
          return r.drifted ? EXIT.drifted : EXIT.ok;
        } finally {
          await client.close();
        }
      })
    );

  root.command("copy-schema")
    .description(
      "create missing tables and fields on the target database (FK order; drops only with --prune)",
    )
    .option("--from <profile>", "source profile (default: --profile / DF_* variables)")
    .option("--to <profile>", "target profile (default: --profile / DF_* variables)")
    .requiredOption("--source-db <service>", "source database service")
    .requiredOption("--target-db <service>", "target database service")
    .option("--tables <list>", "tables to copy, comma separated (default all)", list)
    .option("--prune", "drop target fields (and tables, without --tables) the source lacks")
    .option("--dry-run", "report, change nothing")
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        const src = await open(g, o.from);
        let dst: OpenedClient | undefined;
        try {
          // Inside the try: a target that fails (or a cancelled prompt) still ends the source's
          // session.
          dst = await open(g, o.to);
          const r = await copySchema(src.df, o.sourceDb, dst.df, o.targetDb, o.tables, {
            prune: o.prune,
            dryRun: o.dryRun,
          });
          const lines = [
            `${o.dryRun ? "Would create" : "Created"} tables: ${
              r.createdTables.join(", ") || "none"
            }`,
            ...Object.entries(r.addedFields).map(([t, f]) => `Added to ${t}: ${f.join(", ")}`),
            ...Object.entries(r.droppedFields).map(([t, f]) =>
              `Dropped from ${t}: ${f.join(", ")}`
            ),
            ...(r.droppedTables.length ? [`Dropped tables: ${r.droppedTables.join(", ")}`] : []),
            ...Object.entries(r.differing).map(([t, d]) =>
              `Differs (left as is) in ${t}: ${d.map((x) => x.field).join(", ")}`
            ),
          ];
          out(g, r, lines.join("\n"));
        } finally {
          await src.close();
          await dst?.close();
        }
      })
    );

  root.command("copy-data")
    .description("copy a table's rows (batched, concurrent, resumable, verified)")
    .option("--from <profile>", "source profile (default: --profile / DF_* variables)")
    .option("--to <profile>", "target profile (default: --profile / DF_* variables)")
    .requiredOption("--source-db <service>", "source database service")
    .requiredOption("--target-db <service>", "target database service")
    .requiredOption("--table <name>", "table to copy")
    .option("--target-table <name>", "target table (default: same name)")
    .option("--batch-size <n>", "rows per page and per write", positiveInt, 1000)
    .option("--concurrency <n>", "writes in flight", positiveInt, 4)
    .option("--checkpoint <file>", "resume file: written per committed batch, removed when done")
    .option("--no-verify", "skip the row count and checksum verification")
    .option(
      "--key-map <file>",
      "write source key -> target key of the copied rows (to remap a later copy's foreign keys)",
    )
    .option(
      "--remap <column=file>",
      "translate a foreign-key column with the key map file of its parent (repeatable)",
      remapFlag,
    )
    .action((o, cmd: Command) =>
      run(cmd, async (g) => {
        // The key maps first: their mistakes are said before any password is asked for.
        const remaps: [string, KeyMapFile][] = [];
        for (const [column, file] of (o.remap ?? []) as [string, string][]) {
          await mustExist(file, "--remap");
          remaps.push([column, await readKeyMap(file)]);
        }
        const src = await open(g, o.from);
        let dst: OpenedClient | undefined;
        const bar = progressBar(g, o.table);
        // Ctrl-C stops the copy cleanly: committed batches stay on record in the checkpoint.
        const stop = new AbortController();
        let release: (() => void) | undefined;
        try {
          // Inside the try: a target that fails (or a cancelled prompt) still ends the source's
          // session.
          dst = await open(g, o.to);
          const from = { df: src.df, db: o.sourceDb, table: o.table };
          const to = { df: dst.df, db: o.targetDb, table: o.targetTable ?? o.table };
          // A key map of another instance or database cannot be what this table's keys point at
          // (which table of the database it is, the schema would have to say).
          const here = `${dst.df.url} ${o.targetDb}/`;
          for (const [column, map] of remaps) {
            if (!map.target.startsWith(here)) {
              throw new Error(
                `--remap ${column}: the key map is of ${map.target}, not of a table of ${here}`,
              );
            }
          }
          const keyMap = o.keyMap ? new Map<RowKey, RowKey>() : undefined;
          release = onCtrlC(() => {
            bar.stop();
            console.error(
              "Stopping after the batches in flight (Ctrl-C again to quit without waiting; the " +
                "checkpoint would then not count them).",
            );
            stop.abort(new Error("interrupted (Ctrl-C)"));
          }, () =>
            console.error(
              "Quit without waiting for the batches in flight: the target may hold rows the " +
                "checkpoint does not count (resuming checks, and says what to do).",
            ));
          const r = await copyData(
            from,
            to,
            {
              keyMap,
              remap: remaps.length
                ? Object.fromEntries(remaps.map(([column, map]) => [column, map.keys]))
                : undefined,
              batchSize: o.batchSize,
              concurrency: o.concurrency,
              checkpoint: o.checkpoint,
              verify: o.verify,
              onProgress: (p) => bar.update(p.rows, p.total),
              signal: stop.signal,
            },
          ).catch((e) => {
            if (!(stop.signal.aborted && e instanceof CopyDataError)) throw e;
            bar.stop();
            console.error(
              `Interrupted after ${e.rowsCommitted} row(s). ` + (o.checkpoint
                ? `Run the same command (--checkpoint ${o.checkpoint}) to resume.`
                : "Pass --checkpoint FILE next time to be able to resume."),
            );
            return null;
          });
          bar.stop();
          if (!r) return 130; // as shells report an interrupted command
          if (keyMap) await writeKeyMap(o.keyMap, from, to, keyMap);
          const v = r.verification;
          out(
            g,
            keyMap ? { ...r, keyMap: { path: o.keyMap, pairs: keyMap.size } } : r,
            [
              `Copied ${r.rows} row(s) in ${r.batches} batch(es), ${r.seconds.toFixed(1)} s (${
                Math.round(r.rowsPerSecond)
              } rows/s)` +
              (r.resumedAfter !== undefined ? `, resumed after ${r.resumedAfter}` : ""),
              v
                ? `Verification ${
                  v.ok ? "OK" : "FAILED"
                }: ${v.sourceCount} source / ${v.targetCount} target rows, checksum ${v.sourceChecksum} / ${v.targetChecksum}`
                : "Verification skipped.",
              ...(keyMap ? [`Wrote key map ${o.keyMap} (${keyMap.size} pair(s)).`] : []),
            ].join("\n"),
          );
          return v && !v.ok ? EXIT.error : EXIT.ok;
        } finally {
          release?.();
          bar.stop();
          await src.close();
          await dst?.close();
        }
      })
    );
  return root;
}

if (import.meta.main) {
  // As in the dfkit CLI: a mistake is 2, but `drift` answers 2 for "drifted".
  Deno.exitCode = await runCommandLine(migrateCommand(), Deno.args, {
    mayDrift: mayRunDrift(Deno.args),
  });
}
