/**
 * API keys as the provisioning recipe handles them: generated client-side from a CSPRNG, shown
 * only masked, and scrubbed out of anything that could be printed.
 *
 * @module
 */

import { maskApiKey } from "../secrets.ts";

export { maskApiKey };

/**
 * A new 64-character API key (32 random bytes, hex), generated locally with `crypto` rather than
 * by the server, whose own keys are a hash of host, name and time.
 */
export function generateApiKey(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Replaces each secret inside strings, deeply (arrays and plain objects are copied). */
export function scrub<T>(value: T, secrets: readonly string[]): T {
  const live = secrets.filter((s) => s && s.length >= 8);
  if (live.length === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      return live.reduce((text, s) => text.split(s).join(maskApiKey(s)), v);
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    }
    return v;
  };
  return walk(value) as T;
}

/**
 * Removes secrets from an error in place (message, stack, and a `context` field if present), so
 * an error that echoes a request (a SQL error quoting the inserted row) cannot leak the key.
 */
export function scrubError(e: unknown, secrets: readonly string[]): unknown {
  if (!(e instanceof Error)) return scrub(e, secrets);
  for (const prop of ["message", "stack", "context"] as const) {
    const value = (e as unknown as Record<string, unknown>)[prop];
    if (value === undefined || value === null) continue;
    const clean = scrub(value, secrets);
    if (clean !== value && JSON.stringify(clean) !== JSON.stringify(value)) {
      Object.defineProperty(e, prop, { value: clean, writable: true, configurable: true });
    }
  }
  if (e.cause !== undefined) scrubError(e.cause, secrets);
  return e;
}
