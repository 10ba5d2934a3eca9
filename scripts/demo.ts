#!/usr/bin/env -S deno run --no-prompt --allow-net=127.0.0.1 --allow-sys=hostname
/**
 * `deno task demo`: the dfkit walkthrough. Starts a _staging_ and a _production_ sandbox on
 * 127.0.0.1 and walks through sessions and API keys, the query builder, batch errors, a
 * staging-to-production migration (snapshot, plan, apply, drift), provisioning a customer, and a
 * schema-and-data copy, printing each step. Secrets (tokens, API keys, passwords) are never
 * printed.
 *
 * Permissions (exactly what `deno task demo` passes):
 * - `--allow-net=127.0.0.1`: the two sandboxes listen on, and are called at, 127.0.0.1 only.
 * - `--allow-sys=hostname`: the sandbox reports the host name in sessions, as DreamFactory does.
 *
 * Nothing else: no environment variables, no files (the sandboxes keep their data in memory);
 * `--no-prompt` turns any other access into an error rather than an interactive prompt.
 *
 * @module
 */
import {
  apply,
  connect,
  copyData,
  copySchema,
  type DreamFactory,
  DreamFactoryBatchError,
  DreamFactoryError,
  drift,
  f,
  maskApiKey,
  plan,
  provisionCustomer,
  renderDiffText,
  snapshot,
  startSandbox,
  table,
} from "../mod.ts";

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  console.log(
    "Usage: deno task demo\n\nThe dfkit walkthrough on two in-memory sandboxes (staging and " +
      "production): sessions, queries, batch errors, migration, provisioning, data copy.\nIt " +
      "takes no options and needs no DreamFactory.",
  );
  Deno.exit(0);
}

const plainOutput = !Deno.stdout.isTerminal() || Deno.noColor;
const bold = (s: string) => plainOutput ? s : `\x1b[1m${s}\x1b[0m`;
const dim = (s: string) => plainOutput ? s : `\x1b[2m${s}\x1b[0m`;

let stepNo = 0;
function step(title: string): void {
  stepNo++;
  console.log(`\n${bold(`── ${stepNo}. ${title} `.padEnd(100, "─"))}`);
}
function say(text: string): void {
  console.log(text);
}
function code(text: string): void {
  console.log(dim(text.split("\n").map((l) => `  > ${l}`).join("\n")));
}
function show(rows: readonly unknown[], maxWidth = 60): void {
  console.log(String(table(rows, { maxWidth })));
}
/** One line for an expected error: what DreamFactory said, never a stack. */
function explain(e: unknown): string {
  if (e instanceof DreamFactoryError) return `${e.status || e.code} ${e.message}`;
  return `${(e as Error).name}: ${(e as Error).message}`;
}

/** What a status means for the caller. */
const MEANING: Record<number, string> = {
  400: "no credentials were sent",
  401: "credentials not accepted",
  403: "authenticated, not allowed",
  404: "no such record or resource",
};

/** A progress line that redraws in a terminal and prints milestones elsewhere. */
function progress(label: string): (done: number, total: number) => void {
  let lastShown = -1;
  return (done, total) => {
    const pct = total ? Math.floor((done / total) * 100) : 100;
    if (!plainOutput) {
      const width = 30;
      const filled = Math.round((pct / 100) * width);
      const bar = "█".repeat(filled) + "░".repeat(width - filled);
      Deno.stdout.writeSync(new TextEncoder().encode(`\r  ${label} ${bar} ${done}/${total}`));
      if (done >= total) console.log();
    } else if (pct >= lastShown + 25 || done >= total) {
      lastShown = pct;
      say(`  ${label}: ${done}/${total} (${pct}%)`);
    }
  };
}

const started = performance.now();
console.log(bold("dfkit demo: scripting DreamFactory from Deno"));
say("Two DreamFactory-compatible sandboxes play staging and production. Nothing leaves 127.0.0.1.");

