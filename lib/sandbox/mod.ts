/**
 * The embedded DreamFactory-compatible sandbox: a real HTTP server on `127.0.0.1` that behaves
 * like a fresh DreamFactory 7 (system API, sessions, roles, API keys, SQLite database services),
 * kept in memory or in a SQLite file that survives restarts.
 *
 * @example
 * ```ts
 * import { startSandbox } from "@dfkit/dfkit/sandbox";
 *
 * const sb = await startSandbox({ port: 0 });
 * const res = await fetch(`${sb.url}/api/v2/system/admin/session`, {
 *   method: "POST",
 *   headers: { "Content-Type": "application/json" },
 *   body: JSON.stringify(sb.admin),
 * });
 * const { session_token } = await res.json();
 * await sb.close();
 * ```
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { hostname } from "node:os";
import { getMeta, openStore } from "./store.ts";
import { SandboxCore } from "./server.ts";
import { ServiceRegistry, sqliteFactory } from "./services.ts";
import { pruneTokens } from "./auth.ts";

/** Options of {@linkcode startSandbox}. */
export interface SandboxOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string;
  /** The first admin, created on a fresh data file; default `admin@example.com` / `Passw0rd123`. */
  admin?: { email: string; password: string };
  /** SQLite file keeping everything across restarts; default: in memory. */
  data?: string;
  /** Session token lifetime in seconds; default 86400 (DreamFactory's 1440 minutes). */
  jwtTtl?: number;
  /** Refresh window in seconds from issue time; default 1209600 (20160 minutes). */
  jwtRefreshTtl?: number;
  /** Per-request record cap (system resources default 100000, database services 1000). */
  maxRecords?: number;
  /**
   * Shortest password `system/user` and `system/admin` accept; default 6, as DreamFactory 7.0.0
   * answered. Newer DreamFactory (df-core since 2024-10) requires 16: pass 16 to test against that.
   */
  passwordMinLength?: number;
}

/** A running sandbox. */
export interface Sandbox {
  /** Base URL, e.g. `http://127.0.0.1:41234` (the API is under `/api/v2`). */
  url: string;
  /** Credentials of the first admin. */
  admin: { email: string; password: string };
  /** Stops the server and releases the data file. */
  close(): Promise<void>;
}

/** The machine's name for session payloads, without needing `--allow-sys`. */
function hostName(): string {
  try {
    return hostname();
  } catch {
    return "localhost";
  }
}

/** The default first admin of a sandbox. */
export const DEFAULT_ADMIN = { email: "admin@example.com", password: "Passw0rd123" } as const;

/**
 * Starts a sandbox and resolves once it is listening.
 *
 * @example
 * ```ts
 * import { startSandbox } from "@dfkit/dfkit/sandbox";
 * const sb = await startSandbox({ port: 0, data: "./dev.sqlite", jwtTtl: 600 });
 * console.log(sb.url, sb.admin.email);
 * await sb.close();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const admin = { ...(options.admin ?? DEFAULT_ADMIN) };
  if (!admin.email || !admin.password) {
    throw new TypeError("startSandbox: admin needs both an email and a password.");
  }
  const data = options.data ?? ":memory:";
  const db = openStore(data, admin);
  let dataDir: string | null = null;
  if (data !== ":memory:") {
    dataDir = `${data}.services`;
    mkdirSync(dataDir, { recursive: true });
  }
  const jwtTtl = options.jwtTtl ?? 1440 * 60;
  const jwtRefreshTtl = options.jwtRefreshTtl ?? 20160 * 60;
  pruneTokens(db, jwtRefreshTtl);
  const env = { dataDir, maxRecords: options.maxRecords ?? 1000 };
  const registry = new ServiceRegistry(db, env, sqliteFactory);
  let origin = "";
  const core = new SandboxCore({
    db,
    auth: { db, secret: getMeta(db, "jwt_secret")!, jwtTtl, jwtRefreshTtl, host: hostName() },
    registry,
    maxRecords: options.maxRecords ?? 100000,
    passwordMinLength: options.passwordMinLength ?? 6,
    origin: () => origin,
  });
  const host = options.host ?? "127.0.0.1";
  const { promise: listening, resolve } = Promise.withResolvers<Deno.NetAddr>();
  const server = Deno.serve(
    {
      port: options.port ?? 0,
      hostname: host,
      onListen: (addr) => resolve(addr),
      signal: undefined,
    },
    (req, info) => core.handle(req, (info.remoteAddr as Deno.NetAddr).hostname),
  );
  const addr = await listening;
  const shown = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  origin = `http://${shown}:${addr.port}`;
  let closed = false;
  return {
    url: origin,
    admin,
    async close() {
      if (closed) return;
      closed = true;
      await server.shutdown();
      registry.closeAll();
      db.close();
    },
  };
}
