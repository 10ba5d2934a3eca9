import {
  assert,
  assertEquals,
  assertRejects,
  assertStringIncludes,
  assertThrows,
} from "./assert.ts";
import {
  DreamFactoryBatchError,
  DreamFactoryError,
  f,
  FilterSyntaxError,
  QueryArgumentError,
} from "./dfkit.ts";
import { makeUsers, setup } from "./helpers.ts";
import { adminLogin } from "../sandbox/_helpers.ts";
import { errorFromResponse } from "../../lib/errors.ts";

Deno.test("builders are immutable and show the exact request they make", async () => {
  await using fx = await setup();
  const { df, sb } = fx;
  const base = df.system.user;
  const q = base.filter("email like '%@example.com'").fields("id", "email");
  assertEquals(base.toRequest().url, `${df.url}/api/v2/system/user?include_count=true`);
  const req = q.toRequest();
  assertEquals(req.method, "GET");
  const url = new URL(req.url);
  assertEquals(url.origin + url.pathname, `${sb.url.replace(/\/$/, "")}/api/v2/system/user`);
  assertEquals([...url.searchParams.keys()], ["filter", "fields", "include_count"]);
  assertEquals(url.searchParams.get("fields"), "id,email");
  assertStringIncludes(url.searchParams.get("filter")!, "email like");
  assertStringIncludes(req.url, "fields=id,email");
  assertEquals(req.headers["X-DreamFactory-Session-Token"], "$DF_SESSION_TOKEN");
  const curl = q.toCurl();
  assertStringIncludes(curl, `-H "X-DreamFactory-Session-Token: $DF_SESSION_TOKEN"`);
  assert(Deno.inspect(q).startsWith("Query<user> GET "));
  // every narrowing method returns a new builder
  const q2 = q.order("name desc").limit(5).offset(2).related("user_to_app_to_role_by_user_id");
  assert(q2 !== q);
  assertEquals(q.toRequest().url, req.url);
  assertEquals(
    [...new URL(q2.toRequest().url).searchParams.keys()],
    ["filter", "fields", "related", "order", "limit", "offset", "include_count"],
  );
});

Deno.test("toCurl() output runs in a shell and returns the same records", async () => {
  await using fx = await setup();
  const { df, sb } = fx;
  await df.system.user.create([
    { name: "O'Brien", email: "obrien@example.com" },
    { name: "Plain", email: "plain@example.com" },
  ]);
  const token = await adminLogin(sb);
  const q = df.system.user.where("email", "=", "obrien@example.com").fields("id", "name");
  const out = await new Deno.Command("bash", {
    args: ["-c", q.toCurl()],
    env: { DF_SESSION_TOKEN: token },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const body = JSON.parse(text);
  assertEquals(body.resource.map((r: { name: string }) => r.name), ["O'Brien"]);
  assertEquals((await q).map((r) => r.name), ["O'Brien"]);
});

Deno.test("filter mistakes throw locally, before any request, naming the fix", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const before = exchanges.length;
  const unparenthesised = assertThrows(
    () => df.system.user.filter("id = 1 and name = 2 or email = 3"),
    FilterSyntaxError,
  );
  assertStringIncludes(unparenthesised.message, "(");
  assertThrows(() => df.system.user.filter("name = 'unterminated"), FilterSyntaxError);
  assertThrows(() => df.system.user.filter("id ge 3"), FilterSyntaxError);
  assertThrows(() => df.system.user.filter("(id = 1"), FilterSyntaxError);
  assertThrows(() => df.system.user.where("id", "~", 3), Error);
  assertEquals(exchanges.length, before, "no request may be sent for a bad filter");
  // an AND chain is sent the way DreamFactory parses it, and matches
  const ids = await makeUsers(df, 3);
  const rows = await df.system.user.filter(`id >= ${ids[1]} and name like 'u%'`).fields("id");
  assertEquals(rows.map((r) => r.id), ids.slice(1));
});

Deno.test("hostile values in where() and f`` match exactly or are refused locally", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const hostile = [
    "O'Brien",
    "Robert'); DROP TABLE user;--",
    "50% off",
    "under_score",
    "a=b",
    "x) or (1=1",
    '"double"',
    "back\\slash",
    "and",
    "comma, here",
    "<b>tag</b>",
    "ünïcødé",
  ];
  const created = await df.system.user.create(
    hostile.map((name, i) => ({ name, email: `h${i}@example.com` })),
    { fields: ["id", "name"] },
  );
  assertEquals(created.map((r) => r.name), hostile);
  const total = await df.system.user.count();
  for (const [i, value] of hostile.entries()) {
    for (
      const build of [
        () => df.system.user.where("name", "=", value),
        () => df.system.user.filter(f`name = ${value}`),
      ]
    ) {
      const sent = exchanges.length;
      let q;
      try {
        q = build();
      } catch (err) {
        assert(err instanceof FilterSyntaxError || err instanceof TypeError, String(err));
        assertEquals(exchanges.length, sent);
        continue;
      }
      const rows = await q.fields("id", "name");
      assertEquals(rows.map((r) => r.name), [value], `value ${JSON.stringify(value)}`);
      assertEquals(rows[0].id, created[i].id);
    }
  }
  assertEquals(await df.system.user.count(), total, "no hostile value changed anything");
});

