/**
 * What every command line of dfkit shares about mistakes: the error for one (exit code 2), the
 * exit code of a commander error or of any other failure, and how a command line is run to its
 * exit code, so the standalone scripts answer as the dfkit CLI does.
 *
 * @module
 */
import { type Command, CommanderError, type HelpConfiguration } from "commander";
import { ProfileVariableError } from "../lib/auth.ts";

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
 * with {@linkcode SAFE_OUTPUT} (and `help`, when given: mounted commands do not inherit it). */
export function throwOnUsageErrors(cmd: Command, help?: HelpConfiguration): Command {
  cmd.exitOverride().configureOutput(SAFE_OUTPUT);
  if (help) cmd.configureHelp(help);
  cmd.commands.forEach((sub) => throwOnUsageErrors(sub, help));
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

/**
 * Says on stderr why a command failed and returns its exit code: Ctrl-C at the password prompt
 * is "cancelled" (130); anything else is `error: <message>` (or what `say` prints instead), 2 for
 * a usage mistake ({@linkcode UsageError}, a setting missing from the environment, or what
 * `usage` also counts) and 1 otherwise.
 */
export function reportFailure(
  e: unknown,
  options: { usage?: (e: unknown) => boolean; say?: (message: string) => void } = {},
): number {
  if (promptCancelled(e)) {
    console.error("cancelled");
    return 130;
  }
  const message = e instanceof Error ? e.message : String(e);
  if (options.say) options.say(message);
  else console.error(`error: ${message}`);
  // A profile's unset env: variable is a credential missing from the environment: a usage mistake.
  const usage = e instanceof UsageError || e instanceof ProfileVariableError || options.usage?.(e);
  return usage ? EXIT.usage : EXIT.error;
}

/**
 * Runs a command line to its exit code: what its actions leave in `Deno.exitCode`; 0 for help,
 * 2 for a usage mistake commander found; what `report` (default {@linkcode reportFailure}) says
 * for an error an action throws. With `mayDrift` ({@linkcode mayRunDrift} of the arguments), a
 * usage mistake is 1: `migrate drift` answers 2 for "drifted", which a CI job must not read.
 */
export async function runCommandLine(
  cmd: Command,
  args: string[],
  options: { report?: (e: unknown) => number; mayDrift?: boolean } = {},
): Promise<number> {
  try {
    await throwOnUsageErrors(cmd).parseAsync(args, { from: "user" });
    return Deno.exitCode;
  } catch (e) {
    const code = commanderExitCode(e) ?? (options.report ?? reportFailure)(e);
    return code === EXIT.usage && options.mayDrift ? EXIT.error : code;
  }
}
