/**
 * `system/custom`: free-form settings keyed by name; `GET /system/custom/{name}` answers the
 * value itself rather than a record.
 *
 * @module
 */
import { DfError, json } from "../http.ts";
import type { ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";

/** The descriptor of `system/custom`. */
export const customDescriptor: ResourceDescriptor = {
  name: "custom",
  table: table("system_custom"),
  // SystemCustom/BaseCustomModel have no $rules: a missing name is the NOT NULL error.
  intercept(engine, ctx, method, id) {
    if (method !== "GET" || id === undefined) return null;
    const row = engine.find(ctx.db, id);
    if (!row) throw new DfError(404, `Record with identifier '${id}' not found.`);
    try {
      return json(JSON.parse(String(row.value)));
    } catch {
      return json(row.value);
    }
  },
};
