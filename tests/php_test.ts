import assert from "node:assert/strict";
import { ctypeDigit, filterBool, floatval, isIntegerText, isNumeric, strval } from "../lib/php.ts";

Deno.test("php: is_numeric, floatval and filter_var booleans take PHP's white space, not Unicode's", () => {
  for (const s of ["1", " 1", "1 ", "\t-1.5e3\n", ".5", "5.", "+0", "\v\f7\r"]) {
    assert.equal(isNumeric(s), true, JSON.stringify(s));
  }
  // NBSP and the other Unicode spaces are text to PHP; so are hex, "1_000" and an empty string.
  for (const s of ["", " ", "\u00a01", "1\u2003", "0x1A", "1_000", "1e", "--1", "."]) {
    assert.equal(isNumeric(s), false, JSON.stringify(s));
  }
  assert.equal(floatval("12.5abc"), 12.5);
  assert.equal(floatval("  -3e2x"), -300);
  assert.equal(floatval("\u00a012"), 0);
  assert.equal(floatval("abc"), 0);
  assert.equal(isIntegerText(" 9007199254740993 "), true);
  assert.equal(isIntegerText("1.0"), false);
  assert.equal(ctypeDigit("0123"), true);
  assert.equal(ctypeDigit("-1"), false);
  for (const s of ["1", "true", " Yes ", "ON", "\ttrue\n"]) assert.equal(filterBool(s), true, s);
  // filter_var trims only " \t\r\v\n": a form feed or NBSP keeps the word from matching.
  // (NUL too: PHP's trim() would strip it, filter_var's does not.)
  for (const s of ["0", "t", "y", "2", "\fyes", "\u00a0on", "\0yes", ""]) {
    assert.equal(filterBool(s), false, s);
  }
});

Deno.test("php: strval casts scalars as PHP's (string) does", () => {
  assert.equal(strval(true), "1");
  assert.equal(strval(false), "");
  assert.equal(strval(null), "");
  assert.equal(strval(undefined), "");
  assert.equal(strval(0), "0");
  assert.equal(strval(-1.5), "-1.5");
  assert.equal(strval(9007199254740993n), "9007199254740993");
  assert.equal(strval(" a,b "), " a,b ");
});