Deno.test("await reads every record past the server cap; limit spans pages", async () => {
  await using fx = await setup({ maxRecords: 5 });
  const { df, exchanges } = fx;
  const ids = await makeUsers(df, 12);
  exchanges.length = 0;
  const all = await df.system.user.fields("id");
  assertEquals(all.map((r) => r.id), ids);
  assert(exchanges.length >= 3, "three pages of at most 5");
  exchanges.length = 0;
  const seven = await df.system.user.fields("id").limit(7);
  assertEquals(seven.map((r) => r.id), ids.slice(0, 7));
  assertEquals(exchanges.map((e) => new URL(e.url).searchParams.get("limit")), ["7", "2"]);
  assertEquals((await df.system.user.fields("id").offset(10)).map((r) => r.id), ids.slice(10));
  const small = await df.system.user.fields("id").pageSize(4).limit(9);
  assertEquals(small.map((r) => r.id), ids.slice(0, 9));
  const seen: number[] = [];
  for await (const u of df.system.user.fields("id")) seen.push(u.id);
  assertEquals(seen, ids);
});

Deno.test("page(), count(), first(), get(), ids()", async () => {
  await using fx = await setup({ maxRecords: 5 });
  const { df } = fx;
  const ids = await makeUsers(df, 12);
  const p1 = await df.system.user.fields("id").limit(5).page();
  assertEquals(p1.records.map((r) => r.id), ids.slice(0, 5));
  assertEquals({ count: p1.count, more: p1.more, next: p1.next }, {
    count: 12,
    more: true,
    next: 5,
  });
  const last = await df.system.user.fields("id").offset(10).limit(5).page();
  assertEquals({ n: last.records.length, more: last.more, next: last.next }, {
    n: 2,
    more: false,
    next: undefined,
  });
  assertEquals(await df.system.user.count(), 12);
  assertEquals(await df.system.user.where("name", "like", "u0%").count(), 10);
  // DreamFactory matches nobody with `is_active = true` on system tables; dfkit sends `= 1`
  assertEquals(await df.system.user.filter("is_active = true").count(), 12);
  assertEquals(await df.system.user.where("is_active", "=", true).count(), 12);
  assertEquals((await df.system.user.order("name desc").first())?.name, "u11");
  assertEquals((await df.system.user.order("name  desc").first())?.name, "u11");
  assertEquals((await df.system.user.order("name\tdesc").first())?.name, "u11");
  assertEquals(await df.system.user.where("name", "=", "nobody").first(), undefined);
  const one = await df.system.user.fields("id", "email").get(ids[3]);
  assertEquals(one.email, "u03@example.com");
  const err = await assertRejects(() => df.system.user.get(99999), DreamFactoryError);
  assertEquals([err.status, err.method, err.path], [404, "GET", "/api/v2/system/user/99999"]);
  // DreamFactory answers ids in its own order: the client puts them in the order asked...
  const picked = await df.system.user.ids(ids[4], ids[1]).fields("id");
  assertEquals(picked.map((r) => r.id), [ids[4], ids[1]]);
  // ...also without the key among the fields (asked for, then taken out; toRequest() says so).
  const named = await df.system.user.ids(ids[4], ids[1]).fields("email");
  assertStringIncludes(
    df.system.user.ids(ids[4], ids[1]).fields("email").toRequest().url,
    "fields=email,id",
  );
  assertThrows(() => df.system.user.ids(ids[4], ids[1], ids[4]), TypeError, "given twice");
  assertEquals(named.map((r) => r.email), ["u04@example.com", "u01@example.com"]);
  assert(named.every((r) => !("id" in r)), "the key asked for is taken out again");
  // ...unless .order() says otherwise.
  const sorted = await df.system.user.ids(ids[1], ids[4]).fields("id").order("id desc");
  assertEquals(sorted.map((r) => r.id), [ids[4], ids[1]]);
});

