/**
 * Schema and data copy between database services of two live sandboxes: FK order, idempotent
 * schema copy, batched concurrent data copy with verification, resume after an interruption.
 */
import assert from "node:assert/strict";
import { connect, type DreamFactory } from "../../lib/client.ts";
import { startSandbox } from "../../lib/sandbox/mod.ts";
import {
  copyData,
  CopyDataError,
  copySchema,
  type TableRef,
  verifyCopy,
} from "../../lib/migrate/mod.ts";

type Rec = Record<string, unknown>;

/** A source and a target sandbox with their admins connected, and a temporary folder; all
 * closed and removed on dispose. */
async function sourceAndTarget(options: { maxRecords?: number } = {}) {
  const a = await startSandbox({ port: 0, ...options });
  const b = await startSandbox({ port: 0, ...options });
  const src = await connect({ url: a.url, ...a.admin });
  const dst = await connect({ url: b.url, ...b.admin });
  const dir = await Deno.makeTempDir();
  return {
    src,
    dst,
    dir,
    /** The target's admin login (to connect another client, e.g. through a proxy). */
    dstAdmin: b.admin,
    async [Symbol.asyncDispose]() {
      await Deno.remove(dir, { recursive: true });
      await src.logout();
      await dst.logout();
      await a.close();
      await b.close();
    },
  };
}

async function seed(df: DreamFactory, rows: number) {
  await df.request("POST", "db/_schema", {
    body: {
      resource: [
        {
          name: "order_line",
          field: [
            { name: "id", type: "id" },
            {
              name: "order_id",
              type: "reference",
              ref_table: "purchase",
              ref_field: "id",
              allow_null: false,
            },
            { name: "sku", type: "string", length: 32 },
            { name: "qty", type: "integer" },
          ],
        },
        {
          name: "customer",
          label: "Customer",
          field: [
            { name: "id", type: "id" },
            { name: "name", type: "string", length: 100, allow_null: false },
            { name: "vip", type: "boolean", default: false },
            { name: "balance", type: "double" },
          ],
        },
        {
          name: "purchase",
          field: [
            { name: "id", type: "id" },
            { name: "customer_id", type: "reference", ref_table: "customer", ref_field: "id" },
            { name: "note", type: "text", allow_null: true },
          ],
        },
      ],
    },
  });
  const customers: Rec[] = [];
  for (let i = 1; i <= rows; i++) {
    customers.push({ id: i, name: `Customer ${i} 'quoted'`, vip: i % 3 === 0, balance: i * 1.5 });
  }
  await df.request("POST", "db/_table/customer", { body: { resource: customers } });
  await df.request("POST", "db/_table/purchase", {
    body: {
      resource: [{ id: 1, customer_id: rows, note: "first" }, {
        id: 2,
        customer_id: rows,
        note: null,
      }],
    },
  });
}

Deno.test("copySchema creates tables in foreign-key order, adds missing fields, never drops", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  const src = await connect({ url: a.url, ...a.admin });
  const dst = await connect({ url: b.url, ...b.admin });
  try {
    await seed(src, 3);
    // The target already has `customer`, without `balance`, and an extra column.
    await dst.request("POST", "db/_schema", {
      body: {
        resource: [{
          name: "customer",
          field: [{ name: "id", type: "id" }, { name: "name", type: "string", length: 100 }, {
            name: "legacy",
            type: "string",
          }],
        }],
      },
    });
    const dry = await copySchema(src, "db", dst, "db", undefined, { dryRun: true });
    assert.deepEqual(dry.createdTables, ["purchase", "order_line"]);
    assert.deepEqual(dry.addedFields, { customer: ["vip", "balance"] });
    assert.deepEqual(await dst.db("db").schema.list(), ["customer"]);

    const r = await copySchema(src, "db", dst, "db");
    assert.deepEqual(r.createdTables, ["purchase", "order_line"]);
    assert.deepEqual(r.droppedFields, {});
    const line = await dst.db("db").schema.get("order_line");
    const fk = (line.field as Rec[]).find((f) => f.name === "order_id")!;
    assert.equal(fk.ref_table, "purchase");
    const customer = await dst.db("db").schema.get("customer");
    assert.deepEqual((customer.field as Rec[]).map((f) => f.name).sort(), [
      "balance",
      "id",
      "legacy",
      "name",
      "vip",
    ]);
    // Idempotent: a second copy has nothing to do.
    const again = await copySchema(src, "db", dst, "db");
    assert.deepEqual([again.createdTables, again.addedFields], [[], {}]);
    // prune drops what the source lacks.
    const pruned = await copySchema(src, "db", dst, "db", ["customer"], { prune: true });
    assert.deepEqual(pruned.droppedFields, { customer: ["legacy"] });
    await assert.rejects(copySchema(src, "db", dst, "db", ["nope"]), /nope not found in source/);
  } finally {
    await src.logout();
    await dst.logout();
    await a.close();
    await b.close();
  }
});

