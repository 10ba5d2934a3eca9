/**
 * The canonical printer: writes a `FilterNode` in the form DreamFactory 7's parser reads as
 * intended, and proves it by re-reading its own output with the strict parser.
 *
 * Rules: every condition of an AND/OR chain is parenthesised (`(a = 1) and (b = 2)`); `NOT` is
 * pushed down to the comparisons (`!=`, `not like`, `not in`, `is not null`, De Morgan), since
 * DreamFactory only understands `NOT (` at the very start of a filter; string values are quoted
 * with `'`, else `"`, else left bare, whichever DreamFactory unquotes back to the same text;
 * booleans print as `1`/`0` (DreamFactory binds boolean text unchanged on system resources).
 *
 * @module
 */

import type { ComparisonNode, FilterNode, FilterValue } from "./ast.ts";
import { isExpressionValue, isParamValue } from "./ast.ts";
import { dreamFactoryTokens, dreamFactoryTree, readDreamFactoryValue } from "./dreamfactory.ts";
import { FilterSyntaxError } from "./errors.ts";
import { meaningKey, NotExpressibleError, pushNotDown, valueText } from "./normalize.ts";
import { readQuoted } from "./values.ts";

const OP_TEXT: Record<string, string> = {
  "=": "=",
  "!=": "!=",
  ">": ">",
  ">=": ">=",
  "<": "<",
  "<=": "<=",
  "like": "like",
  "contains": "contains",
  "starts with": "starts with",
  "ends with": "ends with",
  "in": "in",
  "not in": "not in",
  "is null": "is null",
  "is not null": "is not null",
};

/** Symbols and words DreamFactory searches for in a comparison, in its order. */
const SPLITTERS = [">=", "<=", "!=", "=", "<>", ">", "<"];
const WORD_SPLITTERS = [
  " gte ",
  " lte ",
  " ne ",
  " eq ",
  " gt ",
  " lt ",
  "not in",
  " in ",
  " all ",
  " like ",
  "starts with",
  "ends with",
  " contains ",
  "is null",
  "is not null",
];
const LOGICAL_SPLITTERS = [/\)\s*(&&|and|\|\||or|nor|xor)\s*\(/i];

/** Why DreamFactory cannot read `value` back (best guess), for the error message. */
function explain(text: string, field: string): string {
  const theValue = `the value of '${field}'`;
  const lower = text.toLowerCase();
  for (const re of LOGICAL_SPLITTERS) {
    const m = re.exec(text);
    if (m) {
      return `${theValue} contains '${m[0]}', where DreamFactory splits a filter into conditions ` +
        "(it does not look at quotes)";
    }
  }
  for (const s of SPLITTERS) {
    if (text.includes(s)) {
      return `${theValue} contains '${s}', which DreamFactory's parser takes for the comparison ` +
        "operator (it searches for operators before it looks at quotes). Such a value cannot be " +
        "sent in a DreamFactory filter; match it with a LIKE pattern that has _ in place of " +
        `the character, e.g. like '${text.replaceAll(/[=<>!]/g, "_")}'`;
    }
  }
  for (const w of WORD_SPLITTERS) {
    if ((" " + lower + " ").includes(w)) {
      return `${theValue} contains '${w.trim()}', which DreamFactory's parser takes for an ` +
        "operator. Such a value cannot be sent as written; match it with a LIKE pattern that " +
        "has _ in place of a space or %";
    }
  }
  if (/^\(.*\)$/s.test(text)) {
    return `DreamFactory's parser mangles the expression ${text} (it trims the closing ` +
      "parentheses); use (CURRENT_TIMESTAMP), (CURRENT_DATE) or (CURRENT_TIME), or a literal value";
  }
  if (text.includes("(") || text.includes(")")) {
    return `the parentheses in ${theValue} confuse DreamFactory's parser`;
  }
  return `DreamFactory would read ${theValue} differently`;
}