Deno.test("database tables: typed rows, pagination past the cap, relationships checked", async () => {
  await using fx = await setup({ maxRecords: 5 });
  const { df } = fx;
  const db = df.db("db");
  await db.schema.create([
    {
      name: "contact",
      field: [{ name: "id", type: "id" }, { name: "name", type: "string" }, {
        name: "active",
        type: "boolean",
        default: true,
      }],
    },
    {
      name: "note",
      field: [
        { name: "id", type: "id" },
        { name: "contact_id", type: "reference", ref_table: "contact", ref_field: "id" },
        { name: "body", type: "text" },
      ],
    },
  ]);
  assertEquals((await db.schema.list()).sort(), ["contact", "note"]);
  const described = await db.schema.get("contact");
  assertEquals(described.field?.map((c) => c.name), ["id", "name", "active"]);
  interface Contact {
    id: number;
    name: string;
    active: boolean;
    note_by_contact_id?: { body: string }[];
  }
  const contacts = db.table<Contact>("contact");
  const made = await contacts.create(
    Array.from({ length: 11 }, (_, i) => ({ name: `c${i}`, active: i % 2 === 0 })),
  );
  assertEquals(made.length, 11);
  const all = await contacts.order("id");
  assertEquals(all.length, 11);
  const names: string[] = all.map((c) => c.name);
  assertEquals(names[10], "c10");
  assertEquals(await contacts.where("active", "=", true).count(), 6);
  await db.table("note").create({ contact_id: made[0].id, body: "hello" });
  const withNotes = await contacts.ids(made[0].id).related("note_by_contact_id");
  assertEquals(withNotes[0].note_by_contact_id?.[0].body, "hello");
  const bad = await assertRejects(
    () => contacts.related("notes").limit(1).page(),
    TypeError,
  );
  assertStringIncludes(bad.message, "note_by_contact_id");
  // An unknown .order() field: DreamFactory would sort by nothing (one field) or answer a 500
  // (several), so it is refused before any record is read, naming the table's fields.
  for (const order of [["nme desc"], ["name", "nme"]]) {
    const before = fx.exchanges.length;
    const wrong = await assertRejects(() => contacts.order(...order).page(), TypeError);
    assertStringIncludes(wrong.message, '"nme" is not a field of db/_table/contact');
    assertStringIncludes(wrong.message, "Fields: id, name, active");
    assert(!fx.exchanges.slice(before).some((x) => x.url.includes("/_table/contact")));
  }
  assertEquals((await contacts.order("NAME desc").limit(1))[0].name, "c9");
});

Deno.test("unknown relationships on system resources list the valid ones", async () => {
  await using fx = await setup();
  const { df } = fx;
  const err = assertThrows(() => df.system.user.related("role_by_role_id"), TypeError);
  assertStringIncludes(err.message, "user_to_app_to_role_by_user_id");
  const users = await df.system.user.related("user_to_app_to_role_by_user_id");
  assertEquals(users, []);
});

