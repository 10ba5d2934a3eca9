/**
 * The FORGIVING reading, for the client: a real scanner and recursive-descent parser of the filter
 * language people write (precedence-free chains, quotes with escapes, word operators), which
 * refuses what DreamFactory would misread and says how to write it instead.
 *
 * @module
 */

import type { ComparisonNode, ComparisonOperator, FilterNode, FilterValue } from "./ast.ts";
import { FilterSyntaxError } from "./errors.ts";
import { printComparison, printFilter } from "./printer.ts";
import { readQuoted } from "./values.ts";

/** Values spliced in by the `f` template, addressed by sentinel characters in the text. */
export interface Interpolations {
  values: unknown[];
  /** Converts one interpolated value to a value or a list (throws on what cannot be sent). */
  convert: (v: unknown, index: number, list: boolean) => FilterValue | FilterValue[] | FilterNode;
}

/** Marks an interpolated value in the template text: U+E000, index digits, U+E001. */
export const SENTINEL_OPEN = "\uE000";
/** Closes an interpolation marker. */
export const SENTINEL_CLOSE = "\uE001";

const WORD_OPS: Record<string, ComparisonOperator> = {
  eq: "=",
  ne: "!=",
  gt: ">",
  gte: ">=",
  lt: "<",
  lte: "<=",
  like: "like",
  in: "in",
  contains: "contains",
};

const UNKNOWN_OPS: Record<string, string> = {
  ge: "gte (or >=)",
  le: "lte (or <=)",
  neq: "ne (or !=)",
  "=>": ">=",
  "=<": "<=",
  "==": "=",
  "~": "like",
  "!~": "not like",
  "~~": "like",
  ilike: "like (DreamFactory's LIKE on SQLite ignores ASCII case)",
  regexp: "like with % and _ wildcards",
  match: "like",
  has: "contains",
  begins: "starts with",
};

/** Deepest nesting of parentheses and NOTs the client accepts (SQLite allows 1000 levels). */
const MAX_DEPTH = 200;

class Parser {
  pos = 0;
  depth = 0;
  constructor(readonly input: string, readonly interp?: Interpolations) {}

  fail(message: string, position = this.pos, suggestion?: string): never {
    throw new FilterSyntaxError(message, this.input, position, suggestion);
  }

  ws(): void {
    while (this.pos < this.input.length && /\s/.test(this.input[this.pos])) this.pos++;
  }

