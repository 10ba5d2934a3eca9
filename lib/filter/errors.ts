/**
 * Errors of the filter module: `FilterError` carries DreamFactory's own status and message (server
 * reading), `FilterSyntaxError` explains a problem in a filter the client was asked to send.
 *
 * @module
 */

/**
 * A filter DreamFactory would refuse, with DreamFactory's exact status and message (the message
 * is raw text; DreamFactory HTML-escapes `<`, `>`, `&`, `"` in its JSON envelope).
 *
 * - 400 "Invalid or unparsable field in filter request: 'foo'", "Invalid or unparsable filter
 *   request.", "Filter value lists must be wrapped in parentheses.", "Field 'a' must be a valid
 *   integer.".
 * - 500 for filters that get past DreamFactory's parser but fail in the database (an SQLite
 *   `SQLSTATE[HY000]` message). With `short: true` DreamFactory answers a bare
 *   `{"message":"Server Error"}` (a PHP error, not an exception), e.g. for a filter of spaces or `()`.
 *
 * @example
 * ```ts
 * try { parseDreamFactoryFilter("()"); } catch (e) { if (e instanceof FilterError) e.status; }
 * ```
 */
export class FilterError extends Error {
  /** HTTP status DreamFactory answers with (400 or 500). */
  status: number;
  /** True when DreamFactory answers the bare `{"message":"Server Error"}` body. */
  short?: boolean;
  /** True when the message is a database (SQL) error DreamFactory would wrap and pass through. */
  sqlError?: boolean;

  /** Creates an error with DreamFactory's status and message. */
  constructor(status: number, message: string, opts: { short?: boolean; sqlError?: boolean } = {}) {
    super(message);
    this.name = "FilterError";
    this.status = status;
    if (opts.short) this.short = true;
    if (opts.sqlError) this.sqlError = true;
  }
}

/**
 * A problem in a filter given to the client: names the problem, the position (0-based character
 * offset into the input) and, where possible, the corrected filter.
 */
export class FilterSyntaxError extends Error {
  /** The filter text that was being parsed. */
  input: string;
  /** 0-based character offset of the problem in `input` (-1 when not tied to a place). */
  position: number;
  /** The corrected filter, when one can be proposed. */
  suggestion?: string;
  /** The problem alone, without position, caret line or fix. */
  reason: string;

  /** Creates an error; the message gains the position, a caret line and the suggested fix. */
  constructor(message: string, input: string, position: number, suggestion?: string) {
    const where = position >= 0 ? ` at position ${position}` : "";
    const caret = position >= 0 && input.length <= 200
      ? `\n  ${input}\n  ${" ".repeat(Math.min(position, input.length))}^`
      : "";
    const fix = suggestion !== undefined ? `\nWrite instead: ${suggestion}` : "";
    super(`Invalid filter${where}: ${message}${caret}${fix}`);
    this.name = "FilterSyntaxError";
    this.reason = message;
    this.input = input;
    this.position = position;
    if (suggestion !== undefined) this.suggestion = suggestion;
  }
}