Deno.test("toRequest() is exactly the first request await sends", async () => {
  await using fx = await setup({ maxRecords: 5 });
  const { df, exchanges } = fx;
  const ids = await makeUsers(df, 7);
  // `.order()` reads the resource's schema once per client before its first read: done here.
  await df.system.user.order("id").limit(1);
  for (
    const q of [
      df.system.user,
      df.system.user.offset(0),
      df.system.user.where("name", "like", "u%").fields("id").order("id desc").limit(6),
      df.system.user.pageSize(3).offset(2),
      df.system.user.ids(ids[2], ids[0]).fields("id", "name"),
    ]
  ) {
    exchanges.length = 0;
    await q;
    const req = q.toRequest();
    assertEquals([exchanges[0].method, exchanges[0].url], [req.method, req.url]);
    assertEquals(exchanges[0].requestHeaders.Accept, req.headers.Accept);
  }
});

Deno.test("a resource that does not page (service_type) is read once, and limit still holds", async () => {
  await using fx = await setup();
  const { df } = fx;
  // DreamFactory's system/service_type ignores limit, offset and include_count: one answer is all.
  const all = await df.system.service_type.fields("name");
  const names = all.map((t) => t.name);
  assert(names.includes("sqlite") && names.includes("system"), names.join(","));
  assertEquals(new Set(names).size, names.length, "no type is listed twice");
  const two = await df.system.service_type.fields("name").limit(2);
  assertEquals(two.map((t) => t.name), names.slice(0, 2));
  let seen = 0;
  for await (const _ of df.system.service_type) seen++;
  assertEquals(seen, names.length);
  // page() and count() too: limit holds on one page, and a list answer to count_only is counted
  const page = await df.system.service_type.fields("name").limit(2).page();
  assertEquals(page.records.map((t) => t.name), names.slice(0, 2));
  assertEquals(await df.system.service_type.count(), names.length);
});

Deno.test(".ids() with .offset()/.limit(), count(), page() and long lists read what was asked", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  const ids = (await df.system.role.create(
    Array.from({ length: 150 }, (_, i) => ({ name: `r${i}` })),
  )).map((r) => r.id);
  const q = df.system.role.ids(ids[0], ids[1], ids[2]).fields("id");
  assertEquals((await q.offset(1)).map((r) => r.id), [ids[1], ids[2]]);
  assertEquals((await q.limit(2)).map((r) => r.id), [ids[0], ids[1]]);
  assertEquals((await q.offset(1).limit(1)).map((r) => r.id), [ids[1]]);
  assertEquals(await q.offset(5), []);
  assertEquals(await q.count(), 3);
  assertEquals(await q.offset(2).count(), 1);
  // past 100 ids: page() and toRequest() are the first request of `await`, 100 ids long
  const long = df.system.role.ids(ids).fields("id");
  assertEquals(new URL(long.toRequest().url).searchParams.get("ids")!.split(",").length, 100);
  const before = exchanges.length;
  const first = await long.page();
  assertEquals(exchanges.length, before + 1);
  assertEquals(
    new URL(exchanges.at(-1)!.url).searchParams.get("ids"),
    new URL(long.toRequest().url).searchParams.get("ids"),
  );
  assertEquals(first.records.map((r) => r.id), ids.slice(0, 100));
  assertEquals([first.more, first.next], [true, 100]);
  const rest = await long.offset(first.next!).page();
  assertEquals([rest.records.map((r) => r.id), rest.more], [ids.slice(100), false]);
  assertEquals((await long).map((r) => r.id), ids);
});