async function interruptedCopy(from: TableRef, to: TableRef, checkpoint: string, atRows: number) {
  const stop = new AbortController();
  await assert.rejects(
    copyData(from, to, {
      batchSize: 20,
      concurrency: 3,
      checkpoint,
      signal: stop.signal,
      onProgress: (p) => {
        if (p.rows >= atRows) stop.abort();
      },
    }),
    (e: unknown) => e instanceof CopyDataError && /resume from there/.test(e.message),
  );
  return JSON.parse(await Deno.readTextFile(checkpoint));
}

Deno.test("copyData streams batches concurrently, verifies, and resumes after an interruption", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await seed(src, 250);
  // Source keys start at 11, so the target's own auto-increment keys differ from them.
  await src.request("DELETE", "db/_table/customer", { query: { filter: "id <= 10" } });
  await copySchema(src, "db", dst, "db");
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  const checkpoint = `${dir}/customer.ckpt.json`;

  const saved = await interruptedCopy(from, to, checkpoint, 60);
  assert.ok(saved.rows >= 60 && saved.rows % 20 === 0, JSON.stringify(saved));
  assert.equal(saved.lastKey, saved.rows + 10);

  const progress: number[] = [];
  const r = await copyData(from, to, {
    batchSize: 20,
    concurrency: 3,
    checkpoint,
    onProgress: (p) => void progress.push(p.rows),
  });
  assert.equal(r.resumedAfter, saved.lastKey);
  assert.equal(r.keysPreserved, false);
  assert.equal(r.totalRows, 240);
  assert.deepEqual(progress, [...progress].sort((x, y) => x - y));
  assert.equal(progress.at(-1), 240);
  assert.equal(r.verification?.ok, true, JSON.stringify(r.verification));
  assert.equal(r.verification?.targetCount, 240);
  await assert.rejects(Deno.stat(checkpoint), Deno.errors.NotFound);
  const rows = await dst.request<{ resource: Rec[] }>("GET", "db/_table/customer", {
    query: { filter: "balance = 148.5" },
  });
  assert.deepEqual(rows.resource.map(({ id: _, ...rest }) => rest), [
    { name: "Customer 99 'quoted'", vip: true, balance: 148.5 },
  ]);

  // The checksum catches a difference the row count does not.
  assert.equal((await verifyCopy(from, to)).ok, true);
  await dst.request("PATCH", `db/_table/customer/${rows.resource[0].id}`, {
    body: { name: "x" },
  });
  const v = await verifyCopy(from, to);
  assert.equal(v.ok, false);
  assert.equal(v.sourceCount, v.targetCount);
  assert.notEqual(v.sourceChecksum, v.targetChecksum);
});

Deno.test("copyData: a checkpoint it cannot read or write is one sentence naming it", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await seed(src, 30);
  await copySchema(src, "db", dst, "db", ["customer"]);
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  // A folder given as the checkpoint: not taken for "no checkpoint yet".
  await assert.rejects(copyData(from, to, { batchSize: 20, checkpoint: dir }), {
    message: `cannot read checkpoint ${dir}: it is a folder`,
  });
  // A checkpoint in a folder that does not exist (none yet is a fresh copy, as usual).
  const nowhere = `${dir}/nonexistent/c.json`;
  await assert.rejects(copyData(from, to, { batchSize: 20, checkpoint: nowhere }), {
    message: `cannot write checkpoint ${nowhere}: the folder ${dir}/nonexistent does not ` +
      "exist (create it first)",
  });
  // Said before any row is copied, not after the whole copy ran.
  const copied = await dst.request<number>("GET", "db/_table/customer", {
    query: { count_only: true },
  });
  assert.equal(copied, 0);
  // A folder where the checkpoint is written before it replaces the last one.
  await Deno.mkdir(`${dir}/c.json.tmp`);
  await assert.rejects(copyData(from, to, { batchSize: 20, checkpoint: `${dir}/c.json` }), {
    message: `cannot write checkpoint ${dir}/c.json.tmp: it is a folder`,
  });
});

