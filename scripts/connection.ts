/**
 * How every command finds its DreamFactory instance: the dfkit CLI, `migrate` and `provision`
 * (mounted in the CLI or run on their own) resolve it here, the way `connect()` documents it, and
 * ask for a missing password on the terminal instead of failing.
 *
 * @module
 */
import type { Command } from "commander";
import { connect, type ConnectOptions, defaultProfileName } from "../mod.ts";
import { askOnce, type AskPassword, profileOptions } from "./password.ts";
import { UsageError } from "./usage.ts";

/** The connection options a command line accepts (all optional). */
export interface ConnectionFlags {
  /** `--profile`: a profile of the profiles file. */
  profile?: string;
  /** `--url`: the instance (with `--email`, `DF_API_KEY` or `DF_SESSION_TOKEN`). */
  url?: string;
  /** `--email`: the login (password from `DF_PASSWORD` or the terminal). */
  email?: string;
  /** `--user`: a user session instead of an admin one. */
  user?: boolean;
}

/** Declares the {@linkcode ConnectionFlags} on a command (the dfkit program, or a recipe run on
 * its own: mounted in dfkit, its copies are hidden from help, dfkit's are shown). */
export function withConnectionOptions(cmd: Command): Command {
  return cmd
    .option(
      "--profile <name>",
      "profile from the dfkit profiles file (default: $DF_PROFILE, unless --url is given)",
    )
    .option("--url <url>", "DreamFactory base URL (default: $DF_URL)")
    .option(
      "--email <email>",
      "login email (default: $DF_EMAIL); password from $DF_PASSWORD or a prompt",
    )
    .option("--user", "log in as a user (/api/v2/user/session) instead of an admin");
}

/** Where {@linkcode connectOptions} reads settings (tests pass their own). */
export interface ConnectSources {
  /** Variables to read instead of the environment (`DF_*`, `DFKIT_PROFILES`, `HOME`, `env:`). */
  env?: Record<string, string | undefined>;
  /** How a missing password is asked for. Default: a hidden prompt, asked at most once per
   * profile (or once for `DF_PASSWORD`) in this process, as when `--from` and `--to` name the
   * same profile. */
  ask?: AskPassword;
}

function envVar(name: string): string | undefined {
  try {
    return Deno.env.get(name) || undefined;
  } catch {
    return undefined; // not allowed to read it (--allow-env): as unset, like connect()
  }
}

/**
 * Connection settings from the flags and the environment, resolved the way `connect()` resolves
 * them: `--profile`, else `DF_PROFILE` (unless `--url` is given), reads the profiles file;
 * otherwise `--url`/`DF_URL` with `--email`/`DF_EMAIL` and `DF_PASSWORD`, `DF_API_KEY` or
 * `DF_SESSION_TOKEN`; with none of these, the profile the profiles file's `"default"` names.
 * A missing password (a profile's unset `env:` variable, or `DF_PASSWORD`) is asked for.
 *
 * @example
 * ```ts
 * import { connectOptions } from "./connection.ts";
 * const options = await connectOptions({ profile: "staging" }); // { url, email, password, ... }
 * ```
 */
export async function connectOptions(
  flags: ConnectionFlags,
  sources: ConnectSources = {},
): Promise<ConnectOptions> {
  const get = (name: string) => sources.env ? sources.env[name] || undefined : envVar(name);
  // Asked once per profile, or per login and instance, for the life of the process.
  const asker = (key: string) => sources.ask ?? askOnce(key);
  const admin = flags.user ? false : undefined;
  const url = flags.url ?? get("DF_URL");
  const name = flags.profile ?? (flags.url ? undefined : get("DF_PROFILE")) ??
    (url ? undefined : await defaultProfileName({ env: sources.env }));
  if (name) {
    const ask = asker(`profile ${name}`);
    const profile = await profileOptions(name, sources, ask);
    if (profile.email && !profile.password && !profile.sessionToken && !profile.apiKey) {
      profile.password = get("DF_PASSWORD") ??
        await ask(`Password for ${profile.email} (profile ${name})`, "DF_PASSWORD");
    }
    return admin === undefined ? profile : { ...profile, admin };
  }
  if (!url) {
    if (
      !sources.env &&
      Deno.permissions.querySync({ name: "env", variable: "DF_URL" }).state !== "granted"
    ) {
      throw new UsageError(
        "No DreamFactory instance given, and DF_URL cannot be read: run with --allow-env " +
          "(or --allow-env=DF_URL,DF_EMAIL,DF_PASSWORD,...), or pass --url URL or --profile NAME.",
      );
    }
    throw new UsageError(
      "No DreamFactory instance given: pass --url URL or --profile NAME, set DF_URL, or name a " +
        '"default" profile in the profiles file (start an instance with `dfkit sandbox`).',
    );
  }
  const email = flags.email ?? get("DF_EMAIL");
  const apiKey = get("DF_API_KEY");
  const sessionToken = get("DF_SESSION_TOKEN");
  let password = get("DF_PASSWORD");
  // A session token with an email but no password: the token is the login (connect() would
  // otherwise ask for the missing password).
  const login = sessionToken && !password ? undefined : email;
  if (email && !password && !sessionToken) {
    password = await asker(`${email} at ${url}`)(`Password for ${email}`, "DF_PASSWORD");
  }
  if (!email && !apiKey && !sessionToken) {
    throw new UsageError(
      `No credentials for ${url}: pass --email (password from DF_PASSWORD or a prompt), ` +
        "or set DF_API_KEY or DF_SESSION_TOKEN.",
    );
  }
  return { url, email: login, password, apiKey, sessionToken, admin };
}

/** A connected client, and how to end what the command opened. */
export interface OpenedClient {
  /** The client. */
  df: Awaited<ReturnType<typeof connect>>;
  /** Ends the session if the command opened it (it logged in); a session token the user gave,
   * or the session it was refreshed into, is theirs and is kept. */
  close(): Promise<void>;
}

/**
 * Connects with {@linkcode connectOptions}.
 *
 * @example
 * ```ts
 * import { openClient } from "./connection.ts";
 * const client = await openClient({ profile: "staging" });
 * try { console.log(await client.df.system.role.count()); } finally { await client.close(); }
 * ```
 */
export async function openClient(
  flags: ConnectionFlags,
  sources?: ConnectSources,
): Promise<OpenedClient> {
  const df = await connect(await connectOptions(flags, sources));
  return {
    df,
    // Logged in (an email and a password win over a token given with them, and a token that
    // expires falls back to a login when they are known): that session is the command's own.
    close: async () => {
      if (df.authStats.logins > 0) await df.logout().catch(() => {});
    },
  };
}
