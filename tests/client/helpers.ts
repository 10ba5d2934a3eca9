/** Shared setup for client tests: a real sandbox over real HTTP, exchange capture, and the
 * profiles file every test folder writes. */
import { type Sandbox, type SandboxOptions, startSandbox } from "../../lib/sandbox/mod.ts";
import {
  connect,
  type ConnectOptions,
  type DreamFactory,
  type HttpExchange,
} from "../../lib/client.ts";

/** A sandbox plus an admin client that records every exchange. */
export interface Fixture {
  sb: Sandbox;
  df: DreamFactory;
  exchanges: HttpExchange[];
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a sandbox and connects as its admin. `await using fx = await setup()`. */
export async function setup(
  sandbox: SandboxOptions = {},
  client: ConnectOptions = {},
): Promise<Fixture> {
  const sb = await startSandbox({ port: 0, ...sandbox });
  const exchanges: HttpExchange[] = [];
  try {
    const df = await connect({
      url: sb.url,
      ...sb.admin,
      onExchange: (ex) => exchanges.push(ex),
      ...client,
    });
    return {
      sb,
      df,
      exchanges,
      async [Symbol.asyncDispose]() {
        await sb.close();
      },
    };
  } catch (err) {
    await sb.close();
    throw err;
  }
}

/** Creates `n` users named `<prefix>NN` with emails `<prefix>NN@example.com`; returns ids. */
export async function makeUsers(df: DreamFactory, n: number, prefix = "u"): Promise<number[]> {
  const records = Array.from({ length: n }, (_, i) => {
    const tag = `${prefix}${String(i).padStart(2, "0")}`;
    return { name: tag, email: `${tag}@example.com` };
  });
  const created = await df.system.user.create(records);
  return created.map((r) => r.id);
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Writes a dfkit profiles file into `dir` (`profiles.json`, or `name`) holding `profiles` and,
 * when given, the name of the `default` one; returns its path (for `DFKIT_PROFILES`).
 */
export async function writeProfiles(
  dir: string,
  profiles: Record<string, Record<string, unknown>>,
  options: { default?: string; name?: string } = {},
): Promise<string> {
  const path = `${dir}/${options.name ?? "profiles.json"}`;
  const file = options.default === undefined
    ? { profiles }
    : { default: options.default, profiles };
  await Deno.writeTextFile(path, JSON.stringify(file));
  return path;
}