Deno.test("copyData keeps non-auto keys, resumes by re-copying what followed the checkpoint", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await src.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "product",
        field: [
          { name: "sku", type: "string", length: 20, is_primary_key: true, allow_null: false },
          { name: "title", type: "string", allow_null: true },
        ],
      }],
    },
  });
  const products = Array.from({ length: 150 }, (_, i) => ({
    sku: `P-${String(i).padStart(4, "0")}`,
    title: i % 10 ? `Product ${i}` : null,
  }));
  await src.request("POST", "db/_table/product", { body: { resource: products } });
  await copySchema(src, "db", dst, "db", ["product"]);
  const from = { df: src, db: "db", table: "product" };
  const to = { df: dst, db: "db", table: "product" };
  const saved = await interruptedCopy(from, to, `${dir}/p.json`, 40);
  assert.match(saved.lastKey, /^P-\d{4}$/);
  const r = await copyData(from, to, {
    batchSize: 20,
    concurrency: 3,
    checkpoint: `${dir}/p.json`,
  });
  assert.equal(r.keysPreserved, true);
  assert.equal(r.verification?.ok, true, JSON.stringify(r.verification));
  assert.deepEqual(await dst.request("GET", "db/_table/product/P-0010"), {
    sku: "P-0010",
    title: null,
  });
});

Deno.test("copyData translates foreign keys with the key map of the parent table", async () => {
  const a = await startSandbox({ port: 0 });
  const b = await startSandbox({ port: 0 });
  const src = await connect({ url: a.url, ...a.admin });
  const dst = await connect({ url: b.url, ...b.admin });
  try {
    await seed(src, 5);
    await src.request("DELETE", "db/_table/customer", { query: { filter: "id = 1" } });
    await copySchema(src, "db", dst, "db");
    await dst.request("POST", "db/_table/customer", {
      body: { resource: [1, 2, 3].map((i) => ({ name: `prod ${i}`, balance: 0 })) },
    });
    const customers = new Map<string | number, string | number>();
    await copyData({ df: src, db: "db", table: "customer" }, {
      df: dst,
      db: "db",
      table: "customer",
    }, {
      keyMap: customers,
      verify: false,
    });
    assert.equal(customers.size, 4);
    assert.equal(customers.get(5), 7);
    await copyData({ df: src, db: "db", table: "purchase" }, {
      df: dst,
      db: "db",
      table: "purchase",
    }, {
      remap: { customer_id: customers },
    });
    const purchase = await dst.request<{ resource: Rec[] }>("GET", "db/_table/purchase", {
      query: { related: "customer_by_customer_id" },
    });
    assert.deepEqual(
      purchase.resource.map((p) => (p.customer_by_customer_id as Rec).name),
      ["Customer 5 'quoted'", "Customer 5 'quoted'"],
    );
  } finally {
    await src.logout();
    await dst.logout();
    await a.close();
    await b.close();
  }
});

Deno.test("a copy resumed in a fresh call knows the key pairs of the batches committed before", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await seed(src, 150);
  await src.request("DELETE", "db/_table/customer", { query: { filter: "id <= 10" } });
  await copySchema(src, "db", dst, "db");
  // Rows of the target's own: its new ids differ from the source's.
  await dst.request("POST", "db/_table/customer", {
    body: { resource: [1, 2, 3, 4, 5, 6, 7].map((i) => ({ name: `own ${i}`, balance: 0 })) },
  });
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  const checkpoint = `${dir}/customer.ckpt.json`;
  const saved = await interruptedCopy(from, to, checkpoint, 40);
  assert.ok(saved.rows >= 40 && saved.rows < 140, JSON.stringify(saved));

  const keyMap = new Map<string | number, string | number>();
  // (Not verified: the target's own rows are not the source's.)
  const r = await copyData(from, to, {
    batchSize: 20,
    concurrency: 3,
    checkpoint,
    keyMap,
    verify: false,
  });
  assert.equal(r.resumedAfter, saved.lastKey);
  assert.equal(r.totalRows, 140);
  // Every source row, the ones the stopped run copied included, maps to its copy.
  const names = async (df: DreamFactory) =>
    new Map(
      (await df.request<{ resource: Rec[] }>("GET", "db/_table/customer", {
        query: { fields: "id,name" },
      })).resource.map((row) => [row.name, row.id]),
    );
  const [srcIds, dstIds] = [await names(src), await names(dst)];
  const expected = new Map([...srcIds].map(([name, id]) => [id, dstIds.get(name)]));
  assert.equal(keyMap.size, 140);
  assert.deepEqual(keyMap, expected);
  assert.notEqual(keyMap.get(11), 11);
  // The pairs file goes with the checkpoint.
  await assert.rejects(Deno.stat(checkpoint), Deno.errors.NotFound);
  await assert.rejects(Deno.stat(`${checkpoint}.keys.jsonl`), Deno.errors.NotFound);
});

