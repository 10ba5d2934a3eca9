/**
 * Small helpers shared by the printer, the compiler and the template: how literals are written.
 *
 * @module
 */

/** The DreamFactory text of a number literal (finite numbers only). */
export function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new RangeError(`A filter cannot hold the number ${n}.`);
  return Object.is(n, -0) ? "0" : String(n);
}

/**
 * Reads a quoted string the way the forgiving parser does, starting at the opening quote:
 * `\<quote>`, `\\` and a doubled quote are escapes. Returns the text and the index after the
 * closing quote, or null when the quote is never closed.
 */
export function readQuoted(input: string, start: number): { text: string; end: number } | null {
  const q = input[start];
  let out = "";
  let i = start + 1;
  while (i < input.length) {
    const c = input[i];
    if (c === "\\" && (input[i + 1] === q || input[i + 1] === "\\")) {
      out += input[i + 1];
      i += 2;
      continue;
    }
    if (c === q) {
      if (input[i + 1] === q) {
        out += q;
        i += 2;
        continue;
      }
      return { text: out, end: i + 1 };
    }
    out += c;
    i++;
  }
  return null;
}
