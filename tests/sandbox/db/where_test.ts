/**
 * Client filters on db tables that get past df-sqldb's parser but not past SQLite: the
 * QueryException of the query they go into, which Table::retrieveRecordsByFilter,
 * updateRecordsByFilter and deleteRecordsByFilter wrap in an InternalServerErrorException naming
 * the table (full envelope). DreamFactory's own 400s and PHP errors pass as they are.
 */
import assert from "node:assert/strict";
import { type TestSandbox, withContactTable } from "./http_helpers.ts";

type Rec = Record<string, unknown>;

/** A `contact` table (id, name, age) with three rows. */
function withContacts(fn: (sb: TestSandbox) => Promise<void>): Promise<void> {
  return withContactTable([{ name: "carol", age: 30 }, { name: "alice", age: 1 }, {
    name: "bob",
    age: 25,
  }], fn);
}

/** The wrapped 500 (htmlentities on the message). */
function wrapped(what: string, message: string): Rec {
  return {
    error: {
      code: 500,
      context: null,
      message: `${what}\n${message}`.replace(/"/g, "&quot;"),
      status_code: 500,
    },
  };
}

const INCOMPLETE = "SQLSTATE[HY000]: General error: 1 incomplete input";
const XOR = 'SQLSTATE[HY000]: General error: 1 near "XOR": syntax error';
const retrieve = "Failed to retrieve records from 'contact'.";

Deno.test("a filter SQLite refuses is wrapped by retrieveRecordsByFilter (also for count_only)", async () => {
  await withContacts(async (sb) => {
    const open = encodeURIComponent("(age = 1");
    const xor = encodeURIComponent("(age = 1) xor (age = 2)");
    for (
      const [path, message] of [
        [`db/_table/contact?filter=${open}`, INCOMPLETE],
        [`db/_table/contact?filter=${open}&limit=2&fields=id`, INCOMPLETE],
        [`db/_table/contact?filter=${open}&count_only=true`, INCOMPLETE],
        [`db/_table/contact?filter=${xor}`, XOR],
      ]
    ) {
      const r = await sb.call("GET", path);
      assert.deepEqual(r, { status: 500, body: wrapped(retrieve, message) }, path);
    }
    // DreamFactory's own 400 and a PHP error (Laravel's bare 500) are not wrapped.
    const unknown = await sb.call("GET", "db/_table/contact?filter=nosuch%3D1");
    assert.deepEqual(unknown.body, {
      error: {
        code: 400,
        context: null,
        message: "Invalid or unparsable field in filter request: 'nosuch'",
        status_code: 400,
      },
    });
    const empty = await sb.call("GET", "db/_table/contact?filter=()");
    assert.deepEqual(empty, { status: 500, body: { message: "Server Error" } });
  });
});

Deno.test("writes by filter SQLite refuses are wrapped by updateRecordsByFilter / deleteRecordsByFilter and change nothing", async () => {
  await withContacts(async (sb) => {
    const open = encodeURIComponent("(age = 1");
    const patched = await sb.call("PATCH", `db/_table/contact?filter=${open}`, {
      resource: [{ name: "x" }],
    });
    assert.deepEqual(patched, {
      status: 500,
      body: wrapped("Failed to update records in 'contact'.", INCOMPLETE),
    });
    const deleted = await sb.call("DELETE", `db/_table/contact?filter=${open}`);
    assert.deepEqual(deleted, {
      status: 500,
      body: wrapped("Failed to delete records from 'contact'.", INCOMPLETE),
    });
    const all = await sb.call("GET", "db/_table/contact?fields=name");
    assert.deepEqual(all.body, {
      resource: [{ name: "carol" }, { name: "alice" }, { name: "bob" }],
    });
  });
});
