/**
 * `system/email_template`: email templates; `to`/`cc`/`bcc`/`attachment` accept arrays or
 * comma strings.
 *
 * @module
 */
import type { Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";

/**
 * EmailTemplate::getJSONIfArray (the setters of to, cc, bcc and attachment): a string with a
 * comma is exploded, an array's strings are trimmed (empty items kept) and stored as JSON; any
 * other value is stored as given, so a single address reads back as a string, not a list
 * (getArrayIfJSON only decodes what is JSON).
 */
function convert(rec: Rec): Rec {
  for (const k of ["to", "cc", "bcc", "attachment"]) {
    let value = rec[k];
    if (typeof value === "string" && value.includes(",")) value = value.split(",");
    if (Array.isArray(value)) value = value.map((v) => (typeof v === "string" ? v.trim() : v));
    if (k in rec) rec[k] = value;
  }
  delete rec.defaults;
  return rec;
}

/** The descriptor of `system/email_template`. */
export const emailTemplateDescriptor: ResourceDescriptor = {
  name: "email_template",
  table: table("email_template"),
  required: ["name"],
  requiredOnUpdate: true,
  // EmailTemplate::getErrors() rewrites the name message (without a final period).
  requiredMessage: (attribute) =>
    attribute === "name"
      ? "The Template Name field is required"
      : `The ${attribute} field is required.`,
  beforeCreate: convert,
  beforeUpdate: convert,
};
