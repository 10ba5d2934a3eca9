#!/usr/bin/env -S deno run --no-prompt --allow-read --allow-write
/**
 * `har`: turn a browser's HAR recording of the DreamFactory admin console into a dfkit script
 * (or a Deno notebook).
 *
 * ```sh
 * deno run --no-prompt --allow-read=console.har scripts/har.ts console.har --system-only
 * deno run --no-prompt --allow-read=console.har --allow-write=setup.ipynb \
 *   scripts/har.ts console.har --notebook -o setup.ipynb
 * ```
 *
 * Narrowest permissions: `--allow-read=<the .har file>` (plus `--allow-write=<out>` with `-o`).
 * No network, no environment: the conversion is offline, and credentials found in the recording
 * are never copied; the generated code reads them from the environment when it runs.
 *
 * Exit codes: 0 written, 1 the HAR cannot be converted (the message names the entry), 2 bad usage
 * (the input file missing or unreadable included).
 *
 * @module
 */
import { Command } from "commander";
import { fromHar } from "../lib/har/mod.ts";
import { runCommandLine } from "./usage.ts";
import { readInput } from "./input.ts";
import { writeTextFileNamed } from "../lib/files.ts";

/** Options the `har` command accepts. */
interface HarCommandOptions {
  systemOnly?: boolean;
  all?: boolean;
  notebook?: boolean;
  out?: string;
  profile?: string;
  import?: string;
}

/**
 * The `har` command, for mounting in the dfkit CLI or running on its own.
 *
 * @example
 * ```ts
 * import { Command } from "commander";
 * import { harCommand } from "./har.ts";
 * await new Command("dfkit").addCommand(harCommand()).parseAsync(Deno.args, { from: "user" });
 * ```
 */
export function harCommand(): Command {
  return new Command("har")
    .description(
      "turn a browser HAR recording of DreamFactory calls into a dfkit script (secrets never copied)",
    )
    .argument("<file.har>", 'HAR file ("Save all as HAR" in the browser\'s Network tab)')
    .option("--system-only", "keep only /api/v2/system calls")
    .option("--all", "keep reads (GET) too, not only calls that change something")
    .option("--notebook", "write a Jupyter notebook (.ipynb, Deno kernel) instead of a script")
    .option("-o, --out <path>", "file to write (default: stdout)")
    .option("--profile <name>", "make the script connect with this profile instead of DF_* env")
    .option("--import <specifier>", "module the script imports dfkit from (default: this dfkit)")
    .action(async (file: string, _local: HarCommandOptions, cmd: Command) => {
      // Mounted in dfkit, the program-wide --profile takes the flag: read it from there too,
      // but only when given on the command line (DF_PROFILE is for connecting, not for output).
      const o = cmd.optsWithGlobals<HarCommandOptions>();
      if (cmd.getOptionValueSourceWithGlobals("profile") !== "cli") o.profile = undefined;
      // The input named on the command line: a usage mistake (exit 2), as for `create --file`.
      const text = await readInput(file, "HAR file", { stdin: false, permissionAsIs: true });
      const output = fromHar(text, {
        systemOnly: o.systemOnly,
        all: o.all,
        notebook: o.notebook,
        profile: o.profile,
        importFrom: o.import,
      });
      if (o.out) {
        await writeTextFileNamed(o.out, output, "output");
        console.error(`Wrote ${o.out}`);
      } else {
        await Deno.stdout.write(new TextEncoder().encode(output));
      }
    });
}

if (import.meta.main) {
  // Help 0, a usage mistake 2 (commander printed it), as the dfkit CLI answers.
  Deno.exitCode = await runCommandLine(harCommand(), Deno.args);
}
