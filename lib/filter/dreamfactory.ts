/**
 * The STRICT reading: how DreamFactory 7 itself parses a filter string
 * (df-core `DbRequestCriteria::parseFilterString` / `parseFilterValue`).
 *
 * DreamFactory does not tokenise. It splits the string at the first `) OP (` for each logical
 * operator in turn, then finds the first comparison operator (by a fixed search order, not by
 * position), and keeps every parenthesis it did not consume as text in the SQL it produces; the
 * database then applies SQL precedence. This module replays that algorithm step by step (PHP's
 * `trim`, `stripos`, `explode` semantics included) and records the output as a token stream
 * (parentheses, logical words, comparisons), which is then read with SQLite's precedence into a
 * `FilterNode`. Malformed output that DreamFactory would send to the database (unbalanced
 * parentheses, `XOR`) becomes the 500 the database would cause.
 *
 * @module
 */

import type {
  ColumnInfo,
  ComparisonNode,
  ComparisonOperator,
  FilterNode,
  FilterValue,
} from "./ast.ts";
import { FilterError } from "./errors.ts";

/** PHP's default `trim` character set. */
const PHP_WS = " \t\n\r\0\x0B";

/** PHP `trim($s, $chars)`. */
export function phpTrim(s: string, chars: string = PHP_WS): string {
  let a = 0;
  let b = s.length;
  while (a < b && chars.includes(s[a])) a++;
  while (b > a && chars.includes(s[b - 1])) b--;
  return s.slice(a, b);
}

/** ASCII-only lower-casing, as PHP 8.2's `stripos`/`strtolower` do (keeps string length). */
export function asciiLower(s: string): string {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}

/** PHP `str_ireplace` of one needle. */
function strIreplace(needle: string, replacement: string, subject: string): string {
  const lower = asciiLower(subject);
  const n = asciiLower(needle);
  let out = "";
  let from = 0;
  for (let i = lower.indexOf(n); i >= 0; i = lower.indexOf(n, from)) {
    out += subject.slice(from, i) + replacement;
    from = i + needle.length;
  }
  return out + subject.slice(from);
}

function count(s: string, ch: string): number {
  let n = 0;
  for (const c of s) if (c === ch) n++;
  return n;
}

/** DreamFactory's logical operators in the order it tries them (NOT is handled last). */
const LOGICAL: ReadonlyArray<[string, "and" | "or" | "nor" | "xor"]> = [
  ["&&", "and"],
  ["AND", "and"],
  ["||", "or"],
  ["OR", "or"],
  ["NOR", "nor"],
  ["XOR", "xor"],
];

/** DreamFactory's comparison parsing order, each with the operator it localises to. */
const COMPARISON: ReadonlyArray<[string, ComparisonOperator]> = [
  [">=", ">="],
  ["<=", "<="],
  ["!=", "!="],
  ["=", "="],
  ["<>", "!="],
  [">", ">"],
  ["<", "<"],
  ["GTE", ">="],
  ["LTE", "<="],
  ["NE", "!="],
  ["EQ", "="],
  ["GT", ">"],
  ["LT", "<"],
  ["NOT IN", "not in"],
  ["IN", "in"],
  ["ALL", "all"],
  ["LIKE", "like"],
  ["STARTS WITH", "starts with"],
  ["ENDS WITH", "ends with"],
  ["CONTAINS", "contains"],
  ["IS NULL", "is null"],
  ["IS NOT NULL", "is not null"],
];

/** `padOperator`: purely alphabetic operators need a space on both sides. */
function padOperator(op: string): string {
  return /^[A-Za-z]+$/.test(op) ? ` ${op} ` : op;
}

/** The search strings, padded and lower-cased once. */
const PADDED_COMPARISON: ReadonlyArray<[string, ComparisonOperator]> = COMPARISON.map((
  [word, op],
) => [asciiLower(padOperator(word)), op]);

