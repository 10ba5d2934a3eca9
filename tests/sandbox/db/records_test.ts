/**
 * Reads by id (`_table/t/1`, `?ids=`, records in the body) checked against df-sqldb's Table:
 * addToTransaction reads each id with runQuery (`where("id", 1)`, limit 1 unless the request sets
 * one), so `fields`, `order` and `group` apply and fail there, as that id's error; with
 * `continue`, several ids of a one-field key are batched and commitTransaction reads them with
 * one `whereIn` runQuery, whose failure is the read's and whose order is the answer's.
 */
import assert from "node:assert/strict";
import { type TestSandbox, withContactTable } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

/** A `contact` table (id, name, age) with three rows out of name order. */
function withContacts(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  return withContactTable(
    [{ name: "carol", age: 30 }, { name: "alice", age: 41 }, { name: "bob", age: 25 }],
    fn,
    { nameRequired: true },
  );
}

const enc = (s: string) => s.replace(/"/g, "&quot;");
const ALL = `select "id", "name", "age" from "contact"`;
const NO_COLUMN = "SQLSTATE[HY000]: General error: 1 no such column: nosuch";

/** A QueryException on its own: the short {code, message} shape. */
function query(message: string): Rec {
  return { code: "HY000", message: enc(message) };
}

/** DreamFactory's own exception as a body's or a batch entry's error object. */
function rest(status: number, message: string): Rec {
  return { code: status, context: null, message: enc(message), status_code: status };
}

/** retrieveRecordsByIds' batch error. */
function batch(error: number[], resource: unknown[]): Rec {
  return {
    error: {
      code: 1000,
      context: { error, resource },
      message: "Batch Error: Not all requested records could be retrieved.",
      status_code: 400,
    },
  };
}

const ids = (body: unknown) => (body as { resource: Rec[] }).resource.map((r) => r.id);

Deno.test("read by one id: fields, order and group go through runQuery and fail before the record is looked for", async () => {
  await withContacts(async (sb) => {
    // retrieveRecordById rethrows the id's own error (pickResponse(0)) as it is.
    const statement = (where: string, tail: string) =>
      `${NO_COLUMN} (SQL: ${ALL} where ${where} ${tail})`;
    for (
      const [path, status, error] of [
        [
          "db/_table/contact/1?order=name,nosuch",
          500,
          query(statement(`"id" = 1`, "order by name,nosuch limit 1 offset 0")),
        ],
        // The query fails before a missing id is noticed.
        [
          "db/_table/contact/99?order=name,nosuch",
          500,
          query(statement(`"id" = 99`, "order by name,nosuch limit 1 offset 0")),
        ],
        [
          "db/_table/contact/1?group=nosuch",
          500,
          query(statement(`"id" = 1`, "group by nosuch limit 1 offset 0")),
        ],
        // addToTransaction sets limit 1 only when the request has none.
        [
          "db/_table/contact/1?order=name,nosuch&limit=5",
          500,
          query(statement(`"id" = 1`, "order by name,nosuch limit 5 offset 0")),
        ],
        [
          "db/_table/contact/1?order=name%20sideways",
          500,
          { code: 500, message: enc('Order direction must be "asc" or "desc".') },
        ],
        ["db/_table/contact/99?fields=nosuch", 400, rest(400, "Invalid field requested: nosuch")],
      ] as const
    ) {
      const r = await sb.call("GET", path);
      assert.deepEqual(r, { status, body: { error } }, path);
    }
    // A known single sort term or group leaves the one record as it is.
    const ok = await sb.call("GET", "db/_table/contact/2?order=name%20desc&group=name");
    assert.deepEqual(ok.body, { id: 2, name: "alice", age: 41 });
  });
});

Deno.test("read by ids without continue: each id's runQuery fails as that id's batch error", async () => {
  await withContacts(async (sb) => {
    const order = await sb.call("GET", "db/_table/contact?ids=2,1&order=name,nosuch");
    assert.deepEqual(order, {
      status: 400,
      body: batch([0], [
        query(`${NO_COLUMN} (SQL: ${ALL} where "id" = 2 order by name,nosuch limit 1 offset 0)`),
      ]),
    });
    const fields = await sb.call("GET", "db/_table/contact?ids=2,1&fields=id,nosuch");
    assert.deepEqual(fields, {
      status: 400,
      body: batch([0], [rest(400, "Invalid field requested: nosuch")]),
    });
    // Records in the body are read by their ids the same way (retrieveRecords; a GET tunnelled
    // through POST, as fetch sends no GET body).
    const records = await sb.call("POST", "db/_table/contact?method=GET&fields=nosuch", [{
      id: 1,
    }]);
    assert.deepEqual(records.body, batch([0], [rest(400, "Invalid field requested: nosuch")]));
    // Each id is sorted on its own: the answer keeps the ids' order.
    const sorted = await sb.call("GET", "db/_table/contact?ids=2,3,1&order=name%20desc");
    assert.deepEqual(ids(sorted.body), [2, 3, 1]);
  });
});

Deno.test("read by ids batched by continue: one whereIn runQuery, its failure the read's, its order the answer's", async () => {
  await withContacts(async (sb) => {
    const base = "db/_table/contact?ids=1,2,3&continue=true";
    // commitTransaction's query runs outside the record loop: its error is answered as it is.
    const order = await sb.call("GET", `${base}&order=name,nosuch`);
    assert.deepEqual(order, {
      status: 500,
      body: {
        error: query(
          `${NO_COLUMN} (SQL: ${ALL} where "id" in (1, 2, 3) order by name,nosuch ` +
            "limit 1000 offset 0)",
        ),
      },
    });
    const fields = await sb.call("GET", `${base}&fields=nosuch`);
    assert.deepEqual(fields, {
      status: 400,
      body: { error: rest(400, "Invalid field requested: nosuch") },
    });
    // When every id is found, the records come in the query's order.
    const byName = await sb.call("GET", `${base}&order=name&fields=id,name`);
    assert.deepEqual(byName.body, {
      resource: [{ id: 2, name: "alice" }, { id: 3, name: "bob" }, { id: 1, name: "carol" }],
    });
    const byAge = await sb.call(
      "GET",
      "db/_table/contact?ids=3,1,2&continue=true&order=age%20desc",
    );
    assert.deepEqual(ids(byAge.body), [2, 1, 3]);
    // An unknown single term sorts by nothing: key order.
    const nothing = await sb.call("GET", "db/_table/contact?ids=3,1,2&continue=true&order=nosuch");
    assert.deepEqual(ids(nothing.body), [1, 2, 3]);
    // A by-id URL with commas: retrieveRecordById answers the first of them, and wraps a
    // failure of the batched query in its 500.
    const first = await sb.call("GET", "db/_table/contact/1,2,3?continue=true&order=name");
    assert.deepEqual(first.body, { id: 2, name: "alice", age: 41 });
    const wrapped = await sb.call("GET", "db/_table/contact/1,2?continue=true&order=name,nosuch");
    assert.deepEqual(wrapped, {
      status: 500,
      body: {
        error: rest(
          500,
          "Failed to retrieve records from 'contact'.\n" +
            `${NO_COLUMN} (SQL: ${ALL} where "id" in (1, 2) order by name,nosuch ` +
            "limit 1000 offset 0)",
        ),
      },
    });
  });
});
