/**
 * Automatic timestamps on write: df-sqldb's Table::getCurrentTimestamp is SqliteSchema's
 * getTimestampForSet, `raw("datetime('now')")`, so the value is written by SQLite inside the
 * statement (not bound) and a failing statement's message shows `datetime('now')`.
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;
const STAMP = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/;

Deno.test("timestamp_on_create/_update: inlined as datetime('now') in the SQL DreamFactory shows", async () => {
  const sb = await sandbox();
  try {
    const made = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "stamped",
        field: [
          { name: "id", type: "id" },
          { name: "code", type: "string", is_unique: true },
          { name: "made", type: "timestamp_on_create" },
          { name: "changed", type: "timestamp_on_update" },
        ],
      }],
    });
    assert.equal(made.status, 200, JSON.stringify(made.body));
    const first = await sb.call("POST", "db/_table/stamped?fields=*", {
      resource: [{ code: "a" }],
    });
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const row = (first.body as { resource: Rec[] }).resource[0];
    // Stored as before: SQLite's UTC "Y-m-d H:i:s".
    assert.match(String(row.made), STAMP);
    assert.match(String(row.changed), STAMP);

    const dup = await sb.call("POST", "db/_table/stamped", { resource: [{ code: "a" }] });
    assert.equal(dup.status, 400, JSON.stringify(dup.body));
    const insertMsg = JSON.stringify(dup.body);
    assert.ok(
      insertMsg.includes(
        "insert into &quot;stamped&quot; (&quot;code&quot;, &quot;made&quot;, &quot;changed&quot;) " +
          "values (a, datetime('now'), datetime('now'))",
      ),
      insertMsg,
    );

    await sb.call("POST", "db/_table/stamped", { resource: [{ code: "b" }] });
    const clash = await sb.call("PATCH", "db/_table/stamped/2", { code: "a" });
    assert.equal(clash.status, 500, JSON.stringify(clash.body));
    const updateMsg = JSON.stringify(clash.body);
    assert.ok(
      updateMsg.includes(
        "set &quot;code&quot; = a, &quot;changed&quot; = datetime('now') where rowid = 2",
      ),
      updateMsg,
    );
  } finally {
    await sb.close();
  }
});