Deno.test("resuming with a keyMap refuses when the key pairs beside the checkpoint are gone", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await seed(src, 100);
  await copySchema(src, "db", dst, "db");
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  const checkpoint = `${dir}/c.json`;
  await interruptedCopy(from, to, checkpoint, 40);
  await Deno.remove(`${checkpoint}.keys.jsonl`);
  await assert.rejects(
    copyData(from, to, { batchSize: 20, checkpoint, keyMap: new Map() }),
    { message: new RegExp(`c\\.json\\.keys\\.jsonl lacks the key pairs .* incomplete`) },
  );
  // Without a key map to fill, the copy resumes as before.
  const r = await copyData(from, to, { batchSize: 20, checkpoint });
  assert.equal(r.verification?.ok, true, JSON.stringify(r.verification));
});

Deno.test("copyData reads past short pages (a server cap under the batch size)", async () => {
  await using sandboxes = await sourceAndTarget({ maxRecords: 7 });
  const { src, dst } = sandboxes;
  await seed(src, 30);
  await copySchema(src, "db", dst, "db");
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  const r = await copyData(from, to, { batchSize: 20 });
  assert.equal(r.totalRows, 30);
  assert.equal(r.verification?.ok, true, JSON.stringify(r.verification));
  assert.equal(r.verification?.targetCount, 30);
});

Deno.test("resuming a copy removes only rows the stopped run may have sent", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  const product = {
    name: "product",
    field: [
      { name: "sku", type: "string", length: 20, is_primary_key: true, allow_null: false },
      { name: "title", type: "string", allow_null: true },
    ],
  };
  await src.request("POST", "db/_schema", { body: { resource: [product] } });
  const products = Array.from({ length: 120 }, (_, i) => ({
    sku: `P-${String(i).padStart(4, "0")}`,
    title: `Product ${i}`,
  }));
  await src.request("POST", "db/_table/product", { body: { resource: products } });
  await copySchema(src, "db", dst, "db", ["product"]);
  const from = { df: src, db: "db", table: "product" };
  const to = { df: dst, db: "db", table: "product" };
  const checkpoint = `${dir}/p.json`;
  const saved = await interruptedCopy(from, to, checkpoint, 40);
  assert.ok(saved.sent >= saved.lastKey, JSON.stringify(saved));
  // As if the stopped run's last batch had landed, and the target has rows of its own, one
  // of them between the checkpoint and what was sent.
  const next = products.find((p) => p.sku > saved.lastKey)!;
  await dst.request("POST", "db/_table/product", {
    body: { resource: [next] },
    query: { continue: true },
  }).catch(() => {}); // already there when the batch did land
  const own = [
    { sku: "A-0001", title: "own" },
    { sku: `${saved.lastKey}a`, title: "own" },
    { sku: "Z-9999", title: "own" },
  ];
  await dst.request("POST", "db/_table/product", { body: { resource: own } });
  await copyData(from, to, { batchSize: 20, concurrency: 3, checkpoint });
  const rows = (await dst.request<{ resource: Rec[] }>("GET", "db/_table/product", {
    query: { fields: "sku", order: "sku ASC" },
  })).resource.map((r) => r.sku as string);
  assert.deepEqual(rows, [...products.map((p) => p.sku), ...own.map((o) => o.sku)].sort());
});

Deno.test("resuming refuses to copy rows twice when the target has more than the checkpoint says", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir } = sandboxes;
  await seed(src, 100);
  await copySchema(src, "db", dst, "db");
  const from = { df: src, db: "db", table: "customer" };
  const to = { df: dst, db: "db", table: "customer" };
  const checkpoint = `${dir}/c.json`;
  await interruptedCopy(from, to, checkpoint, 40);
  // Rows the checkpoint does not know of (as a killed run's batches in flight would be).
  await dst.request("POST", "db/_table/customer", {
    body: { resource: ["x", "y", "z"].map((name) => ({ name, balance: 0 })) },
  });
  await assert.rejects(
    copyData(from, to, { batchSize: 20, checkpoint }),
    (e: unknown) => e instanceof CopyDataError && /3 row\(s\) more/.test(e.message),
  );
});

