/**
 * PHP's value rules, as DreamFactory applies them to request values (df-database's
 * `Schema::typecastToNative`, the filter's bindings): one implementation for the filter module
 * and the sandbox. PHP's white space here is `" \t\n\r\v\f"` (`is_numeric`, `floatval`), not
 * JavaScript's `\s`, which also takes Unicode spaces.
 *
 * @module
 */

/** PHP `ctype_digit` on a string: digits only, at least one. */
export function ctypeDigit(s: string): boolean {
  return /^[0-9]+$/.test(s);
}

/** PHP 8 `is_numeric` on a string (white space allowed around the number). */
export function isNumeric(s: string): boolean {
  return /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$/.test(s);
}

/** PHP `floatval` of a string: its leading number, else 0. */
export function floatval(s: string): number {
  const m = /^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?/.exec(s);
  return m ? Number(m[0]) : 0;
}

/** PHP `filter_var($v, FILTER_VALIDATE_BOOLEAN)` truthiness of a string: "1", "true", "on" and
 * "yes" (any case, white space around) are true, anything else false. */
export function filterBool(s: string): boolean {
  return ["1", "true", "on", "yes"].includes(
    s.replace(/^[ \t\r\v\n]+|[ \t\r\v\n]+$/g, "").toLowerCase(),
  );
}

/** Whether a string is an integer's digits, with PHP's white space allowed around them (text
 * `is_numeric` takes that `intval` reads whole). */
export function isIntegerText(s: string): boolean {
  return /^[ \t\n\r\v\f]*[+-]?\d+[ \t\n\r\v\f]*$/.test(s);
}

/** PHP's `(string)` cast (`strval`, interpolation) of strings, integers, booleans and null: true
 * is "1", false and null are "". Floats get JavaScript's `String()` (PHP writes 1e20 as
 * "1.0E+20"; the callers see request text, not floats). Arrays and objects are left to the
 * caller, since PHP's answer for them depends on the context (a warning and "Array", or a
 * TypeError); here they get JavaScript's `String()`. */
export function strval(v: unknown): string {
  if (v === null || v === undefined || v === false) return "";
  if (v === true) return "1";
  return String(v);
}
