/**
 * `GET _schema/{table}` descriptors checked against DreamFactory 7's SQLite describer
 * (df-sqldb SqliteSchema, df-database's table describer) and transcript
 * 09-get-user-schema-related.txt (the system `user` table, read by the same code).
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

async function withTables(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        { name: "contact", field: [{ name: "id", type: "id" }, { name: "name", type: "string" }] },
        {
          name: "note",
          field: [
            { name: "id", type: "id" },
            {
              name: "contact_id",
              type: "reference",
              ref_table: "contact",
              ref_field: "id",
              ref_on_delete: "CASCADE",
            },
            { name: "code", type: "string", is_unique: true, allow_null: true },
            { name: "rank", type: "integer", is_index: true, allow_null: true },
          ],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

Deno.test("_schema/{table} constraints: SqliteSchema::getTableConstraints' indexes and foreign keys", async () => {
  await withTables(async (sb) => {
    const contact = (await sb.call("GET", "db/_schema/contact")).body as Rec;
    assert.deepEqual(contact.constraints, []);
    const note = (await sb.call("GET", "db/_schema/note")).body as Rec;
    assert.deepEqual(note.constraints, {
      ndx_note_rank: {
        table_schema: "",
        table_name: "note",
        column_name: ["rank"],
        constraint_name: "ndx_note_rank",
        constraint_type: "c",
      },
      undx_note_code: {
        table_schema: "",
        table_name: "note",
        column_name: ["code"],
        constraint_name: "undx_note_code",
        constraint_type: "c",
      },
      sqlite_autoindex_note_1: {
        table_schema: "",
        table_name: "note",
        column_name: ["code"],
        constraint_name: "sqlite_autoindex_note_1",
        constraint_type: "u",
      },
      fk_note_contact_id: {
        table_schema: "",
        table_name: "note",
        column_name: "contact_id",
        constraint_name: "fk_note_contact_id",
        constraint_type: "f",
        referenced_table_schema: "",
        referenced_table_name: "contact",
        referenced_column_name: "id",
        update_rule: "NO ACTION",
        delete_rule: "CASCADE",
      },
    });
  });
});

Deno.test("_schema fields: is_unique from inline UNIQUE only, is_index never, no ref rules on the field", async () => {
  await withTables(async (sb) => {
    const note = (await sb.call("GET", "db/_schema/note")).body as { field: Rec[]; related: Rec[] };
    const pick = (name: string, keys: string[]) => {
      const f = note.field.find((x) => x.name === name)!;
      return Object.fromEntries(keys.map((k) => [k, f[k]]));
    };
    const keys = ["is_unique", "is_index", "is_foreign_key", "ref_on_update", "ref_on_delete"];
    assert.deepEqual(pick("code", keys), {
      is_unique: true,
      is_index: false,
      is_foreign_key: false,
      ref_on_update: null,
      ref_on_delete: null,
    });
    assert.deepEqual(pick("rank", keys), {
      is_unique: false,
      is_index: false,
      is_foreign_key: false,
      ref_on_update: null,
      ref_on_delete: null,
    });
    assert.deepEqual(pick("contact_id", [...keys, "ref_table", "ref_field"]), {
      is_unique: false,
      is_index: false,
      is_foreign_key: true,
      ref_on_update: null,
      ref_on_delete: null,
      ref_table: "contact",
      ref_field: "id",
    });
    // The relationship keeps the rules.
    const rel = note.related.find((r) => r.name === "contact_by_contact_id")!;
    assert.equal(rel.ref_on_delete, "CASCADE");
    assert.equal(rel.ref_on_update, "NO ACTION");
    const field = (await sb.call("GET", "db/_schema/note/_field/contact_id")).body as Rec;
    assert.equal(field.ref_on_delete, null);
  });
});

Deno.test("_schema decimal: declared as SqliteSchema::validateColumnSettings builds it, sizes read as Schema::extractLimit does", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "price",
        field: [
          { name: "id", type: "id" },
          { name: "plain", type: "decimal", allow_null: true },
          { name: "p10", type: "decimal", precision: 10, allow_null: true },
          { name: "p10s2", type: "decimal", precision: 10, scale: 2, allow_null: true },
          { name: "l8s3", type: "decimal", length: 8, scale: 3, allow_null: true },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const t = (await sb.call("GET", "db/_schema/price")).body as { field: Rec[] };
    const sizes = Object.fromEntries(
      t.field.slice(1).map((f) => [f.name, [f.type, f.db_type, f.length, f.precision, f.scale]]),
    );
    assert.deepEqual(sizes, {
      plain: ["decimal", "decimal", null, null, null],
      p10: ["decimal", "decimal(10)", 10, null, null],
      p10s2: ["decimal", "decimal(10,2)", 10, 10, 2],
      l8s3: ["decimal", "decimal(8,3)", 8, 8, 3],
    });
  } finally {
    await sb.close();
  }
});
