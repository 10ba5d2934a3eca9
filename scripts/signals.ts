/**
 * Ctrl-C and SIGTERM on dfkit's command lines: long work stops cleanly at the first Ctrl-C, and
 * a server runs until it is told to stop.
 *
 * @module
 */

/**
 * Ctrl-C during long work: the first calls `first` (stop after the work in flight, so what is
 * done stays on record); a second calls `again` (say what quitting leaves) and quits at once
 * with 130, for a server too slow to wait for. Returns what removes the handler.
 */
export function onCtrlC(first: () => void, again: () => void): () => void {
  let interrupted = false;
  const interrupt = () => {
    if (!interrupted) {
      interrupted = true;
      first();
      return;
    }
    again();
    Deno.exit(130); // as shells report an interrupted command
  };
  Deno.addSignalListener("SIGINT", interrupt);
  return () => Deno.removeSignalListener("SIGINT", interrupt);
}

/** Resolves at the first Ctrl-C or SIGTERM (a server's stop); later ones are ignored, so a
 * server closing is not killed half-way. Deno has no SIGTERM on Windows. */
export function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    Deno.addSignalListener("SIGINT", resolve);
    if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", resolve);
  });
}
