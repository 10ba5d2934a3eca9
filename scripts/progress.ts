/**
 * Progress bars on stderr for long work (cli-progress), silent when stderr is not a terminal (CI,
 * pipes) so output stays clean.
 *
 * @module
 */
// @ts-types="npm:@types/cli-progress@^3.11.6"
import cliProgress from "cli-progress";

/** A progress bar; every method does nothing when it is silent. */
export interface Progress {
  /** Shows `value` of `total` (the first call starts the bar). */
  update(value: number, total: number): void;
  /** Adds `n` (default 1) to the value. */
  tick(n?: number): void;
  /** Ends the bar's line; safe to repeat, and before the bar started. */
  stop(): void;
}

/**
 * A progress bar in cli-progress's `format` (`{bar}`, `{value}`, `{total}`, ...); silent when
 * `silent` (JSON output) or when stderr is not a terminal.
 */
export function terminalProgress(
  format: string,
  options: { silent?: boolean; hideCursor?: boolean } = {},
): Progress {
  if (options.silent || !Deno.stderr.isTerminal()) return { update() {}, tick() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    { format, hideCursor: options.hideCursor, stream: process.stderr },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total) {
      if (!started) {
        bar.start(total, value);
        started = true;
      } else {
        bar.setTotal(total);
        bar.update(value);
      }
    },
    tick: (n = 1) => bar.increment(n),
    stop: () => bar.stop(), // a no-op on a bar not running
  };
}
