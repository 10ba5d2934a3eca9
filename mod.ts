/**
 * dfkit: script DreamFactory from Deno. A client with session auth and an immutable, awaitable
 * query builder; migration and provisioning recipes; and an embedded DreamFactory-compatible
 * sandbox server so everything runs offline.
 *
 * @example
 * ```ts
 * import { connect, startSandbox } from "@dfkit/dfkit";
 *
 * const sb = await startSandbox({ port: 0 });
 * const df = await connect({ url: sb.url, ...sb.admin });
 * const users = await df.system.user.fields("id", "email").limit(10);
 * await df.logout();
 * await sb.close();
 * ```
 *
 * @module
 */
export * from "./lib/client.ts";
export * from "./lib/errors.ts";
export * from "./lib/filter/mod.ts";
export * from "./lib/display.ts";
export * from "./lib/migrate/mod.ts";
export * from "./lib/provision/mod.ts";
export * from "./lib/har/mod.ts";
export { type Sandbox, type SandboxOptions, startSandbox } from "./lib/sandbox/start.ts";