/** Operators whose value text DreamFactory wraps in `%` before it strips quotes. */
const WILDCARD_OPS: ReadonlySet<ComparisonOperator> = new Set([
  "contains",
  "starts with",
  "ends with",
]);

/**
 * DreamFactory's reading of one value text (`parseFilterValue` before typing): a `:name`
 * placeholder, one pair of matching outer quotes removed (no escapes), or a parenthesised raw
 * expression; anything else is the text itself.
 */
export function readDreamFactoryValue(text: string): FilterValue {
  if (text.startsWith(":")) return { param: text.slice(1) };
  return stripDreamFactoryQuotes(text);
}

/**
 * The quote/expression step of `parseFilterValue` on a string: `'x'` or `"x"` loses its outer
 * quotes only when exactly one quote opens and one closes it; otherwise `(…)` is a raw expression.
 */
export function stripDreamFactoryQuotes(text: string): string | { expression: string } {
  for (const q of ["'", '"']) {
    if (q + phpTrim(text, q) + q === text) return text.slice(1, -1);
  }
  if (text.startsWith("(") && text.endsWith(")")) return { expression: text };
  return text;
}

/** One piece of the SQL text DreamFactory's parser produces. */
export type DfToken =
  | { t: "(" }
  | { t: ")" }
  | { t: "not" }
  | { t: "op"; op: "and" | "or" | "nor" | "xor" }
  | { t: "cmp"; node: ComparisonNode };

/** Hooks run in DreamFactory's order: the field check, then the value typing of each comparison. */
export interface ComparisonHook {
  /** Called with the field text as soon as DreamFactory has cut it out. */
  field?: (field: string) => void;
  /** Called with the finished comparison (values read, not yet typed). */
  comparison?: (node: ComparisonNode) => void;
}

function serverError(): FilterError {
  // A PHP ValueError (explode with an empty delimiter, str_repeat with a negative count) is not an
  // exception DreamFactory maps: the client sees Laravel's bare 500.
  return new FilterError(500, "Server Error", { short: true });
}

function parens(s: string): DfToken[] {
  const out: DfToken[] = [];
  for (const c of s) out.push(c === "(" ? { t: "(" } : { t: ")" });
  return out;
}

