/**
 * The SQLite database service called directly with a hand-built request context (the router's
 * part is covered by the HTTP tests beside this file): records, query parameters, batches,
 * relationships, schema operations, errors, role row filters and database files.
 */
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { createSqliteService, databasePath } from "../../../lib/sandbox/db/mod.ts";
import type { ServiceHandler } from "../../../lib/sandbox/types.ts";
import { type AccessFn, call } from "./direct.ts";

type Rec = Record<string, unknown>;
function assertEquals(actual: unknown, expected: unknown, message?: string): void {
  if (message === undefined) assert.deepEqual(actual, expected);
  else assert.deepEqual(actual, expected, message);
}
function assertMatch(actual: string, re: RegExp): void {
  assert.match(actual, re);
}

function service(maxRecords = 1000, dataDir: string | null = null): ServiceHandler {
  return createSqliteService(
    { id: 2, name: "db", type: "sqlite", is_active: true, config: { database: "db.sqlite" } },
    { dataDir, maxRecords },
  );
}

const CONTACT_SCHEMA = {
  resource: [{
    name: "contact",
    label: "Contact",
    field: [
      { name: "id", type: "id" },
      { name: "first_name", type: "string", length: 64 },
      { name: "last_name", type: "string", length: 64, allow_null: true },
      { name: "age", type: "integer", allow_null: true },
      { name: "active", type: "boolean", default: true },
      { name: "created", type: "timestamp_on_create" },
    ],
  }, {
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
      { name: "body", type: "text" },
    ],
  }],
};

async function seeded(maxRecords = 1000): Promise<ServiceHandler> {
  const h = service(maxRecords);
  assertEquals((await call(h, "POST", "_schema", { body: CONTACT_SCHEMA })).status, 200);
  const people = [
    { first_name: "Ann", last_name: "Lee", age: 31 },
    { first_name: "Ben", last_name: "Kim", age: 45, active: false },
    { first_name: "Cid", last_name: "Ng", age: 22 },
  ];
  assertEquals(
    (await call(h, "POST", "_table/contact", { body: { resource: people } })).status,
    200,
  );
  const notes = [{ contact_id: 1, body: "hello" }, { contact_id: 1, body: "again" }, {
    contact_id: 2,
    body: "hi ben",
  }];
  assertEquals((await call(h, "POST", "_table/note", { body: notes })).status, 200);
  return h;
}