Deno.test("a missing id in the second chunk of a long .ids() read is reported at its own position", async () => {
  await using fx = await setup();
  const { df } = fx;
  const ids = (await df.system.role.create(
    Array.from({ length: 150 }, (_, i) => ({ name: `r${i}` })),
  )).map((r) => r.id);
  const asked = [...ids.slice(0, 120), 999999, ...ids.slice(120)];
  const err = await assertRejects(
    () => df.system.role.ids(asked).fields("id"),
    DreamFactoryBatchError,
  );
  assertEquals(err.failed.map((f) => f.index), [120]);
  assertStringIncludes(err.failed[0].error.message, "999999");
  assertEquals(err.succeeded.map((s) => s.index), [...Array(120).keys()]);
  assertEquals(err.succeeded.map((s) => (s.record as { id: number }).id), ids.slice(0, 120));
  assertEquals(err.skipped, Array.from({ length: 30 }, (_, i) => 121 + i));
});

Deno.test(".params() refuses what the builder manages, naming the method to use", async () => {
  await using fx = await setup();
  const { df, exchanges } = fx;
  await makeUsers(df, 3);
  const before = exchanges.length;
  for (
    const [params, fix] of [
      [{ offset: 1 }, ".offset(n)"],
      [{ skip: 1 }, ".offset(n)"],
      [{ LIMIT: 1 }, ".limit(n)"],
      [{ ids: "1" }, ".ids(...)"],
      [{ filter: "id = 1" }, ".filter(...)"],
      [{ count_only: true }, ".count()"],
    ] as const
  ) {
    assertThrows(() => df.system.user.params(params), TypeError, fix);
  }
  assertEquals(exchanges.length, before, "refused before any request");
  // other parameters pass through
  const q = df.system.user.params({ include_schema: true }).fields("id");
  assertEquals(new URL(q.toRequest().url).searchParams.get("include_schema"), "true");
  assertEquals((await q).length, 3);
});

Deno.test("tables keyed by another column read .ids().fields() without asking for an id", async () => {
  await using fx = await setup();
  const { df } = fx;
  await df.db("db").schema.create({
    name: "country",
    field: [{ name: "code", type: "string", length: 2, is_primary_key: true }, {
      name: "name",
      type: "string",
    }],
  });
  const country = df.db("db").table<{ code: string; name: string }>("country");
  await country.create([{ code: "aa", name: "A" }, { code: "cc", name: "C" }]);
  const q = country.ids("cc", "aa").fields("name");
  assert(!q.toRequest().url.includes("id%2C") && !q.toRequest().url.includes(",id"));
  // The server answers in key order; the client asks for the key (from the schema) to put
  // the records in the order asked, then takes it out.
  assertEquals((await q) as unknown[], [{ name: "C" }, { name: "A" }]);
});

Deno.test("a misspelt sort term on a table: .order() refuses it; raw, DreamFactory's answers get the hint", async () => {
  await using fx = await setup();
  const t = fx.df.db("db").table<{ id: number; name: string }>("person");
  await fx.df.db("db").schema.create({
    name: "person",
    field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
  });
  await t.create([{ name: "b" }, { name: "a" }]);
  // What the client saves you from: Laravel quotes a single term and SQLite reads an unknown
  // quoted name as a string (no sorting, no error); several terms are a 500.
  await assertRejects(() => t.order("nmae").page(), TypeError, '"nmae" is not a field');
  const raw = t.params({ order: "nmae" }).fields("id");
  assertEquals((await raw).map((r) => r.id), [1, 2]);
  const err = await assertRejects(
    () => t.params({ order: "name desc,nmae" }).page(),
    DreamFactoryError,
  );
  assertEquals(err.status, 500);
  assertStringIncludes(err.message, "Failed to retrieve records from 'person'.");
  assertStringIncludes(err.message, "no such column: nmae");
  assertEquals(
    err.hint,
    '"nmae" is not a field of this resource: check the names in fields, order, group and filter.',
  );
});

