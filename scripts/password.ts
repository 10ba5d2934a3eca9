/**
 * Passwords on the command line's terms: asked for on the terminal without echo, never taken
 * from arguments, and never written into a profiles file (profiles name an `env:` variable).
 *
 * @module
 */
import { type ConnectOptions, loadProfile, ProfileVariableError } from "../mod.ts";
import { UsageError } from "./usage.ts";

/** Asks for a password: `message` is the prompt; `variable` the environment variable that would
 * have held it, named when there is no terminal to ask on. */
export type AskPassword = (message: string, variable: string) => Promise<string>;

/** Reads a password without echo from the terminal (`@inquirer/password`); with no terminal, a
 * usage error telling to set `variable` instead. */
export async function promptPassword(
  message = "Password",
  variable = "DF_PASSWORD",
): Promise<string> {
  if (!Deno.stdin.isTerminal()) {
    throw new UsageError(
      `A password is needed and there is no terminal to ask on: set ${variable} ` +
        `(export ${variable}=...; passwords are never taken from the command line).`,
    );
  }
  const { default: password } = await import("@inquirer/password");
  // No ctrl+t "toggle visibility": the password never shows on screen (screen shares, recordings).
  return await password({ message, mask: "*", toggleMask: false });
}

/**
 * A profile, with its password asked for when the profile reads it from an `env:` variable that
 * is not set (as `login --save` writes it): the password never goes into the file.
 */
export async function profileOptions(
  name: string,
  sources: { env?: Record<string, string | undefined> },
  ask: AskPassword,
): Promise<ConnectOptions> {
  try {
    return await loadProfile(name, { env: sources.env });
  } catch (e) {
    if (!(e instanceof ProfileVariableError) || e.key !== "password") throw e;
    // The rest of the profile first (the variable standing in), so its other mistakes show
    // before any prompt and the prompt can name the email.
    const env = { ...(sources.env ?? Deno.env.toObject()), [e.variable]: "(asked)" };
    const options = await loadProfile(name, { env });
    const password = await ask(
      `Password for ${options.email ?? "the login"} (profile ${name})`,
      e.variable,
    );
    return { ...options, password };
  }
}

/** What was asked for in this process, by key (a profile's name): asked once, answered after. */
const answers = new Map<string, Promise<string>>();

/**
 * `ask`, at most once per `key` for the life of the process: later calls get the same answer (or
 * the same failure) without asking again, as when `--from` and `--to` name the same profile.
 */
export function askOnce(key: string, ask: AskPassword = promptPassword): AskPassword {
  return (message, variable) => {
    let answer = answers.get(key);
    if (!answer) answers.set(key, answer = ask(message, variable));
    return answer;
  };
}
