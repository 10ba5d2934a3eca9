/**
 * The embedded DreamFactory-compatible sandbox server.
 * @module
 */
/** Options of {@linkcode startSandbox}. */
export interface SandboxOptions {
  port?: number;
  host?: string;
  admin?: { email: string; password: string };
  data?: string;
  jwtTtl?: number;
  jwtRefreshTtl?: number;
  maxRecords?: number;
}
/** A running sandbox. */
export interface Sandbox {
  url: string;
  admin: { email: string; password: string };
  close(): Promise<void>;
}
/** Starts a sandbox (placeholder until the core lands). */
export function startSandbox(_options: SandboxOptions = {}): Promise<Sandbox> {
  throw new Error("not implemented yet");
}
