/**
 * Printing JSON-like values as TypeScript literals, with holes for expressions (variables,
 * environment lookups) that must not be quoted.
 *
 * @module
 */

/** A piece of code placed verbatim where a value would go. */
export class Expr {
  /** Creates an expression. */
  constructor(readonly code: string) {}
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JavaScript string literal (double quotes, JSON escapes). */
export function str(s: string): string {
  return JSON.stringify(s);
}

/**
 * Text safe inside a `//` comment: line terminators (which would end the comment and let the
 * rest run as code) and other control characters are shown as `\uXXXX` escapes.
 */
export function commentText(s: string): string {
  return s.replace(
    // deno-lint-ignore no-control-regex
    /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g,
    (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** A valid identifier made of `text`'s letters and digits (`fallback` when none are left). */
export function identifier(text: string, fallback = "result"): string {
  const name = text.replace(/[^A-Za-z0-9]+([A-Za-z0-9])/g, (_, c) => c.toUpperCase())
    .replace(/[^A-Za-z0-9]/g, "");
  return IDENT.test(name) ? name : /^\d/.test(name) ? `r${name}` : fallback;
}

/**
 * Prints a value as a TypeScript literal; arrays and objects that do not fit in `width` columns
 * (counted from `indent`) are broken one item per line, the way `deno fmt` would.
 */
export function literal(value: unknown, indent = 0, width = 100): string {
  const flat = flatLiteral(value);
  if (flat.length + indent <= width) return flat;
  const pad = "  ".repeat(indent / 2 + 1);
  const end = "  ".repeat(indent / 2);
  if (Array.isArray(value)) {
    return `[\n${value.map((v) => pad + literal(v, indent + 2) + ",\n").join("")}${end}]`;
  }
  if (value && typeof value === "object" && !(value instanceof Expr)) {
    const lines = Object.entries(value).map(([k, v]) => {
      const key = IDENT.test(k) ? k : str(k);
      return `${pad}${key}: ${literal(v, indent + 2, 100 - key.length - 3)},\n`;
    });
    return `{\n${lines.join("")}${end}}`;
  }
  return flat;
}

function flatLiteral(value: unknown): string {
  if (value instanceof Expr) return value.code;
  if (value === undefined) return "undefined";
  if (Array.isArray(value)) return `[${value.map(flatLiteral).join(", ")}]`;
  if (value && typeof value === "object") {
    const parts = Object.entries(value).map(([k, v]) =>
      `${IDENT.test(k) ? k : str(k)}: ${flatLiteral(v)}`
    );
    return parts.length ? `{ ${parts.join(", ")} }` : "{}";
  }
  return JSON.stringify(value);
}