/** Replays `parseFilterString` on `filter`, returning the token stream of the SQL it builds. */
function emulate(input: string, hook: ComparisonHook | undefined, depth: number): DfToken[] {
  if (depth > 5000) throw serverError(); // PHP would exhaust its stack long before this
  let filter = phpTrim(input);
  let lower = asciiLower(filter);
  for (const [word, op] of LOGICAL) {
    const tight = `)${word.toLowerCase()}(`;
    if (lower.includes(tight)) {
      filter = strIreplace(tight, `) ${word} (`, filter);
      lower = asciiLower(filter);
    }
    const padded = `) ${word} (`;
    const pos = lower.indexOf(padded.toLowerCase());
    if (pos >= 0) {
      const left = phpTrim(filter.slice(0, pos)) + ")";
      const right = "(" + phpTrim(filter.slice(pos + padded.length));
      const l = emulate(left, hook, depth + 1);
      const r = emulate(right, hook, depth + 1);
      return [...l, { t: "op", op }, ...r];
    }
  }
  if (lower.startsWith("not (") || lower.startsWith("not(")) {
    return [{ t: "not" }, ...emulate(phpTrim(filter.slice(3)), hook, depth + 1)];
  }

  let wrap = false;
  if (filter.startsWith("(") && filter.endsWith(")")) {
    filter = filter.slice(1, -1);
    wrap = true;
  }
  const pure = phpTrim(filter, "()");
  if (pure === "") throw serverError(); // explode(): Argument #1 ($separator) cannot be empty
  const at = filter.indexOf(pure);
  const leftParen = filter.slice(0, at);
  let rightParen = filter.slice(at + pure.length);
  filter = pure;
  lower = asciiLower(filter);

  for (const [padded, op] of PADDED_COMPARISON) {
    const pos = lower.indexOf(padded);
    if (pos < 0) continue;
    let field = phpTrim(filter.slice(0, pos));
    let negated = false;
    if (field.includes(" ")) {
      const parts = field.split(" ");
      if (parts.length > 1 && asciiLower(parts[parts.length - 1]) === "not") {
        parts.pop();
        field = parts.join(" ");
        negated = true;
      }
    }
    const node: ComparisonNode = { type: "comparison", field, op, negated };
    // DreamFactory validates the field before it looks at the value.
    hook?.field?.(field);

    let value = phpTrim(filter.slice(pos + padded.length));
    if (!value.startsWith("'")) {
      const lpc = count(value, "(");
      const rpc = count(value, ")");
      if (lpc !== 0 && lpc !== rpc) {
        // "make sure we haven't chopped off right side too much"
        if (lpc < rpc) throw serverError(); // str_repeat() with a negative count
        value += ")".repeat(lpc - rpc);
        let n = lpc - rpc;
        rightParen = rightParen.replace(/\)/g, (m) => (n-- > 0 ? "" : m));
      }
    }
    if (op === "in" || op === "not in" || op === "all") {
      if (!(value.startsWith("(") && value.endsWith(")"))) {
        throw new FilterError(400, "Filter value lists must be wrapped in parentheses.");
      }
      node.values = value.slice(1, -1).split(",").map((each) =>
        readDreamFactoryValue(phpTrim(each))
      );
    } else if (op === "is null" || op === "is not null") {
      // any text after the operator is ignored
    } else if (WILDCARD_OPS.has(op)) {
      // `%` is added before quote stripping, so the text is never unquoted nor a placeholder.
      node.value = value;
    } else {
      node.value = readDreamFactoryValue(value);
    }
    hook?.comparison?.(node);
    const out: DfToken[] = [];
    if (wrap) out.push({ t: "(" });
    out.push(...parens(leftParen), { t: "cmp", node }, ...parens(rightParen));
    if (wrap) out.push({ t: ")" });
    return out;
  }
  throw new FilterError(400, "Invalid or unparsable filter request.");
}

/** SQLite's answer to an expression nested deeper than 1000 levels (500). */
export function tooDeep(): FilterError {
  return new FilterError(
    500,
    "SQLSTATE[HY000]: General error: 1 Expression tree is too large (maximum depth 1000)",
    { sqlError: true },
  );
}

/** An SQLite-style syntax error as DreamFactory would pass it through (500). */
export function sqlSyntaxError(near: string | null): FilterError {
  const detail = near === null ? "incomplete input" : `near "${near}": syntax error`;
  return new FilterError(500, `SQLSTATE[HY000]: General error: 1 ${detail}`, { sqlError: true });
}

function tokenText(tok: DfToken | undefined): string | null {
  if (!tok) return null;
  switch (tok.t) {
    case "(":
    case ")":
      return tok.t;
    case "not":
      return "NOT";
    case "op":
      return tok.op.toUpperCase();
    case "cmp":
      return tok.node.field;
  }
}