Deno.test("POST creates records (200, ids only) and GET returns typed values", async () => {
  const h = await seeded();
  try {
    const r = await call(h, "GET", "_table/contact?fields=id,first_name,age,active,created");
    assertEquals(r.status, 200);
    const rows = (r.body as { resource: Rec[] }).resource;
    assertEquals(rows.map((x) => [x.id, x.first_name, x.age, x.active]), [
      [1, "Ann", 31, true],
      [2, "Ben", 45, false],
      [3, "Cid", 22, true],
    ]);
    assertMatch(String(rows[0].created), /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const one = await call(h, "GET", "_table/contact/2?fields=first_name");
    assertEquals(one.body, { first_name: "Ben" });
  } finally {
    h.close?.();
  }
});

Deno.test("write rules: bare object rejected, bare array accepted, fields on writes", async () => {
  const h = await seeded();
  try {
    const bare = await call(h, "POST", "_table/contact", { body: { first_name: "X" } });
    assertEquals(bare.status, 400);
    assertMatch(
      String((bare.body as Rec).error && ((bare.body as { error: Rec }).error.message)),
      /No record\(s\) detected/,
    );
    const arr = await call(h, "POST", "_table/contact?fields=first_name,active", {
      body: [{ first_name: "Dee" }],
    });
    assertEquals(arr.body, { resource: [{ first_name: "Dee", active: true }] });
    const byId = await call(h, "POST", "_table/contact/1", { body: { resource: [{}] } });
    assertEquals(byId.status, 400);
    const put = await call(h, "PUT", "_table/contact/3?fields=*", { body: { last_name: "Ng2" } });
    assertEquals((put.body as Rec).last_name, "Ng2");
    assertEquals((put.body as Rec).first_name, "Cid", "PUT is a partial update");
    const patch = await call(h, "PATCH", "_table/contact?fields=id,age", {
      body: { resource: [{ id: 1, age: 32 }, { id: 2, age: 46 }] },
    });
    assertEquals(patch.body, { resource: [{ id: 1, age: 32 }, { id: 2, age: 46 }] });
    const ids = await call(h, "PATCH", "_table/contact?ids=1,3&fields=id,active", {
      body: { resource: [{ active: false }] },
    });
    assertEquals(ids.body, { resource: [{ id: 1, active: false }, { id: 3, active: false }] });
    const byFilter = await call(h, "PATCH", "_table/contact?filter=age%3E40&fields=id,age", {
      body: { resource: [{ age: 50 }] },
    });
    assertEquals(byFilter.body, { resource: [{ id: 2, age: 50 }] });
    // Nothing known to write: DreamFactory skips the update and answers the id.
    const unknownKeys = await call(h, "PATCH", "_table/contact/1", { body: { nope: 1 } });
    assertEquals(unknownKeys.status, 200);
    assertEquals(unknownKeys.body, { id: 1 });
  } finally {
    h.close?.();
  }
});

Deno.test("DELETE by id, ids, filter, records; refuses an unfiltered delete unless force", async () => {
  const h = await seeded();
  try {
    assertEquals((await call(h, "DELETE", "_table/note/3")).body, { id: 3 });
    assertEquals((await call(h, "DELETE", "_table/note/3")).status, 404);
    assertEquals((await call(h, "DELETE", "_table/note?filter=body%3D%27again%27")).body, {
      resource: [{ id: 2 }],
    });
    const bare = await call(h, "DELETE", "_table/note");
    assertEquals(bare.status, 400);
    assertEquals(
      (bare.body as { error: Rec }).error.message,
      "No filter or records given for delete request.",
    );
    const byRecords = await call(h, "DELETE", "_table/note?fields=*", {
      body: { resource: [{ id: 1 }] },
    });
    assertEquals(byRecords.body, { resource: [{ id: 1, contact_id: 1, body: "hello" }] });
    assertEquals((await call(h, "DELETE", "_table/contact?force=true")).body, { success: true });
    assertEquals((await call(h, "GET", "_table/contact?count_only=true")).body, 0);
    const again = await call(h, "POST", "_table/contact", { body: [{ first_name: "Z" }] });
    assertEquals(again.body, { resource: [{ id: 1 }] }, "force truncation restarts ids");
  } finally {
    h.close?.();
  }
});

Deno.test("query parameters: filter, order, limit/offset, counts, ids, group, as_list, schema", async () => {
  const h = await seeded();
  try {
    const get = async (q: string) => (await call(h, "GET", `_table/contact?${q}`)).body as Rec;
    assertEquals(
      await get("filter=age%3E25&fields=id&order=age%20desc&include_count=true"),
      { resource: [{ id: 2 }, { id: 1 }], meta: { count: 2 } },
    );
    assertEquals(await get("limit=1&offset=1&include_count=true&fields=id"), {
      resource: [{ id: 2 }],
      meta: { count: 3, next: 2 },
    });
    assertEquals(
      await get("limit=1&fields=id"),
      { resource: [{ id: 1 }] },
      "no meta without include_count",
    );
    assertEquals(await get("top=1&skip=2&select=id&sort=id"), { resource: [{ id: 3 }] }, "aliases");
    assertEquals(
      (await call(h, "GET", "_table/contact?count_only=true&filter=active%3Dtrue")).body,
      2,
    );
    // In the ids' order (addToTransaction reads id by id); with `continue` the ids are batched
    // and commitTransaction answers its whereIn query in key order.
    assertEquals(await get("ids=3,1&fields=id"), { resource: [{ id: 3 }, { id: 1 }] });
    assertEquals(await get("ids=3,1&fields=id&continue=true"), {
      resource: [{ id: 1 }, { id: 3 }],
    });
    const missing = await call(h, "GET", "_table/contact?ids=1,99&fields=id");
    assertEquals(missing.status, 400);
    assertEquals((missing.body as { error: Rec }).error.code, 1000);
    assertEquals((missing.body as { error: { context: Rec } }).error.context.error, [1]);
    assertEquals(await get("as_list=true"), { resource: [1, 2, 3] });
    assertEquals(await get("group=active&fields=active&order=active"), {
      resource: [{ active: false }, { active: true }],
    });
    assertEquals(await get("id_field=first_name&ids=Cid&fields=id"), { resource: [{ id: 3 }] });
    const withSchema = await get("include_schema=true&limit=1&fields=id");
    assertEquals(((withSchema.meta as Rec).schema as Rec).name, "contact");
    assertEquals(await get("order=age%20desc%20nulls%20last&fields=id&limit=1"), {
      resource: [{ id: 2 }],
    });
    assertEquals((await call(h, "GET", "_table/contact?fields=nope")).status, 400);
    assertEquals((await call(h, "GET", "_table/contact?order=id;drop")).status, 400);
    // One unknown sort term is quoted by Laravel and read by SQLite as a string: no sorting.
    assertEquals(await get("order=nope&fields=id"), {
      resource: [{ id: 1 }, { id: 2 }, { id: 3 }],
    });
    assertEquals((await call(h, "GET", "_table/contact?order=id,nope")).status, 500);
    const badFilter = await call(h, "GET", "_table/contact?filter=nosuch%3D1");
    assertEquals(badFilter.status, 400);
    assertEquals(
      (badFilter.body as { error: Rec }).error.message,
      "Invalid or unparsable field in filter request: 'nosuch'",
    );
  } finally {
    h.close?.();
  }
});

Deno.test("the server cap limits every page and meta.next points past it", async () => {
  const h = await seeded(2);
  try {
    const r = await call(h, "GET", "_table/contact?fields=id");
    assertEquals(r.body, { resource: [{ id: 1 }, { id: 2 }], meta: { count: 3, next: 2 } });
    const big = await call(h, "GET", "_table/contact?fields=id&limit=50&offset=2");
    // A limit above the cap is the cap: the count is computed and reported past it.
    assertEquals(big.body, { resource: [{ id: 3 }], meta: { count: 3 } });
  } finally {
    h.close?.();
  }
});

Deno.test("related: has_many, belongs_to, many_many with per-relation options", async () => {
  const h = await seeded();
  try {
    const r = await call(
      h,
      "GET",
      "_table/contact?ids=1,2&fields=id&related=note_by_contact_id&note_by_contact_id.fields=body&note_by_contact_id.order=body%20desc&note_by_contact_id.limit=1",
    );
    assertEquals(r.body, {
      resource: [
        // The match column added to read the notes is dropped again (retrieveRelationRecords).
        { id: 1, note_by_contact_id: [{ body: "hello" }] },
        { id: 2, note_by_contact_id: [{ body: "hi ben" }] },
      ],
    });
    const up = await call(
      h,
      "GET",
      "_table/note/3?fields=body&related=contact_by_contact_id&contact_by_contact_id_fields=first_name",
    );
    assertEquals(up.body, {
      body: "hi ben",
      contact_id: 2,
      contact_by_contact_id: { first_name: "Ben" },
    });
    const ignored = await call(h, "GET", "_table/note/3?fields=id&related=nope,contact.x");
    assertEquals(ignored.body, { id: 3 }, "unknown relations are ignored on db tables");
    // many_many through a junction table, written in one request
    assertEquals(
      (await call(h, "POST", "_schema", {
        body: {
          resource: [
            {
              name: "tag",
              field: [{ name: "id", type: "id" }, {
                name: "name",
                type: "string",
                is_unique: true,
              }],
            },
            {
              name: "contact_tag",
              field: [
                { name: "id", type: "id" },
                { name: "contact_id", type: "reference", ref_table: "contact", ref_field: "id" },
                { name: "tag_id", type: "reference", ref_table: "tag", ref_field: "id" },
              ],
            },
          ],
        },
      })).status,
      200,
    );
    const linked = await call(h, "PATCH", "_table/contact/1?fields=id&related=tag_by_contact_tag", {
      body: { tag_by_contact_tag: [{ name: "vip" }, { name: "new" }] },
    });
    assertEquals(linked.body, {
      id: 1,
      tag_by_contact_tag: [{ id: 1, name: "vip" }, { id: 2, name: "new" }],
    });
    const back = await call(
      h,
      "GET",
      "_table/tag/1?related=contact_by_contact_tag&contact_by_contact_tag.fields=first_name",
    );
    assertEquals((back.body as Rec).contact_by_contact_tag, [{ first_name: "Ann" }]);
    const schema = await call(h, "GET", "_schema/contact");
    assertEquals(
      ((schema.body as Rec).related as Rec[]).map((x) => `${x.name}:${x.type}`),
      [
        "contact_tag_by_contact_id:has_many",
        "note_by_contact_id:has_many",
        "tag_by_contact_tag:many_many",
      ],
    );
    // has_many children created with the parent
    const parent = await call(h, "POST", "_table/contact?related=note_by_contact_id&fields=id", {
      body: { resource: [{ first_name: "Eve", note_by_contact_id: [{ body: "first" }] }] },
    });
    assertEquals(parent.body, {
      resource: [{ id: 4, note_by_contact_id: [{ id: 4, contact_id: 4, body: "first" }] }],
    });
  } finally {
    h.close?.();
  }
});

Deno.test("batches: stop at first failure, continue, rollback, and not both", async () => {
  const h = await seeded();
  try {
    const bad = [{ first_name: "A1" }, { first_name: null }, { first_name: "A3" }];
    const stop = await call(h, "POST", "_table/contact", { body: { resource: bad } });
    assertEquals(stop.status, 400);
    const ctx =
      (stop.body as { error: { context: { error: number[]; resource: Rec[] } } }).error.context;
    assertEquals(ctx.error, [1]);
    assertEquals(ctx.resource.length, 2);
    assertEquals(ctx.resource[1].message, "Field 'first_name' can not be NULL.");
    assertEquals((await call(h, "GET", "_table/contact?count_only=true")).body, 4, "A1 stays");
    const cont = await call(h, "POST", "_table/contact?continue=true", { body: { resource: bad } });
    assertEquals(
      (cont.body as { error: { context: { error: number[]; resource: Rec[] } } }).error.context
        .resource.length,
      3,
    );
    assertEquals((await call(h, "GET", "_table/contact?count_only=true")).body, 6);
    const rb = await call(h, "POST", "_table/contact?rollback=true", { body: { resource: bad } });
    const rbErr = (rb.body as { error: Rec }).error;
    assertEquals(
      rbErr.message,
      "Batch Error: Not all requested records could be created. All changes rolled back.",
    );
    assertEquals((await call(h, "GET", "_table/contact?count_only=true")).body, 6);
    const both = await call(h, "POST", "_table/contact?rollback=true&continue=true", {
      body: { resource: bad },
    });
    assertEquals(
      (both.body as { error: Rec }).error.message,
      "Rollback and continue operations can not be requested at the same time.",
    );
  } finally {
    h.close?.();
  }
});

Deno.test("errors: missing table/record, required, NOT NULL, integer, FK and UNIQUE with SQLSTATE", async () => {
  const h = await seeded();
  try {
    const err = async (m: string, p: string, body?: unknown) => {
      const r = await call(h, m, p, { body });
      return { status: r.status, error: (r.body as { error: Rec }).error };
    };
    assertEquals(await err("GET", "_table/nosuch"), {
      status: 404,
      error: {
        code: 404,
        context: null,
        message: "Table &quot;nosuch&quot; does not exist in the database.",
        status_code: 404,
      },
    });
    assertEquals(
      (await err("GET", "_table/contact/999")).error.message,
      "Record with identifier '999' not found.",
    );
    const req = await err("POST", "_table/contact", { resource: [{ last_name: "x" }] });
    assertEquals(
      ((req.error.context as Rec).resource as Rec[])[0].message,
      "Required field 'first_name' can not be NULL.",
    );
    const int = await err("PATCH", "_table/contact/1", { age: "old" });
    assertEquals(int, {
      status: 400,
      error: {
        code: 400,
        context: null,
        message: "Field 'age' must be a valid integer.",
        status_code: 400,
      },
    });
    const fk = await err("POST", "_table/note", { resource: [{ contact_id: 999, body: "x" }] });
    assertEquals(((fk.error.context as Rec).resource as Rec[])[0], {
      code: "23000",
      message:
        "SQLSTATE[23000]: Integrity constraint violation: 19 FOREIGN KEY constraint failed (SQL: insert into &quot;note&quot; (&quot;contact_id&quot;, &quot;body&quot;) values (999, x))",
    });
    await call(h, "POST", "_schema", {
      body: {
        resource: [{
          name: "u",
          field: [{ name: "id", type: "id" }, { name: "email", type: "string", is_unique: true }],
        }],
      },
    });
    await call(h, "POST", "_table/u", { body: [{ email: "a@x" }] });
    const dup = await err("POST", "_table/u", [{ email: "a@x" }]);
    assertMatch(
      String(((dup.error.context as Rec).resource as Rec[])[0].message),
      /^SQLSTATE\[23000\]: Integrity constraint violation: 19 UNIQUE constraint failed: u\.email/,
    );
    assertEquals(
      (await err("GET", "_table/contact?filter=age%3E25&rollback=1&continue=1")).status,
      200,
    );
  } finally {
    h.close?.();
  }
});

Deno.test("_schema: types read back as DF types; merge, PATCH/PUT fields, drop field and table", async () => {
  const h = service();
  try {
    const types = [
      "string",
      "text",
      "integer",
      "bigint",
      "smallint",
      "float",
      "double",
      "decimal",
      "boolean",
      "date",
      "time",
      "datetime",
      "timestamp",
      "timestamp_on_create",
      "timestamp_on_update",
      "binary",
      "json",
      "uuid",
      "money",
      "user_id_on_create",
    ];
    const created = await call(h, "POST", "_schema?fields=*", {
      body: {
        resource: [{
          name: "every",
          description: "all types",
          field: [
            { name: "id", type: "pk" },
            ...types.map((t) => ({ name: `f_${t}`, type: t, allow_null: true })),
          ],
        }],
      },
    });
    assertEquals(created.status, 200);
    const desc = (created.body as { resource: Rec[] }).resource[0];
    assertEquals(desc.description, "all types");
    const fields = desc.field as Rec[];
    // Schema::extractSimpleType reads smallint back as integer and decimal(19,4) as decimal.
    const readBack: Record<string, string> = { smallint: "integer", money: "decimal" };
    assertEquals(fields.map((f) => f.type), ["id", ...types.map((t) => readBack[t] ?? t)]);
    assertEquals(fields.find((f) => f.name === "f_string")!.db_type, "varchar(255)");
    assertEquals(fields.find((f) => f.name === "f_boolean")!.db_type, "tinyint(1)");
    const row = await call(h, "POST", "_table/every?fields=*", {
      body: [{
        f_integer: "42",
        f_float: "1.5",
        f_boolean: "yes",
        f_json: { a: [1] },
        f_binary: btoa("hi"),
        f_date: "2024-01-02",
      }],
    });
    const rec = (row.body as { resource: Rec[] }).resource[0];
    assertEquals(
      [rec.f_integer, rec.f_float, rec.f_boolean, rec.f_json, rec.f_binary, rec.f_date],
      [
        42,
        1.5,
        true,
        '{"a":[1]}',
        btoa("hi"),
        "2024-01-02",
      ],
    );
    assertMatch(String(rec.f_timestamp_on_update), /^\d{4}-/);
    // POST on an existing table merges new fields; check_exist refuses
    const merged = await call(h, "POST", "_schema", {
      body: {
        resource: [{ name: "every", field: [{ name: "extra", type: "string", default: "x" }] }],
      },
    });
    assertEquals(merged.body, { resource: [{ name: "every" }] });
    assertEquals(((await call(h, "GET", "_table/every/1?fields=extra")).body as Rec).extra, "x");
    const exists = await call(h, "POST", "_schema?check_exist=true", {
      body: { resource: [{ name: "every", field: [] }] },
    });
    assertEquals(exists.status, 500);
    assertEquals(
      (exists.body as { error: Rec }).error.message,
      "A table with name 'every' already exist in the database.",
    );
    // alter: widen a string, make a column NOT NULL with a default (table rebuilt, data kept)
    // updateField answers [] unless `fields` asks for describeField's answer.
    const plain = await call(h, "PATCH", "_schema/every/_field/f_string", {
      body: { label: "Shorter" },
    });
    assertEquals(plain.body, []);
    const altered = await call(h, "PATCH", "_schema/every/_field/f_string?fields=*", {
      body: { type: "string", length: 10, default: "d", allow_null: false, label: "Short" },
    });
    assertEquals([(altered.body as Rec).db_type, (altered.body as Rec).label], [
      "varchar(10)",
      "Short",
    ]);
    assertEquals(
      ((await call(h, "GET", "_table/every/1?fields=f_integer")).body as Rec).f_integer,
      42,
    );
    // PUT replaces: unlisted fields are dropped
    const put = await call(h, "PUT", "_schema/every", {
      body: {
        field: [{ name: "id", type: "id" }, {
          name: "f_integer",
          type: "integer",
          allow_null: true,
        }],
      },
    });
    assertEquals(put.status, 200);
    const after = await call(h, "GET", "_schema/every/_field");
    assertEquals((after.body as { resource: Rec[] }).resource.map((f) => f.name), [
      "id",
      "f_integer",
    ]);
    assertEquals((await call(h, "DELETE", "_schema/every/_field/f_integer")).body, {
      success: true,
    });
    assertEquals((await call(h, "DELETE", "_schema/every/_field/nope")).body, { success: true });
    assertEquals((await call(h, "GET", "_table/every/1")).body, { id: 1 });
    assertEquals((await call(h, "DELETE", "_schema/every")).body, { success: true });
    assertEquals((await call(h, "GET", "_schema")).body, { resource: [] });
    // Not a DF simple type: passed through as the declared type (no whitelist on SQLite).
    const plainType = await call(h, "POST", "_schema", {
      body: { resource: [{ name: "t", field: [{ name: "a", type: "varchar" }] }] },
    });
    assertEquals(plainType.status, 200);
    const a = (await call(h, "GET", "_schema/t/_field/a")).body as Rec;
    assertEquals([a.type, a.db_type, a.length], ["string", "varchar(255)", 255]);
  } finally {
    h.close?.();
  }
});

Deno.test("role row filters narrow reads and writes; listings show only accessible tables", async () => {
  const h = await seeded();
  try {
    const access: AccessFn = (component) => {
      // As the core matches rules: `_table/contact` and `_table/contact/*` (records by id).
      if (/^_(table|schema)\/contact(\/|$)/.test(component)) {
        return {
          verbMask: 31,
          filters: [{ name: "active", operator: "=", value: true }],
          filterOp: "AND",
        };
      }
      return null;
    };
    const user = { access, session: { isSysAdmin: false, userId: 5 } };
    const rows = await call(h, "GET", "_table/contact?fields=id", user);
    assertEquals(rows.body, { resource: [{ id: 1 }, { id: 3 }] });
    assertEquals((await call(h, "GET", "_table/contact/2", user)).status, 404);
    assertEquals((await call(h, "GET", "_table/contact?count_only=true", user)).body, 2);
    const denied = await call(h, "POST", "_table/contact", {
      ...user,
      body: { resource: [{ first_name: "X", active: false }] },
    });
    assertEquals(
      (denied.body as { error: { context: { resource: Rec[] } } }).error.context.resource[0],
      {
        code: 403,
        context: null,
        message: "Denied access to some of the requested fields.",
        status_code: 403,
      },
    );
    const flip = await call(h, "PATCH", "_table/contact/1", { ...user, body: { active: false } });
    assertEquals(flip.status, 403);
    assertEquals(
      (await call(h, "GET", "_table/contact/1?fields=active")).body,
      { active: true },
      "rolled back",
    );
    const del = await call(h, "DELETE", "_table/contact?filter=age%3E0", user);
    assertEquals(del.body, { resource: [{ id: 1 }, { id: 3 }] });
    assertEquals((await call(h, "GET", "_table/contact?fields=id")).body, {
      resource: [{ id: 2 }],
    });
    assertEquals((await call(h, "GET", "_table", user)).body, { resource: [{ name: "contact" }] });
    assertEquals((await call(h, "GET", "_schema", user)).body, { resource: [{ name: "contact" }] });
  } finally {
    h.close?.();
  }
});

Deno.test("database files live inside the data folder; path traversal is refused", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const svc = (database: unknown) => ({
      id: 9,
      name: "files",
      type: "sqlite",
      is_active: true,
      config: { database },
    });
    for (const bad of ["../x.sqlite", "/etc/passwd", "a/../../b", "..", ".hidden"]) {
      assert.throws(() => databasePath(svc(bad), dir), /Invalid database/);
    }
    assertEquals(databasePath(svc("ok.sqlite"), dir), `${dir}/ok.sqlite`);
    const h1 = createSqliteService(svc("ok.sqlite"), { dataDir: dir, maxRecords: 100 });
    await call(h1, "POST", "_schema", {
      body: {
        resource: [{
          name: "kv",
          field: [{ name: "k", type: "string", is_primary_key: true }, { name: "v", type: "text" }],
        }],
      },
    });
    await call(h1, "POST", "_table/kv", { body: [{ k: "a", v: "1" }] });
    h1.close?.();
    // Tables and views made outside the API are described in DF terms too.
    const raw = new DatabaseSync(`${dir}/ok.sqlite`);
    raw.exec("CREATE VIEW kv_view AS SELECT k, v FROM kv");
    raw.exec(
      "CREATE TABLE ext (id INTEGER PRIMARY KEY, price NUMERIC(8,2), flag BOOLEAN, at DATETIME)",
    );
    raw.close();
    const h2 = createSqliteService(svc("ok.sqlite"), { dataDir: dir, maxRecords: 100 });
    assertEquals((await call(h2, "GET", "_table/kv_view")).body, {
      resource: [{ k: "a", v: "1" }],
    });
    assertEquals(((await call(h2, "GET", "_schema/kv_view")).body as Rec).is_view, true);
    const ext = (await call(h2, "GET", "_schema/ext")).body as { field: Rec[] };
    assertEquals(ext.field.map((f) => f.type), ["id", "decimal", "boolean", "datetime"]);
    assertEquals((await call(h2, "GET", "_table/kv/a")).body, { k: "a", v: "1" });
    assertEquals((await call(h2, "POST", "_table/kv", { body: [{ k: "b", v: "2" }] })).body, {
      resource: [{ k: "b" }],
    });
    h2.close?.();
    assert.ok((await Deno.stat(`${dir}/ok.sqlite`)).isFile);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("related writes: belongs_to parents, has_many unlink and allow_related_delete", async () => {
  const h = await seeded();
  try {
    // belongs_to: a new parent is created and linked from the child
    const child = await call(h, "POST", "_table/note?fields=*&related=contact_by_contact_id", {
      body: { resource: [{ body: "orphan?", contact_by_contact_id: { first_name: "Pam" } }] },
    });
    assertEquals(child.status, 200);
    const rec = (child.body as { resource: Rec[] }).resource[0];
    assertEquals((rec.contact_by_contact_id as Rec).first_name, "Pam");
    assertEquals(rec.contact_id, (rec.contact_by_contact_id as Rec).id);
    // has_many: a child with its FK null is unlinked when nullable ...
    await call(h, "POST", "_schema", {
      body: {
        resource: [{
          name: "memo",
          field: [
            { name: "id", type: "id" },
            {
              name: "contact_id",
              type: "reference",
              ref_table: "contact",
              ref_field: "id",
              allow_null: true,
            },
            { name: "text", type: "string" },
          ],
        }],
      },
    });
    await call(h, "PATCH", "_table/contact/1", {
      body: { memo_by_contact_id: [{ text: "m1" }, { text: "m2" }] },
    });
    await call(h, "PATCH", "_table/contact/1", {
      body: { memo_by_contact_id: [{ id: 1, contact_id: null }] },
    });
    assertEquals((await call(h, "GET", "_table/memo?fields=id,contact_id")).body, {
      resource: [{ id: 1, contact_id: null }, { id: 2, contact_id: 1 }],
    });
    // ... and refused, or deleted with allow_related_delete, when the FK is NOT NULL
    const refused = await call(h, "PATCH", "_table/contact/1", {
      body: { note_by_contact_id: [{ id: 1, contact_id: null }] },
    });
    assertEquals(refused.status, 400);
    const deleted = await call(h, "PATCH", "_table/contact/1?allow_related_delete=true", {
      body: { note_by_contact_id: [{ id: 1, contact_id: null }] },
    });
    assertEquals(deleted.status, 200);
    assertEquals((await call(h, "GET", "_table/note?fields=id&filter=contact_id%3D1")).body, {
      resource: [{ id: 2 }],
    });
  } finally {
    h.close?.();
  }
});

Deno.test("schema definitions dress derived relationships; always_fetch relations come back", async () => {
  const h = await seeded();
  try {
    const ok = await call(h, "PATCH", "_schema/contact", {
      body: {
        related: [{
          name: "note_by_contact_id",
          label: "Notes",
          alias: "notes",
          always_fetch: true,
        }],
      },
    });
    assertEquals(ok.status, 200);
    const rel = await call(h, "GET", "_schema/contact/_related/note_by_contact_id");
    assertEquals(
      [(rel.body as Rec).label, (rel.body as Rec).alias, (rel.body as Rec).always_fetch],
      ["Notes", "notes", true],
    );
    const row = await call(h, "GET", "_table/contact/2?fields=id");
    assertEquals(row.body, {
      id: 2,
      note_by_contact_id: [{ id: 3, contact_id: 2, body: "hi ben" }],
    });
    const virtual = await call(h, "PATCH", "_schema/contact", {
      body: { related: [{ name: "made_up", type: "has_many" }] },
    });
    assertEquals(virtual.status, 400);
  } finally {
    h.close?.();
  }
});

Deno.test("rebuilding a parent table keeps its children and their foreign keys", async () => {
  const h = await seeded();
  try {
    const altered = await call(h, "PATCH", "_schema/contact/_field/age?fields=*", {
      body: { type: "bigint", allow_null: true },
    });
    assertEquals((altered.body as Rec).db_type, "bigint");
    assertEquals((await call(h, "GET", "_table/note?count_only=true")).body, 3, "no cascade");
    const fk = await call(h, "POST", "_table/note", { body: [{ contact_id: 999, body: "x" }] });
    assertEquals(fk.status, 400, "foreign keys still enforced");
    assertEquals((await call(h, "DELETE", "_table/contact/1")).status, 200);
    assertEquals(
      (await call(h, "GET", "_table/note?count_only=true")).body,
      1,
      "ON DELETE CASCADE",
    );
  } finally {
    h.close?.();
  }
});

Deno.test("a verb no branch answers is a 500, never another verb's branch (DELETE was the default)", async () => {
  const h = createSqliteService(
    { id: 2, name: "db", type: "sqlite", is_active: true, config: {} },
    { dataDir: null, maxRecords: 1000 },
  );
  const schema = await call(h, "POST", "_schema", {
    body: {
      resource: [{ name: "t", field: [{ name: "id", type: "id" }, { name: "a", type: "string" }] }],
    },
  });
  assert.equal(schema.status, 200, schema.text);
  const made = await call(h, "POST", "_table/t", { body: { resource: [{ a: "x" }] } });
  assert.equal(made.status, 200, made.text);
  // The core router refuses such verbs first; a direct call shows the handlers' own guard.
  for (const path of ["_table/t/1", "_table/t?ids=1", "_schema/t", "_schema?ids=t"]) {
    const res = await call(h, "COPY", path);
    assert.equal(res.status, 500, `${path}: ${res.text}`);
    assert.match(res.text, /no COPY handler/);
  }
  const left = await call(h, "GET", "_table/t");
  assert.deepEqual((left.body as { resource: unknown[] }).resource, [{ id: 1, a: "x" }]);
});