  peekWord(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.input.slice(this.pos));
    return m ? m[0] : "";
  }

  /** Consumes `word` (case-insensitive) when it is the next whole word. */
  word(word: string): boolean {
    this.ws();
    const w = this.peekWord();
    if (w.toLowerCase() !== word) return false;
    this.pos += w.length;
    return true;
  }

  atEnd(): boolean {
    this.ws();
    return this.pos >= this.input.length;
  }

  /** Logical operator at the cursor, consumed. */
  logical(): "and" | "or" | null {
    this.ws();
    const rest = this.input.slice(this.pos);
    if (rest.startsWith("&&")) {
      this.pos += 2;
      return "and";
    }
    if (rest.startsWith("||")) {
      this.pos += 2;
      return "or";
    }
    const w = this.peekWord().toLowerCase();
    if (w === "and" || w === "or") {
      this.pos += w.length;
      return w;
    }
    return null;
  }

  /** A chain of conditions joined by one kind of logical operator. */
  chain(inParens: boolean): FilterNode {
    const start = this.pos;
    const terms: FilterNode[] = [this.unary()];
    const ops: { op: "and" | "or"; at: number }[] = [];
    for (;;) {
      if (this.atEnd()) break;
      if (inParens && this.input[this.pos] === ")") break;
      const at = this.pos;
      const op = this.logical();
      if (!op) this.unexpected();
      ops.push({ op, at });
      terms.push(this.unary());
    }
    if (terms.length === 1) return terms[0];
    const kinds = new Set(ops.map((o) => o.op));
    if (kinds.size > 1) {
      // SQL precedence (AND before OR) is what the writer most likely meant; say so explicitly.
      const groups: FilterNode[][] = [[terms[0]]];
      ops.forEach((o, i) => {
        if (o.op === "or") groups.push([terms[i + 1]]);
        else groups[groups.length - 1].push(terms[i + 1]);
      });
      const node: FilterNode = {
        type: "or",
        children: groups.map((g) => (g.length === 1 ? g[0] : { type: "and", children: g })),
      };
      let fix: string | undefined;
      try {
        fix = printFilter(node);
      } catch { /* no suggestion */ }
      const firstOr = ops.find((o) => o.op === "or")!;
      const firstAnd = ops.find((o) => o.op === "and")!;
      this.fail(
        "AND and OR are mixed without parentheses; DreamFactory needs each group parenthesised " +
          "(AND is usually meant to bind first)",
        Math.max(firstOr.at, firstAnd.at) || start,
        fix,
      );
    }
    return { type: ops[0].op, children: terms };
  }

  unexpected(): never {
    const rest = this.input.slice(this.pos);
    const w = this.peekWord().toLowerCase();
    if (w === "xor" || w === "nor") {
      this.fail(`${w.toUpperCase()} fails on DreamFactory's SQLite; use and/or`);
    }
    if (rest.startsWith(")")) this.fail("unbalanced ')': no '(' opens it");
    const glued = this.input[this.pos - 1] === SENTINEL_CLOSE ||
      (rest.includes(SENTINEL_OPEN) && !/^\s*(and|or)\b/i.test(rest));
    if (this.interp && glued) {
      this.fail(
        "an interpolated value must stand alone; build the whole value in JavaScript " +
          '(e.g. like ${"%" + text + "%"})',
      );
    }
    this.fail(
      `expected and, or or the end of the filter but found '${rest.slice(0, 20)}'` +
        " (quote values that contain spaces)",
    );
  }

  unary(): FilterNode {
    if (++this.depth > MAX_DEPTH) {
      this.fail(`the filter nests more than ${MAX_DEPTH} levels deep`);
    }
    try {
      return this.unaryInner();
    } finally {
      this.depth--;
    }
  }

  unaryInner(): FilterNode {
    this.ws();
    const save = this.pos;
    if (this.word("not")) {
      this.ws();
      // `not` as a field name would be followed by an operator; as a keyword by ( or a condition.
      if (/^[=<>!]/.test(this.input.slice(this.pos))) this.pos = save;
      else return { type: "not", child: this.unary() };
    }
    if (this.input.startsWith("!", this.pos) && this.input[this.pos + 1] !== "=") {
      this.pos++;
      return { type: "not", child: this.unary() };
    }
    return this.primary();
  }

  primary(): FilterNode {
    this.ws();
    if (this.pos >= this.input.length) {
      this.fail(
        this.input.trim() === "" ? "the filter is empty" : "a condition is missing at the end",
      );
    }
    if (this.input[this.pos] === "(") {
      const open = this.pos;
      this.pos++;
      this.ws();
      if (this.input[this.pos] === ")") this.fail("empty parentheses", open);
      const inner = this.chain(true);
      this.ws();
      if (this.input[this.pos] !== ")") {
        this.fail("unbalanced '(': it is never closed", open, this.input + ")");
      }
      this.pos++;
      return inner;
    }
    if (this.input.startsWith(SENTINEL_OPEN, this.pos) && this.interp) {
      const at = this.pos;
      const index = this.sentinel();
      const v = this.interp.convert(this.interp.values[index], index, false);
      if (v && typeof v === "object" && "type" in v) return v;
      this.fail("an interpolated value stands where a condition (or field) belongs", at);
    }
    return this.comparison();
  }

  sentinel(): number {
    const close = this.input.indexOf(SENTINEL_CLOSE, this.pos);
    const index = Number(this.input.slice(this.pos + 1, close));
    this.pos = close + 1;
    return index;
  }

  field(): string {
    this.ws();
    const at = this.pos;
    const c = this.input[this.pos];
    if (c === '"' || c === "'" || c === "`") {
      const end = this.input.indexOf(c, this.pos + 1);
      const name = end > 0 ? this.input.slice(this.pos + 1, end) : "";
      this.fail(
        `field names are written without quotes (DreamFactory rejects ${c}${name}${c})`,
        at,
        end > 0 ? this.input.slice(0, at) + name + this.input.slice(end + 1) : undefined,
      );
    }
    const name = this.peekWord();
    if (!name) this.fail(`expected a field name but found '${this.input.slice(at, at + 20)}'`);
    this.pos += name.length;
    if (this.input[this.pos] === ".") {
      this.fail(
        `dotted (related) field names such as '${name}.${
          /^[\w]*/.exec(this.input.slice(this.pos + 1))?.[0]
        }' are not ` +
          "supported by DreamFactory filters",
        at,
      );
    }
    return name;
  }

  operator(field: string): { op: ComparisonOperator; negated: boolean } {
    this.ws();
    const at = this.pos;
    const rest = this.input.slice(this.pos);
    const sym = /^(>=|<=|!=|<>|==|=>|=<|!~|~~|=|>|<|~)/.exec(rest);
    if (sym) {
      const s = sym[0];
      this.pos += s.length;
      switch (s) {
        case ">=":
        case "<=":
        case "!=":
        case ">":
        case "<":
        case "=":
          return { op: s, negated: false };
        case "<>":
          return { op: "!=", negated: false };
        case "==":
          return { op: "=", negated: false };
        default:
          this.fail(`unknown operator '${s}'; use ${UNKNOWN_OPS[s]}`, at);
      }
    }
    const w = this.peekWord().toLowerCase();
    if (!w) this.fail(`expected a comparison operator after '${field}'`, at);
    this.pos += w.length;
    if (w === "not") {
      const next = this.peekWordAfterWs().toLowerCase();
      const inner = this.operator(field);
      if (next === "in" || inner.op === "in") return { op: "not in", negated: false };
      if (["like", "contains", "starts with", "ends with"].includes(inner.op) && !inner.negated) {
        return { op: inner.op, negated: true };
      }
      this.fail(`'not' cannot precede '${next}'; use the opposite operator (e.g. != for =)`, at);
    }
    if (w === "is") {
      const neg = this.word("not");
      if (!this.word("null")) this.fail("expected 'null' after 'is'", this.pos);
      return { op: neg ? "is not null" : "is null", negated: false };
    }
    if (w === "starts" || w === "ends") {
      if (!this.word("with")) this.fail(`expected 'with' after '${w}'`, this.pos, undefined);
      return { op: w === "starts" ? "starts with" : "ends with", negated: false };
    }
    if (w === "between") {
      const suggestion = `(${field} >= low) and (${field} <= high)`;
      this.fail("DreamFactory has no BETWEEN; use two conditions", at, suggestion);
    }
    if (WORD_OPS[w]) return { op: WORD_OPS[w], negated: false };
    if (UNKNOWN_OPS[w]) this.fail(`unknown operator '${w}'; use ${UNKNOWN_OPS[w]}`, at);
    this.fail(`unknown operator '${this.input.slice(at, at + 12).trim()}' after '${field}'`, at);
  }

  peekWordAfterWs(): string {
    this.ws();
    return this.peekWord();
  }

  comparison(): ComparisonNode {
    const field = this.field();
    const { op, negated } = this.operator(field);
    const node: ComparisonNode = { type: "comparison", field, op, negated };
    if (op === "is null" || op === "is not null") return this.checked(node, -1);
    this.ws();
    const valueAt = this.pos;
    if (op === "in" || op === "not in") {
      node.values = this.list(field);
    } else {
      const v = this.value(false);
      if (Array.isArray(v)) this.fail(`a list needs 'in'; '${op}' takes one value`, valueAt);
      if (v === null) {
        if (op === "=") return this.checked({ ...node, op: "is null" }, valueAt);
        if (op === "!=") return this.checked({ ...node, op: "is not null" }, valueAt);
        this.fail(
          `null cannot be compared with '${op}'; use '${field} is null' or '${field} is not null'`,
          valueAt,
        );
      }
      node.value = v;
    }
    return this.checked(node, valueAt);
  }

  /** Refuses a comparison DreamFactory would misread, naming the value's position. */
  checked(node: ComparisonNode, at: number): ComparisonNode {
    try {
      printComparison(node, false);
      printComparison(node, true);
    } catch (e) {
      if (e instanceof FilterSyntaxError) {
        this.fail(e.reason, at, e.suggestion);
      }
      throw e;
    }
    return node;
  }

  list(field: string): FilterValue[] {
    this.ws();
    const at = this.pos;
    if (this.input.startsWith(SENTINEL_OPEN, this.pos) && this.interp) {
      const index = this.sentinel();
      const v = this.interp.convert(this.interp.values[index], index, true);
      if (!Array.isArray(v)) this.fail("'in' needs an array value", at);
      return v;
    }
    if (this.input[this.pos] !== "(") {
      this.fail(
        "the values of 'in' must be wrapped in parentheses",
        at,
        `${field} in (${this.input.slice(at).trim()})`,
      );
    }
    this.pos++;
    const items: FilterValue[] = [];
    for (;;) {
      this.ws();
      if (this.input[this.pos] === ")" && items.length === 0) this.fail("the list is empty");
      const itemAt = this.pos;
      const v = this.value(true);
      if (Array.isArray(v)) this.fail("nested lists are not allowed", itemAt);
      if (v === null) {
        this.fail(`null in a list never matches; add (${field} is null) with or`, itemAt);
      }
      items.push(v);
      this.ws();
      if (this.input[this.pos] === ",") {
        this.pos++;
        continue;
      }
      if (this.input[this.pos] === ")") {
        this.pos++;
        return items;
      }
      this.fail("expected ',' or ')' in the list", this.pos);
    }
  }

  quoted(): string {
    const q = this.input[this.pos];
    const open = this.pos;
    const r = readQuoted(this.input, this.pos);
    if (!r) {
      this.fail(`unbalanced quote: the ${q} opened here is never closed`, open, this.input + q);
    }
    this.pos = r.end;
    return r.text;
  }

  /**
   * A quote inside a quoted value (`'O'Brien'`). When the value clearly runs to a later quote
   * followed by a delimiter, read it as DreamFactory does (outer quotes only); else explain.
   */
  strayQuote(open: number, q: string): string {
    // The value most likely runs to the next quote that is followed by a delimiter.
    let end = -1;
    for (let j = this.pos; j < this.input.length; j++) {
      if (
        this.input[j] === q && (j + 1 === this.input.length || /[\s),]/.test(this.input[j + 1]))
      ) {
        end = j;
        break;
      }
    }
    const other = q === "'" ? '"' : "'";
    if (end > 0 && !this.input.slice(open + 1, end).includes("\\")) {
      this.pos = end + 1;
      return this.input.slice(open + 1, end);
    }
    let suggestion: string | undefined;
    if (end > 0) {
      const inner = this.input.slice(open + 1, end);
      const fixed = inner.includes(other)
        ? q + inner.replaceAll(q, q + q) + q
        : other + inner + other;
      suggestion = this.input.slice(0, open) + fixed + this.input.slice(end + 1);
    }
    this.fail(
      `the ${q} inside the value ends it early; write the value in ${other} quotes ` +
        `(or double the ${q}: ${q}${q})`,
      this.pos,
      suggestion,
    );
  }

  /** One value: quoted string, number, true/false/null, :param, (expression) or bare word. */
  value(inList: boolean): FilterValue | FilterValue[] {
    this.ws();
    const at = this.pos;
    if (this.pos >= this.input.length) this.fail("a value is missing at the end of the filter");
    const c = this.input[this.pos];
    if (this.input.startsWith(SENTINEL_OPEN, this.pos) && this.interp) {
      const index = this.sentinel();
      const v = this.interp.convert(this.interp.values[index], index, false);
      if (v && typeof v === "object" && "type" in v) {
        this.fail("a filter cannot stand where a value belongs", at);
      }
      return v as FilterValue | FilterValue[];
    }
    if (c === "'" || c === '"') {
      const text = this.quoted();
      if (this.interp && text.includes(SENTINEL_OPEN)) {
        this.fail("do not put quotes around ${...}: interpolated values are quoted for you", at);
      }
      if (this.pos < this.input.length && !/[\s),]/.test(this.input[this.pos])) {
        return this.strayQuote(at, c);
      }
      return text;
    }
    if (c === "(") {
      if (inList) this.fail("an expression cannot be a list item", at);
      let depth = 0;
      let i = this.pos;
      for (; i < this.input.length; i++) {
        if (this.input[i] === "(") depth++;
        else if (this.input[i] === ")" && --depth === 0) break;
      }
      if (depth !== 0) this.fail("unbalanced '(' in the value", at, this.input + ")");
      const expr = this.input.slice(this.pos, i + 1);
      this.pos = i + 1;
      return { expression: expr };
    }
    if (c === ")" || c === ",") this.fail("a value is missing", at);
    const stop = inList ? /[\s),]/ : /[\s)]/;
    let i = this.pos;
    while (i < this.input.length && !stop.test(this.input[i])) {
      if (this.input[i] === "(") break;
      i++;
    }
    const text = this.input.slice(this.pos, i);
    if (this.interp && text.includes(SENTINEL_OPEN)) {
      this.fail(
        "an interpolated value must stand alone; build the whole value in JavaScript " +
          '(e.g. like ${"%" + text + "%"})',
        at,
      );
    }
    this.pos = i;
    const lower = text.toLowerCase();
    if (lower === "and" || lower === "or" || text === "&&" || text === "||") {
      this.fail("a value is missing before " + text, at);
    }
    if (lower === "null") return null;
    if (lower === "true") return true;
    if (lower === "false") return false;
    if (/^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/.test(text)) {
      const n = Number(text);
      // keep the digits as written when a number would change them (leading zeros, big ints)
      return String(n) === text ? n : text;
    }
    if (text.startsWith(":")) {
      if (!/^:[A-Za-z0-9_]+$/.test(text)) this.fail(`bad placeholder name '${text}'`, at);
      return { param: text.slice(1) };
    }
    return text;
  }
}