Deno.test("a misspelt field on a system resource: refused from the answer, or DreamFactory's 500 and a hint when qualified", async () => {
  await using fx = await setup();
  // Unqualified, a misspelt field is no server error: Laravel quotes it and SQLite answers the
  // string it spells, under its quoted name. The client refuses that answer on every read path,
  // naming the field and the resource's fields.
  const [created] = await fx.df.system.user.create([{ name: "U", email: "u@x.com" }]);
  const raw = await fx.df.request<{ resource: Record<string, unknown>[] }>("GET", "system/user", {
    query: { fields: "id,emial" },
  });
  assertEquals(raw.resource[0]['"emial"'], "emial");
  const misspelt = fx.df.system.user.fields("id", "emial");
  for (
    const read of [
      () => misspelt.page(),
      () => misspelt.first(),
      () => misspelt.all(),
      () => misspelt.get(created.id),
      () => misspelt.ids(created.id).all(),
    ]
  ) {
    const wrong = await assertRejects(read, TypeError);
    assertStringIncludes(wrong.message, '.fields(): "emial" is not a field of system/user');
    assertStringIncludes(wrong.message, "Fields: id, name, first_name");
  }
  // No records, nothing to tell by: the read answers what it got.
  assertEquals(await misspelt.filter("id = 0").all(), []);
  for (
    const [q, name] of [
      [fx.df.system.user.fields("id", "user.emial"), "user.emial"],
      [fx.df.system.user.order("user.emial"), "user.emial"],
    ] as const
  ) {
    const err = await assertRejects(() => q.page(), DreamFactoryError);
    assertEquals(err.status, 500);
    assertStringIncludes(err.message, `no such column: ${name}`); // the server's own text first
    assertEquals(
      err.hint,
      `"${name}" is not a field of this resource: check the names in fields, order, group and filter.`,
    );
  }
  // An unqualified one in order is quoted by Builder::orderBy and SQLite sorts by the string:
  // the client refuses it before reading a record, naming the fields (from include_schema).
  for (const order of [["emial"], ["name", "emial desc"]]) {
    const before = fx.exchanges.length;
    const wrong = await assertRejects(() => fx.df.system.user.order(...order).page(), TypeError);
    assertStringIncludes(wrong.message, '"emial" is not a field of system/user');
    assertStringIncludes(wrong.message, "Fields: id, name, first_name");
    const sent = fx.exchanges.slice(before).map((x) => x.url);
    assert(sent.every((u) => u.includes("include_schema=true")), sent.join("\n"));
  }
  // The schema is read once per client; a known name (any case) sorts.
  const before = fx.exchanges.length;
  await fx.df.system.user.order("EMAIL desc").page();
  assertEquals(fx.exchanges.length - before, 1);
  // Other 500s get no such hint.
  assertEquals(
    errorFromResponse(500, { error: { code: 500, message: "Internal error" } }, {
      method: "GET",
      path: "/api/v2/system/user",
    }).hint,
    undefined,
  );
});

Deno.test("table checks re-read a schema that changed; one-field NULLS ordering and ids with order", async () => {
  await using fx = await setup();
  const { df } = fx;
  const db = df.db("db");
  await db.schema.create({
    name: "person",
    field: [{ name: "id", type: "id" }, { name: "name", type: "string" }],
  });
  const t = db.table<{ id: number; name: string; rank?: number }>("person");
  await t.create([{ name: "b" }, { name: "a" }, { name: "c" }]);
  assertEquals((await t.order("name")).map((r) => r.name), ["a", "b", "c"]); // schema cached
  // A field added behind the client's back (raw request, another client, the console).
  await df.request("PATCH", "db/_schema", {
    body: {
      resource: [{ name: "person", field: [{ name: "rank", type: "integer", allow_null: true }] }],
    },
  });
  await t.ids(1).update({ rank: 2 });
  assertEquals((await t.order("rank desc", "id").fields("id"))[0].id, 1);
  // NULLS FIRST/LAST works only with several fields: one alone is refused before sending.
  assertThrows(() => t.order("rank nulls last"), QueryArgumentError, "add a second field");
  assertEquals((await t.order("rank desc nulls last", "id")).length, 3);
  // Ids with an order: sorted by the server (one query), not left in the ids' order.
  assertEquals((await t.ids(2, 1, 3).order("name desc")).map((r) => r.name), ["c", "b", "a"]);
  assertEquals((await t.ids(2, 1, 3)).map((r) => r.name), ["a", "b", "c"]);
});
