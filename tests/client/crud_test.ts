import { assert, assertEquals, assertRejects, assertStringIncludes } from "./assert.ts";
import { DreamFactoryBatchError, DreamFactoryError, type HttpExchange } from "./dfkit.ts";
import { makeUsers, setup } from "./helpers.ts";

const line = (ex: HttpExchange) => {
  const u = new URL(ex.url);
  return `${ex.method} ${u.pathname}${decodeURIComponent(u.search)}`;
};

Deno.test("create() wraps records in `resource` and returns ids or the fields asked for", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const [one] = await df.system.role.create({ name: "solo", is_active: true });
  assert(typeof one.id === "number");
  assertEquals(Object.keys(one), ["id"]);
  assertEquals(JSON.parse(exchanges.at(-1)!.requestBody!), {
    resource: [{ name: "solo", is_active: true }],
  });
  const full = await df.system.role.create(
    [{
      name: "reader",
      is_active: true,
      role_service_access_by_role_id: [{
        service_id: 2,
        component: "_table/*",
        verb_mask: 1,
        requestor_mask: 1,
      }],
    }],
    { fields: "*", related: ["role_service_access_by_role_id"] },
  );
  assertEquals(full[0].name, "reader");
  assertEquals(full[0].role_service_access_by_role_id?.[0].component, "_table/*");
  assertEquals(
    line(exchanges.at(-1)!),
    "POST /api/v2/system/role?fields=*&related=role_service_access_by_role_id",
  );
  assertEquals(await df.system.role.create([]), []);
});

Deno.test("update(), replace() and delete() by ids, by records, and by filter", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const ids = await makeUsers(df, 4);
  const patched = await df.system.user.ids(ids[0], ids[1]).update({ phone: "555" }, {
    fields: ["id", "phone"],
  });
  assertEquals(patched.map((r) => [r.id, r.phone]), [[ids[0], "555"], [ids[1], "555"]]);
  assertEquals(
    line(exchanges.at(-1)!),
    `PATCH /api/v2/system/user?ids=${ids[0]},${ids[1]}&fields=id,phone`,
  );
  assertEquals(JSON.parse(exchanges.at(-1)!.requestBody!), { resource: [{ phone: "555" }] });

  const bulk = await df.system.user.update(
    [{ id: ids[2], phone: "1" }, { id: ids[3], phone: "2" }],
    {
      fields: "id,phone",
    },
  );
  assertEquals(bulk.map((r) => r.phone), ["1", "2"]);
  await assertRejects(() => df.system.user.update([{ phone: "x" }]), TypeError, "record #0");

  const replaced = await df.system.user.ids(ids[2]).replace({ first_name: "Ann" }, { fields: "*" });
  assertEquals(replaced[0].first_name, "Ann");
  assertEquals(exchanges.at(-1)!.method, "PUT");

  // system resources cannot write by filter: the client resolves the ids first
  exchanges.length = 0;
  const gone = await df.system.user.where("phone", "=", "555").delete();
  assertEquals(gone.map((r) => r.id).sort(), [ids[0], ids[1]].sort());
  assertEquals(exchanges.map((e) => e.method), ["GET", "DELETE"]);
  assertStringIncludes(line(exchanges[1]), `ids=${ids[0]},${ids[1]}`);
  assertEquals(await df.system.user.where("phone", "=", "555").delete(), []);

  const deleted = await df.system.user.ids(ids[3]).delete({ fields: ["id", "email"] });
  assertEquals(deleted.map((r) => ({ ...r })), [{
    id: ids[3],
    email: "u03@example.com",
    ...pick(deleted[0]),
  }] as unknown[]);
  const err = await assertRejects(() => df.system.user.get(ids[3]), DreamFactoryError);
  assertEquals(err.status, 404);
  await assertRejects(() => df.system.user.delete(), TypeError, "force");
  await assertRejects(() => df.system.user.limit(1).where("id", ">", 0).delete(), TypeError);
  await assertRejects(() => df.system.service_type.create({ name: "x" }), TypeError, "read-only");
});

// `confirmed`/`expired` are appended by DreamFactory to user records whatever `fields` says.
function pick(r: Record<string, unknown>) {
  const out: Record<string, unknown> = {};
  for (const k of ["confirmed", "expired"]) if (k in r) out[k] = r[k];
  return out;
}