/** Text both DreamFactory and the forgiving parser read unquoted as the same value. */
function bareSafe(t: string): boolean {
  return /^[^\s(),'"\\:\uE000\uE001]+$/.test(t) && !/^(and|or|not|null|true|false)$/i.test(t) &&
    !/^[&|!]/.test(t) &&
    !(/^[+-]?(\d+(\.\d+)?|\.\d+)([eE][+-]?\d+)?$/.test(t) && String(Number(t)) !== t);
}

function unprintable(message: string, suggestion?: string): FilterSyntaxError {
  return new FilterSyntaxError(message, "", -1, suggestion);
}

/** Does DreamFactory read `printed` (alone, or as one parenthesised chain member) as `node`? */
function readsBack(printed: string, node: FilterNode, key = meaningKey(node)): boolean {
  try {
    const tokens = dreamFactoryTokens(printed);
    if (!tokens) return false;
    return meaningKey(dreamFactoryTree(tokens)) === key;
  } catch {
    return false;
  }
}

function stringCandidates(s: string): string[] {
  const out: string[] = [];
  // `"O'Brien"` reads better than `'O'Brien'` (both work: DreamFactory has no escapes).
  const order = s.includes("'") && !s.includes('"')
    ? [`"${s}"`, `'${s}'`, s]
    : [`'${s}'`, `"${s}"`, s];
  for (const c of order) {
    if (readDreamFactoryValue(c) !== s) continue;
    // The spelling must also read back the same with dfkit's own forgiving parser (which knows
    // escapes), so canonical filters can be parsed again.
    const forgiving = c === s ? null : readQuoted(c, 0);
    const same = c === s
      ? bareSafe(s)
      : forgiving !== null && forgiving.end === c.length && forgiving.text === s;
    if (same) out.push(c);
  }
  if (out.length === 0) {
    throw unprintable(
      `the value ${JSON.stringify(s)} cannot be written so DreamFactory reads it back: it has no ` +
        "escapes, and the value starts or ends with quotes (or backslashes before them)",
    );
  }
  return out;
}

function scalarCandidates(v: FilterValue | undefined, field: string): string[] {
  if (typeof v === "string") return stringCandidates(v);
  if (isParamValue(v)) {
    if (!/^[A-Za-z0-9_]+$/.test(v.param)) {
      throw unprintable(`the placeholder name ':${v.param}' may only hold letters, digits and _`);
    }
    return [`:${v.param}`];
  }
  if (isExpressionValue(v)) return [v.expression];
  if (v === null || v === undefined) {
    throw unprintable(
      `a comparison of '${field}' with null never matches; write '${field} is null'`,
      `${field} is null`,
    );
  }
  return [valueText(v)];
}

function opText(c: ComparisonNode): string {
  const base = OP_TEXT[c.op];
  if (base === undefined) {
    throw unprintable(`the '${c.op.toUpperCase()}' operator does not work on DreamFactory's SQL`);
  }
  return c.negated ? `not ${base}` : base;
}

function checkField(field: string): void {
  if (!/^[^\s()'"`=<>!,;]+$/.test(field)) {
    throw unprintable(
      `'${field}' is not a field name DreamFactory can read (letters, digits, _ only)`,
    );
  }
}

/** Operators whose plain-value comparison prints as `field op 'value'` (see PLAIN_VALUE). */
const PLAIN_OPS = new Set(["=", "!=", ">", ">=", "<", "<=", "like"]);
/** Values with no quote, space, bracket, comma, backslash or operator character: DreamFactory
 * cannot split or unquote them in any other way, so their quoted form needs no proof (the
 * tests check this shortcut against the proof on generated values). */
const PLAIN_VALUE = /^[A-Za-z0-9_%@.+:-]+$/;
/** Field names DreamFactory reads as one column name whatever follows (see checkField). */
const PLAIN_FIELD = /^[A-Za-z0-9_.]+$/;

/** Prints one comparison (never a NOT) and proves DreamFactory reads it back. */
export function printComparison(c: ComparisonNode, inChain: boolean): string {
  const v = c.value;
  if (!c.negated && PLAIN_OPS.has(c.op) && PLAIN_FIELD.test(c.field)) {
    let text: string | undefined;
    if (typeof v === "string") {
      if (PLAIN_VALUE.test(v)) text = `'${v}'`;
    } else if ((typeof v === "number" && Number.isFinite(v)) || typeof v === "boolean") {
      text = valueText(v);
    }
    if (text !== undefined) {
      return inChain ? `(${c.field} ${c.op} ${text})` : `${c.field} ${c.op} ${text}`;
    }
  }
  return provedComparison(c, inChain);
}

/** printComparison without the plain-value shortcut: every candidate spelling is re-read. */
export function provedComparison(c: ComparisonNode, inChain: boolean): string {
  checkField(c.field);
  const wrap = (s: string) => (inChain ? `(${s})` : s);
  const key = meaningKey(c);
  const first = (candidates: string[], build: (v: string) => string, shown: string): string => {
    for (const cand of candidates) {
      const s = wrap(build(cand));
      if (readsBack(s, c, key)) return s;
    }
    throw unprintable(explain(shown, c.field));
  };

  if (c.op === "is null" || c.op === "is not null") {
    if (c.negated) throw unprintable(`'${c.field} NOT ${c.op.toUpperCase()}' is not valid SQL`);
    return first([""], () => `${c.field} ${c.op}`, c.field);
  }
  if (c.op === "in" || c.op === "not in" || c.op === "all") {
    const items = c.values ?? [];
    if (items.length === 0) {
      throw unprintable(`the list of '${c.field} ${c.op}' is empty; DreamFactory needs 1+ values`);
    }
    const texts = items.map((v) => {
      if (typeof v === "string" && v.includes(",")) {
        throw unprintable(
          `the list item '${v}' of '${c.field}' contains a comma; DreamFactory splits IN lists on ` +
            "every comma, even inside quotes, so it cannot be matched with IN. Use " +
            `(${c.field} = '${v}') or (...) instead`,
        );
      }
      const cands = scalarCandidates(v, c.field);
      for (const cand of cands) {
        if (!cand.includes(",")) return cand;
      }
      throw unprintable(explain(valueText(v), c.field));
    });
    return first([texts.join(", ")], (l) => `${c.field} ${opText(c)} (${l})`, texts.join(", "));
  }
  if (c.op === "contains" || c.op === "starts with" || c.op === "ends with") {
    if (isParamValue(c.value) || isExpressionValue(c.value)) {
      throw unprintable(
        `'${c.field}': DreamFactory does not substitute placeholders or expressions after ` +
          `'${c.op}'; use like with the % inside the parameter value`,
      );
    }
    const t = valueText(c.value);
    // Bare text is how DreamFactory expects it (the % is added before quotes would be removed).
    const bare = `${c.field} ${opText(c)} ${t}`;
    if (bareSafe(t) && readsBack(wrap(bare), c)) return wrap(bare);
    const pattern = c.op === "contains" ? `%${t}%` : c.op === "starts with" ? `${t}%` : `%${t}`;
    const like: ComparisonNode = { ...c, op: "like", value: pattern };
    return first(stringCandidates(pattern), (v) => `${c.field} ${opText(like)} ${v}`, pattern);
  }
  const cands = scalarCandidates(c.value, c.field);
  return first(cands, (v) => `${c.field} ${opText(c)} ${v}`, valueText(c.value));
}

function printNode(node: FilterNode, top: boolean): string {
  switch (node.type) {
    case "comparison":
      return printComparison(node, !top);
    case "not":
      // pushNotDown removed every NOT; reaching here means a caller skipped it.
      throw unprintable("NOT must be pushed down before printing");
    case "and":
    case "or": {
      if (node.children.length === 0) throw unprintable(`an empty ${node.type.toUpperCase()}`);
      if (node.children.length === 1) return printNode(node.children[0], top);
      const parts = node.children.map((c) => {
        const s = printNode(c, false);
        return c.type === "comparison" ? s : `(${s})`;
      });
      return parts.join(` ${node.type} `);
    }
    default:
      throw unprintable(
        `${node.type.toUpperCase()} is passed by DreamFactory to the database and fails on ` +
          "SQLite; combine conditions with and/or",
      );
  }
}

/**
 * Prints a filter in the canonical form DreamFactory 7 parses as intended: every condition of a
 * chain parenthesised, values quoted the way DreamFactory's parser unquotes them, `NOT` pushed down
 * to the comparisons. The output is re-read with `parseDreamFactoryFilter` and must mean the same
 * as `node`; otherwise (a value DreamFactory cannot express, such as `a=b` after `like`) a
 * `FilterSyntaxError` says why.
 *
 * @example
 * ```ts
 * printFilter(parseFilter("a = 1 and b = 'x'")); // "(a = 1) and (b = 'x')"
 * ```
 */
export function printFilter(node: FilterNode): string {
  let n: FilterNode;
  let out: string;
  try {
    n = pushNotDown(node);
    out = printNode(n, true);
  } catch (e) {
    if (e instanceof NotExpressibleError) throw unprintable(e.message);
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw unprintable("the filter nests too deeply");
    }
    throw e;
  }
  // A lone comparison was already proved, as printed, by printComparison; chains are proved
  // as a whole here.
  if (n.type !== "comparison" && !readsBack(out, n)) {
    throw unprintable(`DreamFactory would not read '${out}' as intended`);
  }
  return out;
}
