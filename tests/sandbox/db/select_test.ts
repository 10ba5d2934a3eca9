/**
 * `fields` on db tables checked against df-sqldb's Table::parseSelect: only the table's columns
 * (matched case-insensitively), with or without `group`.
 */
import assert from "node:assert/strict";
import { sandbox } from "./http_helpers.ts";

Deno.test("fields: aggregates are no columns, so parseSelect refuses them (400), with or without group", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "sale",
        field: [
          { name: "id", type: "id" },
          { name: "region", type: "string" },
          { name: "amount", type: "integer" },
        ],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sb.call("POST", "db/_table/sale", {
      resource: [{ region: "n", amount: 1 }, { region: "s", amount: 2 }, {
        region: "n",
        amount: 3,
      }],
    });
    for (const field of ["COUNT(*)", "SUM(amount)", "max(id)", "COUNT_ALL", "SUM_amount"]) {
      for (const group of ["", "&group=region"]) {
        const got = await sb.call(
          "GET",
          `db/_table/sale?fields=region,${encodeURIComponent(field)}${group}`,
        );
        assert.deepEqual(got, {
          status: 400,
          body: {
            error: {
              code: 400,
              context: null,
              message: `Invalid field requested: ${field}`,
              status_code: 400,
            },
          },
        }, `${field}${group}`);
      }
    }
    // Grouping by a column works; the other columns are SQLite's bare values of the group.
    const grouped = await sb.call("GET", "db/_table/sale?fields=REGION&group=region&order=region");
    assert.deepEqual(grouped.body, { resource: [{ region: "n" }, { region: "s" }] });
  } finally {
    await sb.close();
  }
});

Deno.test("fields: only the whole value * is every column; a * or an empty name inside a list is refused as fieldsToArray splits it", async () => {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "pet",
        field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
      }],
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    await sb.call("POST", "db/_table/pet", { resource: [{ name: "rex" }] });
    const refused = (field: string) => ({
      status: 400,
      body: {
        error: {
          code: 400,
          context: null,
          message: `Invalid field requested: ${field}`,
          status_code: 400,
        },
      },
    });
    // explode(',', trim($fields, ',')), each item trimmed: "*" and "" are no columns.
    for (
      const [fields, bad] of [
        ["id,*", "*"],
        ["*,id", "*"],
        ["*,", "*"],
        ["id,,name", ""],
        ["id, ,name", ""],
        [",", ""],
      ]
    ) {
      const path = `db/_table/pet?fields=${encodeURIComponent(fields)}`;
      assert.deepEqual(await sb.call("GET", path), refused(bad), fields);
      // The same parseSelect runs for a read by id.
      const one = `db/_table/pet/1?fields=${encodeURIComponent(fields)}`;
      assert.deepEqual(await sb.call("GET", one), refused(bad), `${fields} by id`);
    }
    // Commas at the ends are trimmed before the split; spaces around names too.
    for (const fields of ["id,", ",id", ",,id,,", " id , "]) {
      const got = await sb.call("GET", `db/_table/pet?fields=${encodeURIComponent(fields)}`);
      assert.deepEqual(got, { status: 200, body: { resource: [{ id: 1 }] } }, fields);
    }
    const all = await sb.call("GET", "db/_table/pet?fields=*");
    assert.deepEqual(all.body, { resource: [{ id: 1, name: "rex" }] });
  } finally {
    await sb.close();
  }
});