Deno.test("database tables update and delete by filter on the server", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const db = df.db("db");
  await db.schema.create({
    name: "todo",
    field: [{ name: "id", type: "id" }, { name: "title", type: "string" }, {
      name: "done",
      type: "boolean",
      default: false,
    }],
  });
  const todo = db.table<{ id: number; title: string; done: boolean }>("todo");
  await todo.create([{ title: "a" }, { title: "b" }, { title: "c" }]);
  const done = await todo.where("title", "in", ["a", "b"]).update({ done: true }, {
    fields: ["id", "done"],
  });
  assertEquals(done.map((r) => r.done), [true, true]);
  assertStringIncludes(line(exchanges.at(-1)!), "PATCH /api/v2/db/_table/todo?filter=");
  const removed = await todo.where("done", "=", true).delete();
  assertEquals(removed.length, 2);
  assertEquals((await todo).map((r) => r.title), ["c"]);
  await assertRejects(
    () => todo.create([{ title: "x" }], { continue: true, rollback: true }),
    TypeError,
    "continue and rollback",
  );
  const emptied = await todo.delete({ force: true });
  assertEquals(emptied, []);
  assertEquals(await todo.count(), 0);
});

Deno.test("delete by filter removes every match, past the server's per-request cap", async () => {
  // DreamFactory deletes one capped page of matches per filtered DELETE (meta.next says more).
  await using fx = await setup({ maxRecords: 100 });
  const { df, exchanges } = fx;
  await df.db("db").schema.create({
    name: "n",
    field: [{ name: "id", type: "id" }, { name: "odd", type: "boolean" }],
  });
  const n = df.db("db").table<{ id: number; odd: boolean }>("n");
  await n.create(Array.from({ length: 450 }, (_, i) => ({ odd: i % 2 === 1 })));
  const before = exchanges.length;
  const removed = await n.where("odd", "=", true).delete();
  assertEquals(removed.length, 225);
  assertEquals(new Set(removed.map((r) => r.id)).size, 225);
  assertEquals(await n.where("odd", "=", true).count(), 0);
  assertEquals(await n.count(), 225, "the other records stay");
  assertEquals(exchanges.slice(before).filter((e) => e.method === "DELETE").length, 3);
});

const batch = [
  { name: "Carl", email: "carl@example.com" },
  { name: "Dup", email: "jane@example.com" },
  { name: "Dora", email: "dora@example.com" },
];

Deno.test("a failed batch says which records succeeded, failed and were not attempted", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.user.create({ name: "Jane", email: "jane@example.com" });
  const err = await assertRejects(() => df.system.user.create(batch), DreamFactoryBatchError);
  assertEquals(err.status, 400);
  assertEquals(err.code, 1000);
  assertEquals(err.failed.map((f) => f.index), [1]);
  assert(err.failed[0].error instanceof DreamFactoryError);
  assert(err.failed[0].error.message.length > 0);
  assertEquals(err.succeeded.map((s) => s.index), [0]);
  assert(typeof err.succeeded[0].record.id === "number");
  assertEquals(err.skipped, [2]);
  assertEquals(err.rolledBack, false);
  assertStringIncludes(Deno.inspect(err), "#1 failed");
  const emails = (await df.system.user.fields("email")).map((u) => u.email).sort();
  assertEquals(emails, ["carl@example.com", "jane@example.com"]);
});

Deno.test("a batch error's message (all an uncaught one shows) says which records failed and why", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.user.create({ name: "Jane", email: "jane@example.com" });
  const err = await assertRejects(() => df.system.user.create(batch), DreamFactoryBatchError);
  const reason = err.failed[0].error.message;
  assertEquals(err.batchMessage, "Batch Error: Not all requested records could be created.");
  assertEquals(
    err.message,
    `${err.batchMessage} (1 failed, 1 succeeded, 1 not attempted)\n  #1 failed: ${reason}`,
  );
  assertStringIncludes(String(err), `#1 failed: ${reason}`);
  // The one-line summary and the full listing do not repeat it.
  assertEquals(err.summary, `400 on POST /api/v2/system/user: ${err.batchMessage}`);
  assertEquals(Deno.inspect(err).split("#1 failed").length - 1, 1);
  const whole = err.rebased(10, 3, 13);
  assertEquals(whole.batchMessage, err.batchMessage);
  assertEquals(
    whole.message,
    `${err.batchMessage} (1 failed, 1 succeeded, 1 not attempted)\n  #11 failed: ${reason}`,
  );
});

Deno.test("a batch error's message names the first three failures and counts the rest", () => {
  const failure = (index: number) => ({
    index,
    error: new DreamFactoryError({
      status: 400,
      code: 400,
      message: `bad\n  record ${index}${index === 4 ? " " + "x".repeat(300) : ""}`,
      method: "POST",
      path: "/api/v2/db/_table/t",
    }),
  });
  const err = new DreamFactoryBatchError({
    status: 400,
    code: 1000,
    message: "Batch Error: Not all requested records could be created.",
    method: "POST",
    path: "/api/v2/db/_table/t",
    succeeded: [],
    failed: [1, 2, 4, 5, 6].map(failure),
    rolledBack: true,
  });
  const lines = err.message.split("\n");
  assertEquals(lines.slice(0, 3), [
    "Batch Error: Not all requested records could be created. (5 failed)",
    "  #1 failed: bad record 1",
    "  #2 failed: bad record 2",
  ]);
  assert(lines[3].startsWith("  #4 failed: bad record 4 xxx") && lines[3].endsWith("x…"), lines[3]);
  assertEquals(lines.slice(4), ["  … and 2 more failed"]);
});

