/**
 * Listings through RestHandler::handleGET and ResourcesWrapper::cleanResources: `GET {db}` (the
 * service's declared resources, class names included) and `GET {db}/_schema` without ids
 * (DbSchemaResource::getResources: each table's undiscovered TableSchema::toArray() plus access).
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

Deno.test("GET {db}?fields: the raw static::$resources entries, cut down by fields", async () => {
  const sb = await sandbox();
  try {
    assert.deepEqual((await sb.call("GET", "db")).body, {
      resource: [{ name: "_schema" }, { name: "_table" }],
    });
    assert.deepEqual((await sb.call("GET", "db?fields=*")).body, {
      resource: [
        {
          name: "_schema",
          class_name: "DreamFactory\\Core\\SqlDb\\Resources\\Schema",
          label: "Schema",
        },
        {
          name: "_table",
          class_name: "DreamFactory\\Core\\SqlDb\\Resources\\Table",
          label: "Tables",
        },
      ],
    });
    assert.deepEqual((await sb.call("GET", "db?fields=label")).body, {
      resource: [{ label: "Schema" }, { label: "Tables" }],
    });
    assert.deepEqual((await sb.call("GET", "db?as_list=true")).body, {
      resource: ["_schema", "_table"],
    });
  } finally {
    await sb.close();
  }
});

Deno.test("GET _schema?fields without ids: the lightweight table listing, not full descriptions", async () => {
  const sb = await sandbox();
  try {
    await sb.call("POST", "db/_schema", {
      resource: [{
        name: "book",
        label: "Volume",
        description: "Books on the shelf",
        field: [{ name: "id", type: "id" }, { name: "title", type: "string" }],
      }],
    });
    assert.deepEqual((await sb.call("GET", "db/_schema")).body, { resource: [{ name: "book" }] });
    assert.deepEqual((await sb.call("GET", "db/_schema?fields=*")).body, {
      resource: [{
        alias: null,
        name: "book",
        label: "Volume",
        description: "Books on the shelf",
        native: [],
        plural: "Volumes",
        is_view: false,
        access: ["GET", "POST", "PUT", "PATCH", "DELETE"],
      }],
    });
    assert.deepEqual((await sb.call("GET", "db/_schema?fields=name,access")).body, {
      resource: [{ name: "book", access: ["GET", "POST", "PUT", "PATCH", "DELETE"] }],
    });
    // ids still describe the tables in full (describeTables), whatever fields says.
    const described = await sb.call("GET", "db/_schema?ids=book&fields=name");
    const t = (described.body as { resource: Record<string, unknown>[] }).resource[0];
    assert.deepEqual([t.name, Array.isArray(t.field), t.access], ["book", true, 31]);
  } finally {
    await sb.close();
  }
});
