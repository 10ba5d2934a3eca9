/**
 * `system/event_script`: event scripts keyed by event name. `POST /system/event_script/{name}`
 * upserts (201 created, 200 updated). The sandbox stores scripts but does not run them.
 *
 * @module
 */
import { DfError, json, NO_RECORDS_MESSAGE } from "../http.ts";
import type { Rec, ResourceDescriptor } from "../records.ts";
import { table } from "../tables.ts";

/** The descriptor of `system/event_script`. */
export const eventScriptDescriptor: ResourceDescriptor = {
  name: "event_script",
  table: table("event_script"),
  // df-script's EventScript model has no $rules: a missing name or type is the table's NOT NULL
  // error, and any type name is stored.
  intercept(engine, ctx, method, id, payload) {
    if (method !== "POST" || id === undefined) return null;
    // df-script Resources/System/EventScript::handlePOST: the body is the record as sent.
    const empty = payload === null || payload === undefined || payload === "" ||
      (typeof payload === "object" && Object.keys(payload as object).length === 0);
    if (empty) throw new DfError(400, NO_RECORDS_MESSAGE);
    const record = typeof payload === "object" && !Array.isArray(payload) ? payload as Rec : {};
    if (!engine.find(ctx.db, id)) {
      // bulkCreate([$record]): the URL's name is not added, so the record names itself.
      const row = engine.createOne(ctx, record);
      return json(engine.writeView(ctx, row), 201);
    }
    // updateById: the key is the URL's (the record's own name is dropped).
    const { name: _name, ...changes } = record;
    const row = engine.updateOne(ctx, id, changes);
    return json(engine.writeView(ctx, row), 200);
  },
};
