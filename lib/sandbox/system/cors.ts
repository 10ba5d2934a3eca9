/**
 * `system/cors`: CORS rules. `method` is written as an array of verbs (CorsConfig's
 * setMethodAttribute turns it into a verb mask) or stored as given, and read back as an array of
 * verbs; the router applies enabled rules to cross-origin requests.
 *
 * @module
 */
import { DfError } from "../http.ts";
import type { Rec, ResourceDescriptor, Row } from "../records.ts";
import { table } from "../tables.ts";
import { VERBS } from "../../resources.ts";

/** df-core's VerbsMask, in its order. */
const VERB_MASKS: [string, number][] = Object.entries(VERBS);

/** PHP's `(integer)` cast of a string: its leading number, else 0. */
function phpInt(s: string): number {
  const m = /^[ \t\n\r\v\f]*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)/.exec(s);
  return m ? Math.trunc(Number(m[1])) || 0 : 0;
}

/**
 * Verbs of a stored `method`, as CorsConfig::getMethodAttribute reads it: a string is cast to
 * an integer first (so a verb list stored raw reads back as `[]`), then VerbsMask::maskToArray.
 */
export function maskToVerbs(stored: unknown): string[] {
  const mask = typeof stored === "string" ? phpInt(stored) : stored;
  if (typeof mask !== "number" || !Number.isInteger(mask) || mask === 0) return [];
  return VERB_MASKS.filter(([, bit]) => (mask & bit) !== 0).map(([verb]) => verb);
}

/** VerbsMask::toNumeric of one verb of an array. */
function verbBit(v: unknown): number {
  if (typeof v !== "string") {
    const shown = v === null || v === false ? "" : v === true ? "1" : String(v);
    throw new DfError(500, `The verb "${shown}" is not a string.`);
  }
  const bit = VERB_MASKS.find(([verb]) => verb === v.toUpperCase())?.[1];
  if (bit === undefined) throw new DfError(501, `The verb "${v.toUpperCase()}" is not supported.`);
  return bit;
}

function convert(rec: Rec): Rec {
  // CorsConfig::setMethodAttribute: an array (a JSON list or object) becomes a mask; anything
  // else, a string like "GET,POST" included, is stored as given.
  const m = rec.method;
  if (m !== null && typeof m === "object") {
    rec.method = Object.values(m as Rec).reduce((mask: number, v) => mask | verbBit(v), 0);
  }
  for (const k of ["header", "exposed_header"]) {
    if (Array.isArray(rec[k])) rec[k] = (rec[k] as unknown[]).join(",");
  }
  return rec;
}

/** The descriptor of `system/cors`. */
export const corsDescriptor: ResourceDescriptor = {
  name: "cors",
  table: table("cors_config"),
  required: ["path", "origin"],
  requiredOnUpdate: true,
  // CorsConfig::$validationMessages: ['required' => 'The :attribute is required.'].
  requiredMessage: (attribute) => `The ${attribute} is required.`,
  present(row: Row, out: Rec) {
    if ("method" in out) out.method = maskToVerbs(row.method);
  },
  beforeCreate: convert,
  beforeUpdate: convert,
};
