/**
 * `system/cors`: CORS rules. `method` is written as an array of verbs or a verb mask and read
 * back as an array of verbs; the router applies enabled rules to cross-origin requests.
 *
 * @module
 */
import type { Rec, ResourceDescriptor, Row } from "../records.ts";
import { VERB_BITS } from "../rbac.ts";
import { table } from "../tables.ts";

/** Verbs of a mask, in DreamFactory's order. */
export function maskToVerbs(mask: number): string[] {
  return ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((v) => (mask & VERB_BITS[v]) !== 0);
}

function toMask(v: unknown): number {
  if (Array.isArray(v)) return v.reduce((m, x) => m | (VERB_BITS[String(x).toUpperCase()] ?? 0), 0);
  if (typeof v === "string") return toMask(v.split(","));
  return Number(v) || 0;
}

function convert(rec: Rec): Rec {
  if ("method" in rec) rec.method = toMask(rec.method);
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
    if ("method" in out) out.method = maskToVerbs(Number(row.method));
  },
  beforeCreate: convert,
  beforeUpdate: convert,
};
