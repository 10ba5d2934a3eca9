/**
 * Field definitions `_schema` refuses or builds as DreamFactory 7 does on SQLite:
 * DbSchemaResource::cleanClientField and buildTableField (plain \Exceptions, short 500s),
 * SqliteSchema::buildColumnDefinition (`REFERENCES table(ref_field)` written inline, NOT NULL by
 * default for every type) and updateSchema's check_exist refusal.
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;
const short = (message: string) => ({ error: { code: 500, message } });

Deno.test("_schema fields: no name and a reference without ref_table are short 500s, in DreamFactory's order", async () => {
  const sb = await sandbox();
  try {
    const create = (field: unknown[]) =>
      sb.call("POST", "db/_schema", { resource: [{ name: "t", field }] });
    // cleanClientField: empty($name).
    const noName = await create([{ name: "id", type: "id" }, { type: "string" }]);
    assert.equal(noName.status, 500);
    assert.deepEqual(noName.body, short("Invalid schema detected - no name element."));
    const blank = await create([{ name: "", type: "string" }]);
    assert.deepEqual(blank.body, short("Invalid schema detected - no name element."));
    // buildTableField: a reference (type reference/fk, or is_foreign_key) needs ref_table.
    const noTable = await create([{ name: "id", type: "id" }, { name: "r", type: "reference" }]);
    assert.equal(noTable.status, 500);
    assert.deepEqual(
      noTable.body,
      short("Invalid schema detected - no table element for reference type of r."),
    );
    const fkFlag = await create([{ name: "k", type: "integer", is_foreign_key: true }]);
    assert.deepEqual(
      fkFlag.body,
      short("Invalid schema detected - no table element for reference type of k."),
    );
    // Both run per field before Schema::getColumnType looks at types: the reference error of the
    // second field wins over the missing type of the first.
    const order = await create([{ name: "a" }, { name: "r", type: "fk" }]);
    assert.deepEqual(
      order.body,
      short("Invalid schema detected - no table element for reference type of r."),
    );
    assert.deepEqual((await sb.call("GET", "db/_schema")).body, { resource: [] });
    // Adding fields to an existing table goes through the same checks.
    await create([{ name: "id", type: "id" }]);
    const add = await sb.call("PATCH", "db/_schema", {
      resource: [{ name: "t", field: [{ type: "string", allow_null: true }] }],
    });
    assert.deepEqual(add.body, short("Invalid schema detected - no name element."));
  } finally {
    await sb.close();
  }
});

Deno.test("_schema check_exist on an existing table: updateSchema's plain \\Exception (short 500, code 0 in a batch)", async () => {
  const sb = await sandbox();
  try {
    const def = { name: "t", field: [{ name: "id", type: "id" }] };
    assert.equal((await sb.call("POST", "db/_schema", { resource: [def] })).status, 200);
    const again = await sb.call("POST", "db/_schema?check_exist=true", { resource: [def] });
    assert.equal(again.status, 500);
    assert.deepEqual(again.body, short("A table with name 't' already exist in the database."));
    const batch = await sb.call("POST", "db/_schema?check_exist=true", {
      resource: [def, { name: "u", field: [{ name: "id", type: "id" }] }],
    });
    assert.equal(batch.status, 200);
    assert.deepEqual(batch.body, {
      resource: [
        { error: { message: "A table with name 't' already exist in the database.", code: 0 } },
        { name: "u" },
      ],
    });
  } finally {
    await sb.close();
  }
});

Deno.test("_schema references: no ref_field guess (SQLite's syntax error), a missing ref_table accepted", async () => {
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{ name: "parent", field: [{ name: "id", type: "id" }] }],
    });
    // buildColumnDefinition writes "REFERENCES parent()": SQLite refuses the statement.
    const noField = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "child",
        field: [{ name: "id", type: "id" }, {
          name: "parent_id",
          type: "reference",
          ref_table: "parent",
        }],
      }],
    });
    assert.equal(noField.status, 500, JSON.stringify(noField.body));
    const err = (noField.body as { error: Rec }).error;
    assert.deepEqual(Object.keys(err), ["code", "message"]);
    assert.equal(err.code, "HY000");
    assert.ok(
      String(err.message).startsWith(
        "SQLSTATE[HY000]: General error: 1 near &quot;)&quot;: syntax error (SQL: CREATE TABLE ",
      ),
      String(err.message),
    );
    assert.deepEqual((await sb.call("GET", "db/_schema?as_list=true")).body, {
      resource: ["parent"],
    });
    // DreamFactory does not check ref_table; SQLite accepts a reference to a missing table.
    const missing = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "orphan",
        field: [{ name: "id", type: "id" }, {
          name: "ghost_id",
          type: "reference",
          ref_table: "ghost",
          ref_field: "id",
          allow_null: true,
        }],
      }],
    });
    assert.equal(missing.status, 200, JSON.stringify(missing.body));
    assert.deepEqual(missing.body, { resource: [{ name: "orphan" }] });
    const f = (await sb.call("GET", "db/_schema/orphan/_field/ghost_id")).body as Rec;
    assert.deepEqual([f.is_foreign_key, f.ref_table, f.ref_field], [true, "ghost", "id"]);
    // With foreign keys on, SQLite refuses writes to the table until the parent exists.
    const row = await sb.call("POST", "db/_table/orphan", { resource: [{ ghost_id: null }] });
    assert.equal(row.status, 400);
    assert.ok(JSON.stringify(row.body).includes("no such table: main.ghost"));
  } finally {
    await sb.close();
  }
});

Deno.test("_schema user_id types: NOT NULL by default like every type (required unless allow_null)", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "owned",
        field: [
          { name: "id", type: "id" },
          { name: "title", type: "string", allow_null: true },
          { name: "owner", type: "user_id" },
          { name: "creator", type: "user_id_on_create" },
          { name: "editor", type: "user_id_on_update" },
          { name: "maybe", type: "user_id", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fields = ((await sb.call("GET", "db/_schema/owned")).body as { field: Rec[] }).field;
    const pick = (f: Rec) => [f.name, f.type, f.db_type, f.allow_null, f.required];
    assert.deepEqual(fields.slice(2).map(pick), [
      ["owner", "user_id", "integer", false, true],
      // ColumnSchema::getRequired looks at allowNull/default/autoIncrement only (as for
      // timestamp_on_create, transcript 132): filled on write, yet required.
      ["creator", "user_id_on_create", "integer", false, true],
      ["editor", "user_id_on_update", "integer", false, true],
      ["maybe", "user_id", "integer", true, false],
    ]);
    // parseRecord fills the *_on_create/_on_update columns; a plain user_id is the client's.
    const missing = await sb.call("POST", "db/_table/owned", { resource: [{ title: "x" }] });
    assert.equal(missing.status, 400);
    assert.equal(
      JSON.stringify(missing.body).includes("Required field 'owner' can not be NULL."),
      true,
      JSON.stringify(missing.body),
    );
    const ok = await sb.call("POST", "db/_table/owned?fields=*", {
      resource: [{ title: "x", owner: 7 }],
    });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const row = (ok.body as { resource: Rec[] }).resource[0];
    assert.deepEqual([row.owner, typeof row.creator, row.creator === row.editor], [
      7,
      "number",
      true,
    ]);
  } finally {
    await sb.close();
  }
});

Deno.test("_schema at the root takes `resource` or a list: a bare table object is no definition (unwrapResources)", async () => {
  const sb = await sandbox();
  try {
    const def = { name: "t", field: [{ name: "id", type: "id" }] };
    for (const [method, verb] of [["POST", "create"], ["PATCH", "update"], ["PUT", "update"]]) {
      for (const body of [def, { table: [def] }]) {
        const res = await sb.call(method, "db/_schema", body);
        assert.equal(res.status, 400, `${method} ${JSON.stringify(body)}`);
        assert.equal(
          (res.body as { error: Rec }).error.message,
          `No data in schema ${verb} request.`,
        );
      }
    }
    assert.deepEqual((await sb.call("GET", "db/_schema")).body, { resource: [] });
    // The wrapped form and a bare list both create.
    assert.equal((await sb.call("POST", "db/_schema", { resource: [def] })).status, 200);
    const list = await sb.call("POST", "db/_schema", [{ ...def, name: "u" }]);
    assert.equal(list.status, 200);
    assert.deepEqual(list.body, { resource: [{ name: "u" }] });
  } finally {
    await sb.close();
  }
});