Deno.test("a stop while a write is in flight waits for its answer and records it, so resuming works", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst, dir, dstAdmin } = sandboxes;
  await seed(src, 100);
  await copySchema(src, "db", dst, "db");
  // The target behind a proxy that answers writes slowly: the server has committed the batch
  // when the copy is stopped, and the answer is still on its way.
  const stop = new AbortController();
  const upstream = dst.url.replace(/\/$/, "");
  const proxy = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body ? await req.arrayBuffer() : undefined,
    });
    const body = await res.arrayBuffer();
    if (req.method === "POST" && url.pathname.includes("/_table/")) {
      stop.abort(new Error("stopped"));
      await new Promise((r) => setTimeout(r, 200));
    }
    return new Response(body, { status: res.status, headers: res.headers });
  });
  const via = await connect({ url: `http://127.0.0.1:${proxy.addr.port}`, ...dstAdmin });
  try {
    const from = { df: src, db: "db", table: "customer" };
    const to = { df: via, db: "db", table: "customer" };
    const checkpoint = `${dir}/c.json`;
    await assert.rejects(
      copyData(from, to, { batchSize: 20, concurrency: 2, checkpoint, signal: stop.signal }),
      (e: unknown) => e instanceof CopyDataError && /resume from there/.test(e.message),
    );
    const saved = JSON.parse(await Deno.readTextFile(checkpoint));
    const recorded = saved.rows +
      (saved.ahead as { rows: number }[]).reduce((n, a) => n + a.rows, 0);
    const onTarget = await dst.request<{ resource: Rec[] }>("GET", "db/_table/customer", {
      query: { fields: "id" },
    });
    assert.ok(recorded > 0, JSON.stringify(saved));
    assert.equal(recorded, onTarget.resource.length, JSON.stringify(saved));
    const r = await copyData(from, to, { batchSize: 20, checkpoint });
    assert.equal(r.verification?.ok, true, JSON.stringify(r.verification));
    assert.equal(r.verification?.targetCount, 100);
  } finally {
    await via.logout();
    await proxy.shutdown();
  }
});

Deno.test('a source holding "" and padded strings verifies against a target that cleans input', async () => {
  await using env = await sourceAndTarget();
  const { src, dst } = env;
  const schema = {
    resource: [{
      name: "t",
      field: [{ name: "id", type: "id" }, { name: "note", type: "string", allow_null: true }],
    }],
  };
  await src.request("POST", "db/_schema", { body: schema });
  await dst.request("POST", "db/_schema", { body: schema });
  // Rows written some other way than DreamFactory 7's JSON API (another application, an older
  // DreamFactory): a body without a JSON content type reaches the sandbox uncleaned.
  await src.request("POST", "db/_table/t", {
    body: JSON.stringify({ resource: [{ note: "" }, { note: " x " }, { note: "y" }] }),
    headers: { "Content-Type": "text/plain" },
  });
  const held = await src.request<{ resource: Rec[] }>("GET", "db/_table/t");
  assert.deepEqual(held.resource.map((r) => r.note), ["", " x ", "y"]);
  const report = await copyData({ df: src, db: "db", table: "t" }, {
    df: dst,
    db: "db",
    table: "t",
  });
  assert.ok(report.verification?.ok, JSON.stringify(report.verification));
  const copied = await dst.request<{ resource: Rec[] }>("GET", "db/_table/t");
  assert.deepEqual(copied.resource.map((r) => r.note), [null, "x", "y"]);
});

