/**
 * `deno task` runs its command in deno.json's folder, this checkout; file arguments are the
 * user's, relative to where the task was started (`INIT_CWD`).
 *
 * @module
 */

import { fileURLToPath } from "node:url";

/** Moves to where `deno task` was started, but only when running from this checkout's root: a
 * script started elsewhere (`cd sub && deno run .../scripts/dfkit.ts`) keeps its own folder. */
export function enterTaskFolder(): void {
  try {
    const from = Deno.env.get("INIT_CWD");
    const root = Deno.realPathSync(fileURLToPath(new URL("..", import.meta.url)));
    if (from && Deno.realPathSync(Deno.cwd()) === root) Deno.chdir(from);
  } catch { /* no --allow-env or --allow-read: stay */ }
}