Deno.test("continue: every record is attempted; the failures are still listed", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.user.create({ name: "Jane", email: "jane@example.com" });
  const err = await assertRejects(
    () => df.system.user.create(batch, { continue: true }),
    DreamFactoryBatchError,
  );
  assertEquals(err.succeeded.map((s) => s.index), [0, 2]);
  assertEquals(err.failed.map((f) => f.index), [1]);
  assertEquals(err.skipped, []);
  assertEquals(err.rolledBack, false);
  assertEquals(await df.system.user.count(), 3);
});

Deno.test("rollback: the server undoes the batch and the error says so", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.user.create({ name: "Jane", email: "jane@example.com" });
  const err = await assertRejects(
    () => df.system.user.create(batch, { rollback: true }),
    DreamFactoryBatchError,
  );
  assertEquals(err.rolledBack, true);
  assertEquals(err.failed.map((f) => f.index), [1]);
  assert(err.succeeded.length > 0 && err.succeeded.every((s) => s.rolledBack === true));
  assertEquals(await df.system.user.count(), 1);
  assertStringIncludes(Deno.inspect(err), "rolled back");
  // As a later chunk of a bigger call: the earlier chunk's records stay written.
  const whole = err.rebased(2, batch.length, batch.length + 2, [
    { index: 0, record: { id: 7 } },
    { index: 1, record: { id: 8 } },
  ]);
  assertEquals(
    whole.succeeded.map((s) => [s.index, s.rolledBack ?? false]),
    [[0, false], [1, false], ...err.succeeded.map((s) => [s.index + 2, true])],
  );
  assertStringIncludes(whole.message, "(1 failed, 2 succeeded, ");
  assertStringIncludes(Deno.inspect(whole), "#0 succeeded (id 7)");
});

Deno.test("reading missing ids is a batch error naming the missing index", async () => {
  await using fx = await setup();
  const { df } = fx;
  const [id] = await makeUsers(df, 1);
  const err = await assertRejects(() => df.system.user.ids(id, 99999), DreamFactoryBatchError);
  assertEquals(err.failed.map((f) => [f.index, f.error.status]), [[1, 404]]);
});

Deno.test("df.request() is the low-level escape hatch", async () => {
  await using fx = await setup();
  const { df } = fx;
  const body = await df.request<{ resource: { name: string }[] }>("GET", "system/role", {
    query: { fields: "name" },
  });
  assertEquals(body, { resource: [] });
  const created = await df.request<{ resource: { id: number }[] }>("POST", "/system/role", {
    body: { resource: [{ name: "r1" }] },
  });
  assertEquals(created.resource.length, 1);
  const err = await assertRejects(
    () => df.request("POST", "system/role", { body: { name: "bare" } }),
    DreamFactoryError,
  );
  assertStringIncludes(err.message, `{"resource":[{"record":1}`); // entities decoded
  // raw(): the same call, with the status and headers too (lower-case "get" works as well)
  const raw = await df.raw("get", "system/role", { query: { fields: "name" } });
  assertEquals(raw.status, 200);
  assertStringIncludes(raw.headers.get("content-type") ?? "", "application/json");
  assertEquals(raw.body, { resource: [{ name: "r1" }] });
});

Deno.test("schema: list, get, create, update (PATCH adds fields), drop", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const schema = df.db("db").schema;
  assertEquals(await schema.list(), []);
  assertEquals(
    await schema.create({
      name: "item",
      field: [{ name: "id", type: "id" }, { name: "sku", type: "string" }],
    }),
    [{ name: "item" }],
  );
  await schema.update({ name: "item", field: [{ name: "qty", type: "integer" }] });
  assertEquals(line(exchanges.at(-1)!), "PATCH /api/v2/db/_schema");
  assertEquals((await schema.get("item")).field?.map((f) => f.name), ["id", "sku", "qty"]);
  await df.db("db").table("item").create({ sku: "A-1", qty: 2 });
  await schema.drop("item");
  assertEquals(await schema.list(), []);
  const err = await assertRejects(() => schema.get("item"), DreamFactoryError);
  assertEquals(err.status, 404);
});

Deno.test("validation details stay readable in errors; submitted secrets do not leak", async () => {
  await using fx = await setup();
  const { df } = fx;
  const secret = "Secret-Passw0rd-1234567";
  await df.system.user.create({ name: "Pat", email: "pat@example.com" });
  const err = await assertRejects(
    () => df.system.user.create({ name: "Pat2", email: "pat@example.com", password: secret }),
    DreamFactoryBatchError,
  );
  const ctx = err.failed[0].error.context as Record<string, string[]>;
  assert(Array.isArray(ctx.username), JSON.stringify(ctx));
  assertStringIncludes(ctx.username[0], "taken");
  assert(!Deno.inspect(err).includes(secret) && !JSON.stringify(err).includes(secret));
});