Deno.test('copySchema compares fields as DreamFactory 7 stores them: "" and null alike', async () => {
  const { fieldsDiffer } = await import("../../lib/migrate/schema.ts");
  const target = { name: "owner", type: "integer", ref_table: null, ref_field: null };
  assert.equal(fieldsDiffer({ ...target, ref_table: "", ref_field: "" }, target), false);
  assert.equal(fieldsDiffer({ ...target, type: "integer " }, target), false);
  assert.equal(fieldsDiffer({ ...target, ref_table: "user" }, target), true);
  assert.equal(fieldsDiffer({ ...target, type: "string" }, target), true);
  // Foreign-key rules: case aside, "NO ACTION" (SQL's default) is the same as none.
  assert.equal(fieldsDiffer({ ...target, ref_on_delete: "NO ACTION" }, target), false);
  assert.equal(
    fieldsDiffer({ ...target, ref_on_delete: "cascade" }, { ...target, ref_on_delete: "CASCADE" }),
    false,
  );
  assert.equal(fieldsDiffer({ ...target, ref_on_delete: "CASCADE" }, target), true);
  // Index flags: absent is false.
  assert.equal(fieldsDiffer({ ...target, is_index: false }, target), false);
  assert.equal(fieldsDiffer({ ...target, is_index: true }, target), true);
  // An integer's length is a display width a target need not keep (DF's SQLite `integer`).
  assert.equal(fieldsDiffer({ ...target, length: 4 }, target), false);
  assert.equal(
    fieldsDiffer({ ...target, type: "string", length: 4 }, { ...target, type: "string" }),
    true,
  );
});

/** The foreign-key rules of a table's fields as its `fk_*` constraints give them. */
async function keyRules(df: DreamFactory, table: string): Promise<Record<string, string[]>> {
  const t = await df.db("db").schema.get(table);
  const out: Record<string, string[]> = {};
  for (const c of Object.values((t.constraints ?? {}) as Record<string, Rec>)) {
    if (c.constraint_type === "f") {
      out[String(c.column_name)] = [String(c.update_rule), String(c.delete_rule)];
    }
  }
  return out;
}

Deno.test("copySchema keeps foreign-key ON UPDATE / ON DELETE rules and reports a differing one", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst } = sandboxes;
  await src.request("POST", "db/_schema", {
    body: {
      resource: [
        { name: "parent", field: [{ name: "id", type: "id" }] },
        {
          name: "child",
          field: [
            { name: "id", type: "id" },
            {
              name: "parent_id",
              type: "reference",
              ref_table: "parent",
              ref_field: "id",
              ref_on_delete: "CASCADE",
              ref_on_update: "SET NULL",
            },
            { name: "plain_id", type: "reference", ref_table: "parent", ref_field: "id" },
          ],
        },
      ],
    },
  });
  const expected = {
    parent_id: ["SET NULL", "CASCADE"],
    plain_id: ["NO ACTION", "NO ACTION"],
  };
  assert.deepEqual(await keyRules(src, "child"), expected);
  const r = await copySchema(src, "db", dst, "db");
  assert.deepEqual(r.createdTables, ["parent", "child"]);
  assert.deepEqual(await keyRules(dst, "child"), expected);
  // The copy settles: nothing differs on a second run.
  const again = await copySchema(src, "db", dst, "db");
  assert.deepEqual([again.createdTables, again.addedFields, again.differing], [[], {}, {}]);
  // A target whose rule differs is reported, with the rules on both sides.
  await dst.request("DELETE", "db/_schema/child");
  await dst.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "child",
        field: [
          { name: "id", type: "id" },
          { name: "parent_id", type: "reference", ref_table: "parent", ref_field: "id" },
          { name: "plain_id", type: "reference", ref_table: "parent", ref_field: "id" },
        ],
      }],
    },
  });
  const differs = await copySchema(src, "db", dst, "db", undefined, { dryRun: true });
  assert.deepEqual(Object.keys(differs.differing), ["child"]);
  const [d] = differs.differing.child;
  assert.equal(d.field, "parent_id");
  assert.deepEqual([d.source.ref_on_update, d.source.ref_on_delete], ["SET NULL", "CASCADE"]);
  assert.deepEqual([d.target.ref_on_update, d.target.ref_on_delete], [undefined, undefined]);
});

/** The single-column indexes of a table by column, as its `constraints` name them. */
async function indexNames(df: DreamFactory, table: string): Promise<string[]> {
  const t = await df.db("db").schema.get(table);
  return Object.values((t.constraints ?? {}) as Record<string, Rec>)
    .filter((c) => c.constraint_type === "c").map((c) => String(c.constraint_name)).sort();
}

