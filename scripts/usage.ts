/**
 * What every command line of dfkit shares about mistakes: the error for one (exit code 2), and
 * the exit code of a commander error, so the standalone scripts answer as the dfkit CLI does.
 *
 * @module
 */
import { type Command, CommanderError } from "commander";

/** Exit codes of every dfkit command line (the CLI and the standalone scripts): `partial`, a
 * batch that wrote some records and failed others; `drifted`, what `migrate drift` answers when
 * the instance differs from the snapshot (so its usage mistakes answer `error` instead). */
export const EXIT = { ok: 0, error: 1, usage: 2, partial: 3, drifted: 2 } as const;

/** A command-line mistake (exit code 2), reported with what to do instead. */
export class UsageError extends Error {
  /** Builds a usage error. */
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * The exit code for an error commander raised (with `exitOverride()`): 0 for help and version,
 * 2 for a usage mistake (commander has printed it); undefined for any other error.
 */
export function commanderExitCode(e: unknown): number | undefined {
  if (!(e instanceof CommanderError)) return undefined;
  return ["commander.helpDisplayed", "commander.help", "commander.version"].includes(e.code)
    ? EXIT.ok
    : EXIT.usage;
}

/**
 * Commander's output settings, safe without `--allow-env`: whether to colour help and errors
 * comes from `Deno.noColor` and the terminal. (Commander reads `FORCE_COLOR` and friends from
 * `process.env`, which throws under a narrow `--allow-env`: `--help` would crash.)
 */
export const SAFE_OUTPUT = {
  getOutHasColors: (): boolean => !Deno.noColor && Deno.stdout.isTerminal(),
  getErrHasColors: (): boolean => !Deno.noColor && Deno.stderr.isTerminal(),
};

/** Marks a command and its subcommands to throw on usage errors instead of exiting (code 1),
 * with {@linkcode SAFE_OUTPUT}. */
export function throwOnUsageErrors(cmd: Command): Command {
  cmd.exitOverride().configureOutput(SAFE_OUTPUT);
  cmd.commands.forEach(throwOnUsageErrors);
  return cmd;
}

/**
 * Whether the arguments may run `migrate drift` (whose exit code 2 means "drifted", so its usage
 * mistakes are 1). Any word `drift` counts, after `after` when given (`"migrate"` in the dfkit
 * CLI): an option's value before the command (`--profile prod drift`) must not hide it, and
 * when in doubt a CI job is better told "error" (1) than "drifted" (2).
 */
export function mayRunDrift(args: string[], after?: string): boolean {
  const from = after === undefined ? 0 : args.indexOf(after);
  return from >= 0 && args.indexOf("drift", from) >= 0;
}

/** Whether `e` is Ctrl-C at the password prompt (`@inquirer/password`'s ExitPromptError): said
 * as "cancelled", exit 130, as shells report an interrupted command. */
export function promptCancelled(e: unknown): boolean {
  return e instanceof Error && e.name === "ExitPromptError";
}
