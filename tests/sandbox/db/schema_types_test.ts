/**
 * `_schema` field types as DreamFactory 7 builds and reads them on SQLite: df-database
 * Schema::getColumnType (no type whitelist; SqliteSchema::translateSimpleColumnTypes and
 * validateColumnSettings only massage the names they know) and Schema::extractType on read-back.
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

Deno.test("_schema: an unknown type is declared as named and reads back as string", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "odd",
        field: [
          { name: "id", type: "id" },
          { name: "f", type: "foo", allow_null: true },
          { name: "n", type: "nvarchar", length: 20, allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const f = (await sb.call("GET", "db/_schema/odd/_field/f")).body as Rec;
    assert.equal(f.type, "string");
    assert.equal(f.db_type, "foo");
    assert.equal(f.length, null);
    assert.equal(f.fixed_length, false);
    const n = (await sb.call("GET", "db/_schema/odd/_field/n")).body as Rec;
    assert.deepEqual([n.type, n.db_type, n.length], ["string", "nvarchar(20)", 20]);
    // A number stored under the numeric affinity of "foo" is answered as text (strval).
    const w = await sb.call("POST", "db/_table/odd?fields=*", { resource: [{ f: 12, n: "x" }] });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    assert.deepEqual((w.body as { resource: Rec[] }).resource[0], { id: 1, f: "12", n: "x" });
    const g = await sb.call("GET", "db/_table/odd/1");
    assert.deepEqual(g.body, { id: 1, f: "12", n: "x" });
  } finally {
    await sb.close();
  }
});

Deno.test("_schema errors: plain \\Exceptions are short 500s, code 0 inside a multi-table batch", async () => {
  const sb = await sandbox();
  try {
    // Schema::getColumnType: a field with neither type nor db_type.
    const noType = await sb.call("POST", "db/_schema", {
      resource: [{ name: "t1", field: [{ name: "a" }] }],
    });
    assert.equal(noType.status, 500);
    assert.deepEqual(noType.body, {
      error: { code: 500, message: "Invalid schema detected - no type or db_type element." },
    });
    // Schema::createTable: a table without fields.
    const noFields = await sb.call("POST", "db/_schema", { resource: [{ name: "t2" }] });
    assert.equal(noFields.status, 500);
    assert.deepEqual(noFields.body, {
      error: { code: 500, message: "No valid fields exist in the received table schema." },
    });
    // updateSchema: per-table errors carry $ex->getCode() and the batch goes on.
    const batch = await sb.call("POST", "db/_schema", {
      resource: [
        { name: "t3", field: [{ name: "a" }] },
        { name: "t4", field: [] },
        { name: "t5", field: [{ name: "id", type: "id" }] },
      ],
    });
    assert.equal(batch.status, 200, JSON.stringify(batch.body));
    assert.deepEqual(batch.body, {
      resource: [
        { error: { message: "Invalid schema detected - no type or db_type element.", code: 0 } },
        { error: { message: "No valid fields exist in the received table schema.", code: 0 } },
        { name: "t5" },
      ],
    });
    const names = (await sb.call("GET", "db/_schema?as_list=true")).body;
    assert.deepEqual(names, { resource: ["t5"] });
  } finally {
    await sb.close();
  }
});

Deno.test("_schema strings: char without a length stays plain, supports_multibyte gives nchar/nvarchar", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "s",
        field: [
          { name: "id", type: "id" },
          { name: "c", type: "string", fixed_length: true, allow_null: true },
          { name: "c8", type: "string", fixed_length: true, length: 8, allow_null: true },
          { name: "nc", type: "string", fixed_length: true, supports_multibyte: true, length: 4 },
          { name: "nv", type: "string", supports_multibyte: true, allow_null: true },
          { name: "v", type: "string", allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fields = ((await sb.call("GET", "db/_schema/s")).body as { field: Rec[] }).field;
    const pick = (
      f: Rec,
    ) => [f.name, f.type, f.db_type, f.length, f.fixed_length, f.supports_multibyte];
    assert.deepEqual(fields.slice(1).map(pick), [
      ["c", "string", "char", null, true, false],
      ["c8", "string", "char(8)", 8, true, false],
      ["nc", "string", "nchar(4)", 4, true, true],
      ["nv", "string", "nvarchar(255)", 255, false, true],
      ["v", "string", "varchar(255)", 255, false, false],
    ]);
  } finally {
    await sb.close();
  }
});

Deno.test("_schema relations: a unique or primary-key foreign key still gives has_many (never has_one on SQLite)", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        { name: "person", field: [{ name: "id", type: "id" }, { name: "name", type: "string" }] },
        {
          name: "passport",
          field: [
            { name: "id", type: "id" },
            {
              name: "person_id",
              type: "reference",
              ref_table: "person",
              ref_field: "id",
              is_unique: true,
            },
            { name: "no", type: "string" },
          ],
        },
        {
          name: "bio",
          field: [
            {
              name: "person_id",
              type: "reference",
              ref_table: "person",
              ref_field: "id",
              is_primary_key: true,
            },
            { name: "text", type: "string" },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const person = (await sb.call("GET", "db/_schema/person")).body as { related: Rec[] };
    assert.deepEqual(person.related.map((x) => [x.name, x.type]), [
      ["bio_by_person_id", "has_many"],
      ["passport_by_person_id", "has_many"],
    ]);
    // Records: the related children are written and read as has_many lists.
    const w = await sb.call("POST", "db/_table/person?related=*", {
      resource: [{
        name: "Ann",
        passport_by_person_id: [{ no: "P1" }],
        bio_by_person_id: [{ text: "hello" }],
      }],
    });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const g = await sb.call("GET", "db/_table/person/1?related=*");
    assert.deepEqual(g.body, {
      id: 1,
      name: "Ann",
      bio_by_person_id: [{ person_id: 1, text: "hello" }],
      passport_by_person_id: [{ id: 1, person_id: 1, no: "P1" }],
    });
  } finally {
    await sb.close();
  }
});

Deno.test("_schema read-back: types DreamFactory does not keep as extras come back from the declared type", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "kinds",
        field: [
          { name: "id", type: "id" },
          { name: "m", type: "money", allow_null: true },
          { name: "mt", type: "mediumtext", allow_null: true },
          { name: "ti", type: "tinyint", allow_null: true },
          { name: "flag", type: "tinyint", length: 1, allow_null: true },
          { name: "si", type: "smallint", length: 6, allow_null: true },
          { name: "ts", type: "timestamptz", allow_null: true },
          { name: "fl", type: "float", length: 53, allow_null: true },
          { name: "made", type: "timestamp_on_create" },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const fields = ((await sb.call("GET", "db/_schema/kinds")).body as { field: Rec[] }).field;
    const pick = (f: Rec) => [f.name, f.type, f.db_type, f.length, f.precision, f.scale];
    assert.deepEqual(fields.slice(1).map(pick), [
      ["m", "decimal", "decimal(19,4)", 19, 19, 4],
      ["mt", "text", "mediumtext", null, null, null],
      ["ti", "integer", "tinyint", null, null, null],
      ["flag", "boolean", "tinyint(1)", 1, null, null],
      ["si", "integer", "smallint(6)", 6, null, null],
      ["ts", "timestamp", "timestamptz", null, null, null],
      ["fl", "double", "float(53)", 53, null, null],
      // timestamp_on_create is undiscoverable: kept as an extra (isUndiscoverableType).
      ["made", "timestamp_on_create", "timestamp", null, null, null],
    ]);
    // Values follow the read-back types: decimal floatval, boolean, integer cast, timestamp.
    const w = await sb.call("POST", "db/_table/kinds?fields=*", {
      resource: [{
        m: "12.5",
        mt: "long",
        ti: "7",
        flag: "yes",
        si: 3,
        ts: "2024-01-02T03:04:05Z",
      }],
    });
    assert.equal(w.status, 200, JSON.stringify(w.body));
    const rec = (w.body as { resource: Rec[] }).resource[0];
    assert.deepEqual(
      [rec.m, rec.mt, rec.ti, rec.flag, rec.si, rec.ts],
      [12.5, "long", 7, true, 3, "2024-01-02 03:04:05"],
    );
    const bad = await sb.call("POST", "db/_table/kinds", { resource: [{ ti: "abc" }] });
    assert.equal(bad.status, 400, JSON.stringify(bad.body));
  } finally {
    await sb.close();
  }
});

Deno.test("_schema: a data file's side-table types that DF reads from the declared type no longer win", async () => {
  const dir = await Deno.makeTempDir();
  const data = `${dir}/sandbox.sqlite`;
  try {
    const fields = [
      { name: "id", type: "id" },
      { name: "mo", type: "money", allow_null: true },
      { name: "mt", type: "mediumtext", allow_null: true },
      { name: "lt", type: "longtext", allow_null: true },
      { name: "ts", type: "timestamptz", allow_null: true },
      { name: "dt", type: "datetimetz", allow_null: true },
      { name: "tt", type: "timetz", allow_null: true },
      { name: "js", type: "json", allow_null: true },
    ];
    const read = async () => {
      const sb = await sandbox({ data });
      try {
        const t = await sb.call("GET", "db/_schema/m");
        if (t.status === 404) {
          const r = await sb.call("POST", "db/_schema", {
            resource: [{ name: "m", field: fields }],
          });
          assert.equal(r.status, 200, JSON.stringify(r.body));
          await sb.call("POST", "db/_table/m", { resource: [{ mo: 12.5, js: { a: 1 } }] });
        }
        const f = ((await sb.call("GET", "db/_schema/m")).body as Rec).field as Rec[];
        const rows = ((await sb.call("GET", "db/_table/m")).body as Rec).resource as Rec[];
        return { types: Object.fromEntries(f.map((x) => [x.name, x.type])), row: rows[0] };
      } finally {
        await sb.close();
      }
    };
    const fresh = await read();
    assert.deepEqual(fresh.types, {
      id: "id",
      mo: "decimal",
      mt: "text",
      lt: "text",
      ts: "timestamp",
      dt: "datetime",
      tt: "time",
      js: "json",
    });
    // What a sandbox from before the read-back change kept in the side table.
    const { DatabaseSync } = await import("node:sqlite");
    const db = new DatabaseSync(`${data}.services/db.sqlite`);
    try {
      const put = db.prepare(
        `INSERT INTO "_dfkit_meta" (tbl, fld, data) VALUES ('m', ?, ?) ON CONFLICT (tbl, fld) DO UPDATE SET data = excluded.data`,
      );
      const old = { mo: "money", mt: "mediumtext", lt: "longtext", ts: "timestamptz" };
      for (const [fld, type] of Object.entries({ ...old, dt: "datetimetz", tt: "timetz" })) {
        put.run(fld, JSON.stringify({ type }));
      }
    } finally {
      db.close();
    }
    const old = await read();
    assert.deepEqual(old.types, fresh.types);
    assert.deepEqual(old.row, fresh.row);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
