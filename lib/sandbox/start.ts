/**
 * `startSandbox` as the main entry point exports it: the server is loaded on first use. The
 * server and `node:crypto` take ~90 ms to import, which a script that only talks to a real
 * DreamFactory should not pay. `@dfkit/dfkit/sandbox` exports the server module itself.
 *
 * @module
 */
import type { Sandbox, SandboxOptions } from "./mod.ts";

export type { Sandbox, SandboxOptions };

/**
 * Starts the embedded DreamFactory-compatible sandbox (in memory, or in the SQLite file
 * `data`) and resolves once it is listening on `127.0.0.1`.
 *
 * @example
 * ```ts
 * import { connect, startSandbox } from "@dfkit/dfkit";
 * const sb = await startSandbox({ port: 0 });
 * const df = await connect({ url: sb.url, ...sb.admin });
 * await sb.close();
 * ```
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const server = await import("./mod.ts");
  return await server.startSandbox(options);
}
