/**
 * `system/email_template`: email templates; `to`/`cc`/`bcc` accept arrays or comma strings.
 *
 * @module
 */
import type { Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";

function convert(rec: Rec): Rec {
  for (const k of ["to", "cc", "bcc"]) {
    if (typeof rec[k] === "string") {
      rec[k] = (rec[k] as string).split(",").map((s) => s.trim()).filter(Boolean);
    }
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
