/**
 * The paths below a table in `_schema`, as df-database's DbSchemaResource answers them:
 * `_field` (describeFields / createFields / updateFields / deleteFields), `_field/{f}`,
 * `_related/{r}`, the deprecated `{table}/{field}` (its `default:` branches) and the 400 for any
 * other three-segment path.
 */
import assert from "node:assert/strict";
import { sandbox, type TestSandbox } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

const err = (status: number, message: string) => ({
  error: { code: status, context: null, message, status_code: status },
});

async function withTables(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [
        {
          name: "parent",
          field: [{ name: "id", type: "id" }, { name: "a", type: "string", allow_null: true }],
        },
        {
          name: "child",
          field: [{ name: "id", type: "id" }, {
            name: "parent_id",
            type: "reference",
            ref_table: "parent",
            ref_field: "id",
            allow_null: true,
          }],
        },
      ],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await fn(sb);
  } finally {
    await sb.close();
  }
}

const names = (body: unknown) => (body as { resource: Rec[] }).resource.map((f) => f.name);

Deno.test("_field writes answer createField/updateField's [] per field; with fields, describeField's", async () => {
  await withTables(async (sb) => {
    // createFields: one [] per field, not wrapped (updateSchema answers [{name: table}], which
    // has no 'field' entry).
    const many = await sb.call("POST", "db/_schema/parent/_field", {
      resource: [
        { name: "b", type: "string", allow_null: true },
        { name: "c", type: "integer", allow_null: true },
      ],
    });
    assert.equal(many.status, 200, JSON.stringify(many.body));
    assert.deepEqual(many.body, [[], []]);
    const list = await sb.call("PATCH", "db/_schema/parent/_field", [{ name: "b", label: "Bee" }]);
    assert.deepEqual(list.body, [[]]);
    const one = await sb.call("POST", "db/_schema/parent/_field/d", {
      type: "string",
      allow_null: true,
    });
    assert.deepEqual(one.body, []);
    // return_schema: a bare list of describeField answers, or the bare field.
    const described = await sb.call("PATCH", "db/_schema/parent/_field?fields=*", {
      resource: [{ name: "b", label: "Big B" }],
    });
    assert.ok(Array.isArray(described.body), JSON.stringify(described.body));
    const b = (described.body as Rec[])[0];
    assert.deepEqual([b.name, b.label, b.db_type], ["b", "Big B", "varchar(255)"]);
    const single = await sb.call("PUT", "db/_schema/parent/_field/d?fields=name", {
      label: "Dee",
    });
    const d = single.body as Rec;
    assert.deepEqual([d.name, d.label, d.type, d.allow_null], ["d", "Dee", "string", true]);
    assert.deepEqual(
      names((await sb.call("GET", "db/_schema/parent/_field")).body),
      ["id", "a", "b", "c", "d"],
    );
    // unwrapResources: a single object without `resource` is no data; so is an empty body.
    const bare = await sb.call("POST", "db/_schema/parent/_field", { name: "x", type: "string" });
    assert.deepEqual(bare.body, err(400, "No data in schema create request."));
    const empty = await sb.call("PATCH", "db/_schema/parent/_field/d", {});
    assert.deepEqual(empty.body, err(400, "No data in schema update request."));
    // check_exist keeps updateSchema from merging into the (existing) table.
    const exists = await sb.call("POST", "db/_schema/parent/_field/e?check_exist=true", {
      type: "string",
    });
    assert.deepEqual(exists.body, {
      error: { code: 500, message: "A table with name 'parent' already exist in the database." },
    });
    // Each field is its own updateSchema: the first stays when the second fails.
    const partial = await sb.call("POST", "db/_schema/parent/_field", {
      resource: [{ name: "e", type: "string", allow_null: true }, { name: "f" }],
    });
    assert.equal(partial.status, 500);
    assert.ok(names((await sb.call("GET", "db/_schema/parent/_field")).body).includes("e"));
  });
});