const staging = await startSandbox({ port: 0 });
const production = await startSandbox({ port: 0 });
const clients: DreamFactory[] = [];
try {
  // -------------------------------------------------------------------------------------------
  step("Two environments");
  code("const staging = await startSandbox({ port: 0 })");
  show([
    { environment: "staging", url: staging.url, admin: staging.admin.email },
    { environment: "production", url: production.url, admin: production.admin.email },
  ]);

  // -------------------------------------------------------------------------------------------
  step("Sessions: log in, inspect, refresh, log out");
  code("const df = await connect({ url, email, password })   // POST /api/v2/system/admin/session");
  const df = await connect({ url: staging.url, ...staging.admin });
  clients.push(df);
  const s = df.session!;
  say("The session (the token itself is never exposed or printed):");
  show([{
    id: s.id,
    email: s.email,
    name: s.name,
    is_sys_admin: s.is_sys_admin,
    expires_at: s.expires_at ?? s.token_expiry_date,
  }]);

  code("await df.refresh()   // PUT .../session: a new token; the old one is blacklisted");
  await df.refresh();
  say(
    `Refreshed (refreshes so far: ${df.authStats.refreshes}): a new token, expiring ${
      df.session?.expires_at ?? "(unknown)"
    } (refresh time + lifetime, to the second); the old one is refused.`,
  );

  say("\nWhat the errors mean:");
  const errors: { attempt: string; answer: string; meaning: string }[] = [];
  const meaning = (e: unknown) =>
    e instanceof DreamFactoryError ? MEANING[e.status] ?? "" : "not a DreamFactory answer";
  try {
    await connect({ url: staging.url, email: staging.admin.email, password: "not-the-password" });
  } catch (e) {
    errors.push({ attempt: "wrong password", answer: explain(e), meaning: meaning(e) });
  }
  try {
    await connect({ url: staging.url, email: "nobody@example.com", password: "x", admin: false });
  } catch (e) {
    errors.push({
      attempt: "unknown user (user session)",
      answer: explain(e),
      meaning: meaning(e),
    });
  }
  code("await df2.logout()   // DELETE .../session: the token is blacklisted on the server");
  const other = await connect({ url: staging.url, ...staging.admin });
  await other.logout();
  try {
    await other.request("GET", "system/role");
  } catch (e) {
    errors.push({ attempt: "a call after logout", answer: explain(e), meaning: meaning(e) });
  }
  try {
    await df.system.user.get(9999);
  } catch (e) {
    errors.push({
      attempt: "a record that does not exist",
      answer: explain(e),
      meaning: meaning(e),
    });
  }
  show(errors, 50);

  // -------------------------------------------------------------------------------------------
  step("CRUD with the query builder");
  code(`await df.system.role.create([{ name: "support", ... }, { name: "billing", ... }, ...])`);
  const roles = await df.system.role.create([
    { name: "support", description: "Support desk", is_active: true },
    { name: "billing", description: "Invoices and refunds", is_active: true },
    { name: "readonly", description: "Reporting", is_active: true },
  ]);
  say(`Created roles with ids ${roles.map((r) => r.id).join(", ")}.`);

  const people = [
    "Ada Lovelace",
    "Grace Hopper",
    "Alan Turing",
    "Edsger Dijkstra",
    "Barbara Liskov",
  ];
  await df.system.user.create(
    people.map((name) => ({
      name,
      first_name: name.split(" ")[0],
      last_name: name.split(" ")[1],
      email: `${name.split(" ")[0].toLowerCase()}@example.com`,
      is_active: true,
    })),
  );
  code(
    'await df.system.user.filter(f`email like ${"%@example.com"}`).fields("id", "name", "email")' +
      '\n  .order("name").limit(3)',
  );
  const users = await df.system.user
    .filter(f`email like ${"%@example.com"}`)
    .fields("id", "name", "email")
    .order("name")
    .limit(3);
  show(users);

  code('await df.system.user.fields("id", "name").limit(2).page()   // one page + total count');
  const page = await df.system.user.fields("id", "name").limit(2).page();
  say(
    `page: ${page.records.length} records, count ${page.count}, more: ${page.more}, next: ${page.next}`,
  );

  code(
    'await df.system.role.ids(roles[0].id).update({ description: "Tier 1 support" })   // PATCH',
  );
  await df.system.role.ids(roles[0].id).update({ description: "Tier 1 support" });
  code("await df.system.role.ids(roles[2].id).delete()");
  await df.system.role.ids(roles[2].id).delete();
  show(await df.system.role.fields("id", "name", "description").order("id"));

  code('df.system.user.filter("id > 1").fields("id", "email").toCurl()   // the exact call');
  say(df.system.user.filter("id > 1").fields("id", "email").toCurl());

  // -------------------------------------------------------------------------------------------
  step("Batch errors: which records failed, which were kept");
  code(
    'await df.system.role.create([{ name: "sales" }, { name: "support" }, { name: "ops" }],' +
      "\n  { continue: true })   // 'support' exists",
  );
  try {
    await df.system.role.create(
      [{ name: "sales" }, { name: "support" }, { name: "ops" }],
      { continue: true },
    );
  } catch (e) {
    if (!(e instanceof DreamFactoryBatchError)) throw e;
    show([
      ...e.succeeded.map((x) => ({
        index: x.index,
        outcome: "created",
        detail: `id ${(x.record as { id?: number }).id}`,
      })),
      ...e.failed.map((x) => ({ index: x.index, outcome: "failed", detail: x.error.message })),
    ].sort((a, b) => a.index - b.index));
  }
  code("the same batch with { rollback: true }: all or nothing");
  try {
    await df.system.role.create([{ name: "marketing" }, { name: "billing" }], { rollback: true });
  } catch (e) {
    if (!(e instanceof DreamFactoryBatchError)) throw e;
    const kept = await df.system.role.filter(f`name = ${"marketing"}`).count();
    say(
      `rolled back: ${e.rolledBack}; failed #${e.failed.map((x) => x.index).join(", #")}; ` +
        `"marketing" exists afterwards: ${kept > 0}`,
    );
  }

  // -------------------------------------------------------------------------------------------
  step("Tables: schema and records on staging's `db` service");
  const db = df.db("db");
  code('await df.db("db").schema.create([{ name: "contact", field: [...] }])');
  await db.schema.create([{
    name: "contact",
    field: [
      { name: "id", type: "id" },
      { name: "name", type: "string", length: 80, allow_null: false },
      { name: "email", type: "string", length: 120 },
      { name: "city", type: "string", length: 60 },
    ],
  }]);
  const cities = ["London", "Paris", "Berlin", "Madrid", "Rome"];
  const contacts = Array.from({ length: 250 }, (_, i) => ({
    name: `Contact ${String(i + 1).padStart(3, "0")}`,
    email: `contact${i + 1}@example.org`,
    city: cities[i % cities.length],
  }));
  code("await contacts.create(250 records)   // one batch request");
  await db.table("contact").create(contacts);
  code('await db.table("contact").where("city", "=", "Paris").order("name").limit(4)');
  show(await db.table("contact").where("city", "=", "Paris").order("name").limit(4));
  const all = await db.table("contact").fields("id");
  say(`Awaiting a builder walks every page: ${all.length} contacts read.`);

  // -------------------------------------------------------------------------------------------
  step("Migration: staging → production");
  const prod = await connect({ url: production.url, ...production.admin });
  clients.push(prod);
  code("const snap = await snapshot(staging)   // names, not ids; secrets as env: references");
  const snap = await snapshot(df);
  const counts = Object.entries(snap.objects).map(([section, objects]) => ({
    section,
    objects: Object.keys(objects ?? {}).length,
  }));
  show(counts);
  code("const p = await plan(production, snap)");
  const p = await plan(prod, snap);
  console.log(renderDiffText(p));
  code("await apply(production, p, { onProgress })");
  const applying = progress("applying");
  const report = await apply(prod, p, { onProgress: (x) => applying(x.done, x.total) });
  say(`applied ${report.done.length} changes; ok: ${report.ok}`);
  code("await drift(production, snap)   // does production still match staging's snapshot?");
  const before = await drift(prod, snap);
  say(`drift right after apply: ${before.drifted ? "yes" : "none"}`);
  await prod.system.role.filter(f`name = ${"billing"}`).update({ description: "edited by hand" });
  const after = await drift(prod, snap);
  say(
    `after someone edits a role by hand in production: ${
      after.drifted ? "drift detected" : "none"
    }`,
  );
  console.log(renderDiffText(after.diff, { drift: true }));

  // -------------------------------------------------------------------------------------------
  step("Provisioning a customer on production: role, API key, limit");
  code(
    'await provisionCustomer(production, { key: "acme-42", name: "Acme Inc.",\n' +
      '  access: [{ service: "db", component: "_table/*", verbs: ["GET"] }],\n' +
      '  limit: { rate: 1000, period: "day" } })',
  );
  const customer = await provisionCustomer(prod, {
    key: "acme-42",
    name: "Acme Inc.",
    access: [{ service: "db", component: "_table/*", verbs: ["GET"] }],
    limit: { rate: 1000, period: "day" },
  });
  for (const c of customer.changes) say(`  - ${c}`);
  say(`API key: ${maskApiKey(customer.apiKey)} (the demo masks it; your script hands it over)`);
  const again = await provisionCustomer(prod, {
    key: "acme-42",
    name: "Acme Inc.",
    access: [{ service: "db", component: "_table/*", verbs: ["GET"] }],
    limit: { rate: 1000, period: "day" },
  });
  say(`Provisioning again is a no-op: changed = ${again.changed}`);

  // -------------------------------------------------------------------------------------------
  step("Data copy: staging db → production db");
  code('await copySchema(staging, "db", production, "db", ["contact"])');
  const schemaReport = await copySchema(df, "db", prod, "db", ["contact"]);
  say(`tables created: ${schemaReport.createdTables.join(", ") || "(none)"}`);
  code(
    'await copyData({ df: staging, db: "db", table: "contact" },\n' +
      '  { df: production, db: "db", table: "contact" }, { batchSize: 50, onProgress })',
  );
  const bar = progress("copying contact");
  const copied = await copyData(
    { df, db: "db", table: "contact" },
    { df: prod, db: "db", table: "contact" },
    { batchSize: 50, onProgress: (x) => bar(x.rows, x.total) },
  );
  show([{
    table: "contact",
    rows: copied.rows,
    batches: copied.batches,
    requests: copied.requests,
    "rows/s": Math.round(copied.rowsPerSecond),
    verified: copied.verification?.ok ?? "skipped",
  }]);

  say("\nThe customer's API key now reads production's contacts (GET only):");
  code("const acme = await connect({ url: production.url, apiKey })");
  const acme = await connect({ url: production.url, apiKey: customer.apiKey });
  show(await acme.db("db").table("contact").fields("id", "name", "city").limit(3));
  try {
    await acme.db("db").table("contact").create({ name: "Mallory" });
  } catch (e) {
    say(`and may not write: ${explain(e)}`);
  }

  step("Done");
  say(`Logged out; both sandboxes stop now. ${Math.round(performance.now() - started)} ms in all.`);
} finally {
  for (const c of clients) await c.logout().catch(() => {});
  await staging.close();
  await production.close();
}
