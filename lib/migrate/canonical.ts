/**
 * Canonical JSON: object keys sorted at every level, two-space indentation, a final newline. Two
 * equal documents always serialise to the same bytes, which keeps snapshots diffable in git and
 * makes fingerprints meaningful.
 *
 * @module
 */
import type { Json } from "./types.ts";

/** Returns a deep copy of `value` with object keys in sorted order (arrays keep their order). */
export function sortKeys(value: unknown): Json {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  if (value === undefined) return null;
  return value as Json;
}

/** Serialises `value` canonically (sorted keys, 2-space indent, trailing newline). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) + "\n";
}

/** Hex SHA-256 of the canonical serialisation of `value`. */
export async function fingerprint(value: unknown): Promise<string> {
  const bytes = new TextEncoder().encode(canonicalJson(value));
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
