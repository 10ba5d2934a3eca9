/**
 * Inputs named on the command line: the file a flag names (`-`: stdin) and the JSON in it. Their
 * mistakes are usage mistakes (exit 2) that name the flag.
 *
 * @module
 */
import { fileError } from "../lib/files.ts";
import { jsonErrorAt } from "../lib/json.ts";
import { UsageError } from "./usage.ts";

/** How {@linkcode readInput} reads. */
export interface InputOptions {
  /** Whether `-` means stdin (default: true). */
  stdin?: boolean;
  /** A missing `--allow-read` as Deno's own error (exit 1), not a usage mistake naming `what`. */
  permissionAsIs?: boolean;
}

/**
 * The text of the file `what` (a flag, or what the argument is) names: "--file x does not
 * exist", "cannot read --spec x: it is a folder", one sentence instead of the OS text. Without
 * `--allow-read`, Deno's message is kept in it: it says which flag to add.
 */
export async function readInput(
  path: string,
  what: string,
  options: InputOptions = {},
): Promise<string> {
  if (path === "-" && options.stdin !== false) {
    return await new Response(Deno.stdin.readable).text();
  }
  try {
    return await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable) {
      if (options.permissionAsIs) throw e;
      throw new UsageError(`cannot read ${what} ${path}: ${e.message}`);
    }
    throw new UsageError(fileError(e, path, "read", what).message);
  }
}

/** JSON given on the command line; a mistake says where it is, in `invalid(where)`'s words, never
 * the text around it (V8's message quotes it, and inputs may hold passwords). */
export function parseInput(text: string, invalid: (at: string) => string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new UsageError(invalid(jsonErrorAt(text)));
  }
}
