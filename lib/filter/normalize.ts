/**
 * Meaning-preserving rewrites used by the printer and by the round-trip check: pushing `NOT` down
 * to the comparisons (exact in SQL's three-valued logic) and a canonical "meaning" key of a tree,
 * so two trees can be compared for what DreamFactory would do with them.
 *
 * @module
 */

import {
  type ComparisonNode,
  type ComparisonOperator,
  type FilterNode,
  type FilterValue,
  isExpressionValue,
  isParamValue,
} from "./ast.ts";
import { formatNumber } from "./values.ts";

/** Operators whose negation is another operator (exact under SQL NULL semantics). */
const FLIP: Partial<Record<ComparisonOperator, ComparisonOperator>> = {
  "=": "!=",
  "!=": "=",
  ">": "<=",
  "<=": ">",
  "<": ">=",
  ">=": "<",
  "in": "not in",
  "not in": "in",
  "is null": "is not null",
  "is not null": "is null",
};

/** Operators DreamFactory can negate with the word NOT (`name NOT LIKE x`). */
const NOT_WORD: ReadonlySet<ComparisonOperator> = new Set([
  "like",
  "contains",
  "starts with",
  "ends with",
]);

/** Thrown when a negation has no DreamFactory spelling. */
export class NotExpressibleError extends Error {}

/** Negates one comparison without a NOT node. */
export function negateComparison(c: ComparisonNode): ComparisonNode {
  if (NOT_WORD.has(c.op)) return { ...c, negated: !c.negated };
  if (c.negated) {
    // `x NOT IN` written with two words apart; SQL-wise the same as not in.
    if (c.op === "in") return { ...c, op: "in", negated: false };
    throw new NotExpressibleError(`cannot negate '${c.field} NOT ${c.op}'`);
  }
  const flipped = FLIP[c.op];
  if (!flipped) throw new NotExpressibleError(`cannot negate the '${c.op}' operator`);
  return { ...c, op: flipped };
}

/** Rewrites `node` so no `not` node remains (De Morgan, operator negation). */
export function pushNotDown(node: FilterNode, negate = false): FilterNode {
  switch (node.type) {
    case "comparison":
      return negate ? negateComparison(node) : node;
    case "not":
      return pushNotDown(node.child, !negate);
    case "and":
    case "or": {
      const type = negate ? (node.type === "and" ? "or" : "and") : node.type;
      return { type, children: node.children.map((c) => pushNotDown(c, negate)) };
    }
    default:
      if (negate) throw new NotExpressibleError(`cannot negate ${node.type.toUpperCase()}`);
      return { type: node.type, children: node.children.map((c) => pushNotDown(c)) };
  }
}

/** The DreamFactory text a literal stands for. */
export function valueText(v: FilterValue | undefined): string {
  if (typeof v === "string") return v;
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "boolean") return v ? "1" : "0";
  if (v === null || v === undefined) return "null";
  if (isParamValue(v)) return `:${v.param}`;
  return v.expression;
}

function valueKey(v: FilterValue | undefined): string {
  if (isParamValue(v)) return `p:${v.param}`;
  if (isExpressionValue(v)) return `e:${v.expression}`;
  return `s:${valueText(v)}`;
}

function comparisonKey(c: ComparisonNode): string {
  let op = c.op;
  let negated = c.negated;
  if (op === "in" && negated) [op, negated] = ["not in", false];
  if (op === "contains" || op === "starts with" || op === "ends with") {
    const t = valueText(c.value);
    const pattern = op === "contains" ? `%${t}%` : op === "starts with" ? `${t}%` : `%${t}`;
    return JSON.stringify([c.field, "like", negated, `s:${pattern}`]);
  }
  const value = c.values
    ? c.values.map(valueKey)
    : op === "is null" || op === "is not null"
    ? null
    : valueKey(c.value);
  return JSON.stringify([c.field, op, negated, value]);
}

/**
 * A canonical key for what a tree means to DreamFactory: `NOT` pushed down where possible,
 * AND/OR chains flattened, literals reduced to the text DreamFactory reads, `contains` & co. as
 * the LIKE pattern they become. Equal keys mean the same SQL condition.
 */
export function meaningKey(node: FilterNode): string {
  let n: FilterNode;
  try {
    n = pushNotDown(node);
  } catch {
    n = node;
  }
  return key(n);
}

function key(n: FilterNode): string {
  switch (n.type) {
    case "comparison":
      return comparisonKey(n);
    case "not":
      return `NOT(${key(n.child)})`;
    default: {
      const parts: string[] = [];
      const collect = (c: FilterNode) => {
        if ((n.type === "and" || n.type === "or") && c.type === n.type) c.children.forEach(collect);
        else parts.push(key(c));
      };
      n.children.forEach(collect);
      return parts.length === 1 ? parts[0] : `${n.type.toUpperCase()}[${parts.join(",")}]`;
    }
  }
}