Deno.test("long id lists: reads are split, writes carry the ids in the body", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const ids = await makeUsers(df, 130, "bulk");
  exchanges.length = 0;
  const read = await df.system.user.ids(ids).fields("id");
  assertEquals(read.map((r) => r.id), ids);
  assertEquals(exchanges.map((e) => e.method), ["GET", "GET"]);
  exchanges.length = 0;
  const patched = await df.system.user.ids(ids).update({ phone: "777" }, { fields: "id,phone" });
  assertEquals(patched.map((r) => r.phone), Array(130).fill("777"));
  assertEquals(exchanges.length, 1);
  assert(!exchanges[0].url.includes("ids="), "ids not in the URL");
  exchanges.length = 0;
  const deleted = await df.system.user.where("phone", "=", "777").delete();
  assertEquals(deleted.length, 130);
  assertEquals(exchanges.map((e) => e.method), ["GET", "DELETE"]);
  assertEquals(JSON.parse(exchanges[1].requestBody!).resource.length, 130);
  assertEquals(await df.system.user.count(), 0);
});

Deno.test("writes by .ids() touch what a read returns: .offset()/.limit() narrow them", async () => {
  await using fx = await setup();
  const { df } = fx;
  const ids = await makeUsers(df, 4);
  const q = df.system.user.ids(ids).offset(1).limit(2);
  assertEquals((await q.fields("id")).map((u) => u.id), [ids[1], ids[2]]);
  assertEquals((await q.update({ phone: "555" })).map((u) => u.id), [ids[1], ids[2]]);
  assertEquals((await df.system.user.ids(ids).fields("phone")).map((u) => u.phone ?? null), [
    null,
    "555",
    "555",
    null,
  ]);
  assertEquals((await q.delete()).map((u) => u.id), [ids[1], ids[2]]);
  assertEquals((await df.system.user.fields("id")).map((u) => u.id), [ids[0], ids[3]]);
  assertEquals(await df.system.user.ids(ids).offset(9).delete(), []);
});

Deno.test("over 100 ids, tables whose key is not `id` are updated and deleted by key", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const db = df.db("db");
  await db.schema.create({
    name: "sku",
    field: [
      { name: "code", type: "string", is_primary_key: true, allow_null: false },
      { name: "qty", type: "integer" },
    ],
  });
  const t = db.table<{ code: string; qty: number }>("sku");
  const codes = Array.from({ length: 101 }, (_, i) => `c${i}`);
  await t.create(codes.map((code) => ({ code, qty: 1 })));
  assertEquals((await t.ids(codes).update({ qty: 3 })).length, 101);
  assertEquals(JSON.parse(exchanges.at(-1)!.requestBody!).ids.split(",").length, 101);
  assertEquals(new Set((await t.fields("qty")).map((r) => r.qty)), new Set([3]));
  assertEquals((await t.ids(codes).delete()).length, 101);
  assertEquals(await t.count(), 0);
});

Deno.test("a record refused with a SQLSTATE code keeps an HTTP status (the batch's)", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.system.role.create({ name: "readers" });
  const err = await assertRejects(
    () => df.system.role.create([{ name: "ok" }, { name: "readers" }], { continue: true }),
    DreamFactoryBatchError,
  );
  assertEquals(err.failed.map((f) => f.index), [1]);
  assertEquals(String(err.failed[0].error.code), "23000");
  assertEquals(err.failed[0].error.status, err.status);
  assert(err.status >= 400 && err.status <= 599, String(err.status));
});

Deno.test("schema create/update of several tables throws when some fail, listing each", async () => {
  await using fx = await setup();
  const { df } = fx;
  const schema = df.db("db").schema;
  const err = await assertRejects(
    () =>
      schema.create([
        { name: "good", field: [{ name: "id", type: "id" }] },
        // Neither type nor db_type: Schema::getColumnType's exception (an unknown type name is
        // passed through to SQLite, so it would not fail).
        { name: "bad", field: [{ name: "x" }] },
      ]),
    DreamFactoryBatchError,
  );
  assertEquals(err.succeeded.map((s) => [s.index, (s.record as { name: string }).name]), [
    [0, "good"],
  ]);
  assertEquals(err.failed.map((f) => f.index), [1]);
  assertStringIncludes(err.failed[0].error.message, "no type or db_type");
  assertEquals(await schema.list(), ["good"]);
  await schema.update([{ name: "good", field: [{ name: "n", type: "integer" }] }]);
});
