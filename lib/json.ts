/**
 * Reading JSON that people write by hand (profiles, record files, snapshots): where a mistake
 * is, without quoting the text around it, which may hold a password; and comparing JSON values.
 *
 * @module
 */

/** Where a JSON text stops parsing, as "line L, column C" (without quoting the text). */
export function jsonErrorAt(text: string): string {
  // V8 often names the place ("at position 8 (line 1 column 9)"); its "Unexpected token"
  // messages instead quote the text, so find the first character no JSON can continue with by
  // a binary search over prefixes (an unfinished prefix fails only at its very end).
  const failure = (n: number): string | undefined => {
    try {
      JSON.parse(text.slice(0, n));
    } catch (err) {
      return (err as Error).message;
    }
  };
  const whole = failure(text.length) ?? "";
  const named = /line (\d+) column (\d+)/.exec(whole);
  if (named) return `line ${named[1]}, column ${named[2]}`;
  const broken = (n: number) => {
    const msg = failure(n);
    if (msg === undefined || /Unexpected end/i.test(msg)) return false;
    const at = /at position (\d+)/.exec(msg);
    return at ? Number(at[1]) < n : true;
  };
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (broken(mid + 1)) hi = mid;
    else lo = mid + 1;
  }
  const before = text.slice(0, lo).split("\n");
  return `line ${before.length}, column ${before[before.length - 1].length + 1}`;
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== "object" || typeof b !== "object") return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) =>
    jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])
  );
}
