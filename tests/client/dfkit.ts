/**
 * The client's public API as the tests use it: the same entry files mod.ts re-exports (client,
 * errors, display, filter), without the other areas mod.ts also pulls in.
 */
export * from "../../lib/client.ts";
export * from "../../lib/errors.ts";
export * from "../../lib/display.ts";
export { f, FilterSyntaxError } from "../../lib/filter/mod.ts";
