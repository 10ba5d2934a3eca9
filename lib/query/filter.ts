/**
 * The builder's use of the shared filter module: every filter is parsed and printed in the form
 * DreamFactory parses before it is sent, so mistakes throw `FilterSyntaxError` locally.
 *
 * @module
 */
import { type Filter, isFilter, normalizeFilter, whereClause } from "../filter/mod.ts";

/** A filter: DreamFactory syntax as a string, or a `Filter` from `` f`...` `` / `whereClause`. */
export type FilterInput = string | Filter;

// Parsing is pure and scripts rebuild the same filters in loops: remember recent results.
const CACHE_SIZE = 500;
const cache = new Map<string, string>();

function normalizeCached(text: string): string {
  const hit = cache.get(text);
  if (hit !== undefined) return hit;
  const out = normalizeFilter(text); // throws FilterSyntaxError: failures are not cached
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
  cache.set(text, out);
  return out;
}

/** The canonical text of a filter (throws `FilterSyntaxError` on mistakes). */
export function toFilterString(input: FilterInput): string {
  if (typeof input !== "string" && !isFilter(input)) {
    throw new TypeError(
      `.filter(): expected a filter string or f\`...\`, got ${JSON.stringify(input)}`,
    );
  }
  return isFilter(input) ? input.toString() : normalizeCached(input);
}

/** Two canonical filters combined with AND. */
export function andFilters(a: string, b: string): string {
  return normalizeCached(`(${a}) and (${b})`);
}

/** One comparison with a safely quoted value. */
export function whereFilter(field: string, op: string, value?: unknown): FilterInput {
  return whereClause(field, op, value);
}