Deno.test("_field / _related describes: exact names, describeTableFields' 404s, _field?ids", async () => {
  await withTables(async (sb) => {
    const get = (path: string) => sb.call("GET", `db/_schema/${path}`);
    assert.deepEqual(
      (await get("parent/_field/nosuch")).body,
      err(404, "No requested fields found in table 'parent'."),
    );
    // array_search compares names case-sensitively.
    assert.deepEqual(
      (await get("parent/_field/A")).body,
      err(404, "No requested fields found in table 'parent'."),
    );
    assert.equal(((await get("parent/_field/a")).body as Rec).name, "a");
    // describeFields: one describeField per id, in the order asked.
    assert.deepEqual(names((await get("parent/_field?ids=a,id")).body), ["a", "id"]);
    assert.deepEqual(
      (await get("parent/_field?ids=id,nosuch")).body,
      err(404, "No requested fields found in table 'parent'."),
    );
    const rel = await get("child/_related/parent_by_parent_id");
    assert.equal((rel.body as Rec).name, "parent_by_parent_id");
    assert.deepEqual(
      (await get("child/_related/nosuch")).body,
      err(404, "No requested relationships found in table 'child'."),
    );
    assert.deepEqual(
      (await get("child/_related/Parent_By_Parent_Id")).body,
      err(404, "No requested relationships found in table 'child'."),
    );
    // describeRelationships never reads its ids (it tests an undefined $fields): all of them.
    assert.deepEqual(names((await get("child/_related?ids=nosuch")).body), [
      "parent_by_parent_id",
    ]);
  });
});

Deno.test("deprecated _schema/{table}/{field}; other three-segment paths are 400s", async () => {
  await withTables(async (sb) => {
    const a = (await sb.call("GET", "db/_schema/parent/a")).body as Rec;
    assert.deepEqual([a.name, a.type], ["a", "string"]);
    assert.deepEqual(
      (await sb.call("GET", "db/_schema/parent/nosuch")).body,
      err(404, "No requested fields found in table 'parent'."),
    );
    assert.deepEqual(
      (await sb.call("PATCH", "db/_schema/parent/a", { label: "Ay" })).body,
      [],
    );
    assert.equal(((await sb.call("GET", "db/_schema/parent/_field/a")).body as Rec).label, "Ay");
    const made = await sb.call("POST", "db/_schema/parent/extra", {
      type: "integer",
      allow_null: true,
    });
    assert.deepEqual(made.body, []);
    assert.deepEqual((await sb.call("DELETE", "db/_schema/parent/extra")).body, { success: true });
    assert.deepEqual(names((await sb.call("GET", "db/_schema/parent/_field")).body), ["id", "a"]);

    const bad = (m: string, body?: unknown) => sb.call(m, "db/_schema/parent/a/b", body);
    assert.deepEqual((await bad("GET")).body, err(400, "Invalid schema path in describe request."));
    assert.deepEqual(
      (await bad("POST", { x: 1 })).body,
      err(400, "Invalid schema path in create request."),
    );
    assert.deepEqual((await bad("POST")).body, err(400, "No data in schema create request."));
    assert.deepEqual(
      (await bad("PATCH", { x: 1 })).body,
      err(400, "Invalid schema path in update request."),
    );
    assert.deepEqual(
      (await bad("DELETE")).body,
      err(400, "Invalid schema path in delete request."),
    );
    assert.deepEqual(
      (await sb.call("GET", "db/_schema/nosuch/a/b")).body,
      err(404, "Table &quot;nosuch&quot; does not exist in the database."),
    );
  });
});

Deno.test("DELETE _field without a name: ids (payload or query) or resources, else a 400", async () => {
  await withTables(async (sb) => {
    await sb.call("POST", "db/_schema/parent/_field", {
      resource: ["b", "c", "d"].map((name) => ({ name, type: "string", allow_null: true })),
    });
    assert.deepEqual(
      (await sb.call("DELETE", "db/_schema/parent/_field")).body,
      err(400, "No data in schema delete request."),
    );
    // Unknown columns are passed over (deleteField drops what getColumn finds).
    const byQuery = await sb.call("DELETE", "db/_schema/parent/_field?ids=b,nosuch");
    assert.deepEqual(byQuery.body, { success: true });
    const byBody = await sb.call("DELETE", "db/_schema/parent/_field", { ids: "c" });
    assert.deepEqual(byBody.body, { success: true });
    const byResource = await sb.call("DELETE", "db/_schema/parent/_field", {
      resource: [{ name: "d" }],
    });
    assert.deepEqual(byResource.body, { success: true });
    assert.deepEqual(names((await sb.call("GET", "db/_schema/parent/_field")).body), ["id", "a"]);
  });
});
