/**
 * `system/event_script`: event scripts keyed by event name. `POST /system/event_script/{name}`
 * upserts (201 created, 200 updated). The sandbox stores scripts but does not run them.
 *
 * @module
 */
import { DfError, json } from "../http.ts";
import type { Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";

const TYPES = ["nodejs", "python", "python3", "php"];

function checkType(rec: Rec) {
  if (rec.type !== undefined && !TYPES.includes(String(rec.type))) {
    throw new DfError(400, `Invalid data supplied. The selected type is invalid.`, {
      context: { type: ["The selected type is invalid."] },
    });
  }
  return rec;
}

/** The descriptor of `system/event_script`. */
export const eventScriptDescriptor: ResourceDescriptor = {
  name: "event_script",
  table: table("event_script"),
  required: ["name", "type"],
  beforeCreate: checkType,
  beforeUpdate: (rec) => checkType(rec),
  intercept(engine, ctx, method, id, payload) {
    if (method !== "POST" || id === undefined) return null;
    const body = payload && typeof payload === "object" && !Array.isArray(payload)
      ? payload as Rec
      : {};
    const exists = engine.find(ctx.db, id);
    const row = exists
      ? engine.updateOne(ctx, id, body)
      : engine.createOne(ctx, { ...body, name: id });
    return json(engine.view(ctx, [row], null, [])[0], exists ? 200 : 201);
  },
};