/** Reads DreamFactory's output tokens with SQL precedence: NOT > AND > XOR/NOR > OR. */
function buildTree(tokens: DfToken[]): FilterNode {
  let i = 0;
  let depth = 0;
  const deeper = () => {
    // SQLite refuses expressions nested deeper than SQLITE_MAX_EXPR_DEPTH (1000).
    if (++depth > 1000) throw tooDeep();
  };
  const peek = () => tokens[i];
  const fail = (): never => {
    throw sqlSyntaxError(tokenText(peek()));
  };
  const chain = (type: "and" | "or", parts: FilterNode[]): FilterNode => {
    const flat: FilterNode[] = [];
    for (const p of parts) {
      if (p.type === type) flat.push(...p.children);
      else flat.push(p);
    }
    return flat.length === 1 ? flat[0] : { type, children: flat };
  };
  const primary = (): FilterNode => {
    const tok = peek();
    if (!tok) return fail();
    if (tok.t === "cmp") {
      i++;
      return tok.node;
    }
    if (tok.t === "(") {
      i++;
      deeper();
      const inner = orExpr();
      if (peek()?.t !== ")") return fail();
      i++;
      depth--;
      return inner;
    }
    return fail();
  };
  const notExpr = (): FilterNode => {
    if (peek()?.t === "not") {
      i++;
      deeper();
      const child = notExpr();
      depth--;
      return { type: "not", child };
    }
    return primary();
  };
  const andExpr = (): FilterNode => {
    const parts = [notExpr()];
    for (let t = peek(); t?.t === "op" && t.op === "and"; t = peek()) {
      i++;
      parts.push(notExpr());
    }
    return chain("and", parts);
  };
  const xorExpr = (): FilterNode => {
    let left = andExpr();
    for (let t = peek(); t?.t === "op" && (t.op === "xor" || t.op === "nor"); t = peek()) {
      i++;
      left = { type: t.op, children: [left, andExpr()] };
    }
    return left;
  };
  const orExpr = (): FilterNode => {
    const parts = [xorExpr()];
    for (let t = peek(); t?.t === "op" && t.op === "or"; t = peek()) {
      i++;
      parts.push(xorExpr());
    }
    return chain("or", parts);
  };
  const tree = orExpr();
  if (i < tokens.length) fail();
  return tree;
}

/** PHP `empty()` on a string: "" and "0" mean "no filter". */
export function isEmptyDreamFactoryFilter(filter: string): boolean {
  return filter === "" || filter === "0";
}

/**
 * Replays DreamFactory's parser and returns its token stream, running `hook` on every comparison
 * in DreamFactory's order. Returns null for a filter DreamFactory ignores ("" or "0").
 */
export function dreamFactoryTokens(filter: string, hook?: ComparisonHook): DfToken[] | null {
  if (isEmptyDreamFactoryFilter(filter)) return null;
  return emulate(filter, hook, 0);
}

/** Builds the tree from a token stream (SQL precedence; malformed streams are a 500). */
export function dreamFactoryTree(tokens: DfToken[]): FilterNode {
  return buildTree(tokens);
}

/** The field check DreamFactory does while parsing (case-insensitive column match). */
export function findColumn(columns: ColumnInfo[], field: string): ColumnInfo {
  const key = asciiLower(field);
  for (const c of columns) if (asciiLower(c.name) === key) return c;
  throw new FilterError(400, `Invalid or unparsable field in filter request: '${field}'`);
}

/**
 * Parses a filter exactly as DreamFactory 7 does (the strict, server-side reading).
 *
 * Conditions combine only when each is parenthesised (`(a = 1) and (b = 2)`); `a = 1 and b = 2` is
 * ONE comparison whose value is `1 and b = 2`. The first comparison operator in DreamFactory's
 * search order wins; values lose one pair of outer quotes and nothing else; `contains`, `starts
 * with` and `ends with` keep their value text verbatim (DreamFactory adds `%` before it would strip
 * quotes). Values are strings: typing by column happens in `compileFilter`.
 *
 * When `columns` is given, unknown fields are rejected in DreamFactory's order (before a later
 * comparison's list error, say). Returns null when DreamFactory applies no filter ("" or "0").
 * Throws `FilterError` with DreamFactory's status and message.
 *
 * @example
 * ```ts
 * parseDreamFactoryFilter("(age >= 21) and (name like 'J%')");
 * // { type: "and", children: [{ field: "age", op: ">=", value: "21", ... }, ...] }
 * parseDreamFactoryFilter("a = 1 and b = 2");
 * // { type: "comparison", field: "a", op: "=", value: "1 and b = 2", negated: false }
 * ```
 */
export function parseDreamFactoryFilter(filter: string, columns?: ColumnInfo[]): FilterNode | null {
  const hook = columns ? { field: (f: string) => void findColumn(columns, f) } : undefined;
  const tokens = dreamFactoryTokens(filter, hook);
  return tokens === null ? null : buildTree(tokens);
}