/**
 * The forgiving, client-side reading of a filter: a tokenizer and recursive-descent parser with
 * NOT > AND > OR, parentheses, quoted strings with escapes (`\'`, `''`, `\"`, `""`, `\\`),
 * numbers, booleans, null, `= != <> > >= < <=` and `eq ne gt gte lt lte`, `[not] like`,
 * `[not] in (...)`, `is [not] null`, `[not] contains`, `[not] starts with`, `[not] ends with`,
 * `:name` placeholders. `x = null` reads as `x is null`.
 *
 * Refuses, with a `FilterSyntaxError` naming the problem, its position and the fix: AND mixed
 * with OR without parentheses, unknown operators (`ge`, `between`, `~`), unbalanced quotes or
 * parentheses, and values DreamFactory would misread (a value holding `=` after `like`, commas in
 * `in` items, `) and (` in a value, ...).
 *
 * @example
 * ```ts
 * parseFilter("age >= 21 and name like 'O''Brien%'");
 * // and[ age >= 21, name like "O'Brien%" ]
 * ```
 */
export function parseFilter(input: string): FilterNode {
  return parseFilterWith(input);
}

/** `parseFilter` with template interpolations (used by `f`). */
export function parseFilterWith(input: string, interp?: Interpolations): FilterNode {
  const p = new Parser(input, interp);
  if (p.atEnd()) p.fail("the filter is empty", 0);
  const node = p.chain(false);
  return node;
}

/**
 * Rewrites a filter into the canonical form DreamFactory parses as intended:
 * `printFilter(parseFilter(input))`.
 *
 * @example
 * ```ts
 * normalizeFilter("a = 1 and b = 'x'"); // "(a = 1) and (b = 'x')"
 * normalizeFilter("not (status = 'x')"); // "status != 'x'"
 * ```
 */
export function normalizeFilter(input: string): string {
  const node = parseFilter(input);
  try {
    return printFilter(node);
  } catch (e) {
    if (e instanceof FilterSyntaxError && e.input === "") {
      throw new FilterSyntaxError(e.reason, input, -1, e.suggestion);
    }
    throw e;
  }
}