Deno.test("copySchema keeps plain and unique indexes of created tables and added fields", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst } = sandboxes;
  await src.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "item",
        field: [
          { name: "id", type: "id" },
          { name: "sku", type: "string", length: 32, is_unique: true },
          { name: "category", type: "string", length: 32, is_index: true },
          { name: "rank", type: "integer", is_index: true },
          { name: "note", type: "text" },
        ],
      }],
    },
  });
  const expected = ["ndx_item_category", "ndx_item_rank", "undx_item_sku"];
  assert.deepEqual(await indexNames(src, "item"), expected);
  // The target has the table already, without `rank`: an added field keeps its index too.
  await dst.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "item",
        field: [
          { name: "id", type: "id" },
          { name: "sku", type: "string", length: 32, is_unique: true },
          { name: "category", type: "string", length: 32, is_index: true },
          { name: "note", type: "text" },
        ],
      }],
    },
  });
  const r = await copySchema(src, "db", dst, "db");
  assert.deepEqual(r.addedFields, { item: ["rank"] });
  assert.deepEqual(r.differing, {});
  assert.deepEqual(await indexNames(dst, "item"), expected);
  // A created table keeps them.
  await dst.request("DELETE", "db/_schema/item");
  const created = await copySchema(src, "db", dst, "db");
  assert.deepEqual(created.createdTables, ["item"]);
  assert.deepEqual(await indexNames(dst, "item"), expected);
  const again = await copySchema(src, "db", dst, "db");
  assert.deepEqual([again.createdTables, again.addedFields, again.differing], [[], {}, {}]);
  // A target field without the index is reported.
  await dst.request("DELETE", "db/_schema/item");
  await dst.request("POST", "db/_schema", {
    body: {
      resource: [{
        name: "item",
        field: [
          { name: "id", type: "id" },
          { name: "sku", type: "string", length: 32, is_unique: true },
          { name: "category", type: "string", length: 32 },
          { name: "rank", type: "integer", is_index: true },
          { name: "note", type: "text" },
        ],
      }],
    },
  });
  const differs = await copySchema(src, "db", dst, "db", undefined, { dryRun: true });
  assert.deepEqual(differs.differing.item?.map((d) => [d.field, d.source.is_index]), [
    ["category", true],
  ]);
});

Deno.test("copySchema settles: a second copy of sized integers, CASCADE keys and indexes reports nothing", async () => {
  await using sandboxes = await sourceAndTarget();
  const { src, dst } = sandboxes;
  await src.request("POST", "db/_schema", {
    body: {
      resource: [
        { name: "parent", field: [{ name: "id", type: "id" }] },
        {
          name: "t",
          field: [
            { name: "id", type: "id" },
            {
              name: "p_id",
              type: "reference",
              ref_table: "parent",
              ref_field: "id",
              ref_on_delete: "CASCADE",
              ref_on_update: "CASCADE",
            },
            { name: "ti4", type: "tinyint", length: 4 },
            { name: "sm", type: "smallint" },
            { name: "sm6", type: "smallint", length: 6 },
            { name: "mi", type: "mediumint", length: 8, is_index: true },
            { name: "ix", type: "string", is_index: true },
          ],
        },
      ],
    },
  });
  const source = await src.db("db").schema.get("t");
  const ti4 = (source.field as Rec[]).find((f) => f.name === "ti4")!;
  // DreamFactory reads tinyint(4) back as integer with its length; `integer` is declared without.
  assert.deepEqual([ti4.type, ti4.db_type, ti4.length], ["integer", "tinyint(4)", 4]);
  const first = await copySchema(src, "db", dst, "db");
  assert.deepEqual(first.createdTables, ["parent", "t"]);
  for (let run = 2; run <= 3; run++) {
    const again = await copySchema(src, "db", dst, "db");
    assert.deepEqual(
      [again.createdTables, again.addedFields, again.differing],
      [[], {}, {}],
      `run ${run}: ${JSON.stringify(again.differing)}`,
    );
  }
  assert.deepEqual(await keyRules(dst, "t"), { p_id: ["CASCADE", "CASCADE"] });
  assert.deepEqual(await indexNames(dst, "t"), ["ndx_t_ix", "ndx_t_mi"]);
  // Copied on from the copy, it still settles against the source.
  await using more = await sourceAndTarget();
  await copySchema(dst, "db", more.dst, "db");
  const third = await copySchema(src, "db", more.dst, "db");
  assert.deepEqual([third.createdTables, third.addedFields, third.differing], [[], {}, {}]);
  assert.deepEqual(await keyRules(more.dst, "t"), { p_id: ["CASCADE", "CASCADE"] });
  assert.deepEqual(await indexNames(more.dst, "t"), ["ndx_t_ix", "ndx_t_mi"]);
});
