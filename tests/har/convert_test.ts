import { deepStrictEqual as assertEquals, ok as assert, throws } from "node:assert/strict";
import { fromHar, HarError } from "../../lib/har/mod.ts";
import { entry, harOf } from "./har_helpers.ts";

const B = "http://df.local/api/v2";
const TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-session-token.sig";
const auth = { "X-DreamFactory-Session-Token": TOKEN };
const opts = { importFrom: "@dfkit/dfkit" };
/** The generated statements, one per kept entry, each on one line. */
const calls = (script: string) =>
  script.split("\n\n").filter((b) => b.startsWith("// #")).map((b) =>
    b.slice(b.indexOf("\n") + 1)
      .replace(/,\n\s*([\]}])/g, (_, c) => (c === "]" ? "]" : " }"))
      .replace(/\[\n\s*/g, "[").replace(/\{\n\s*/g, "{ ").replace(/,\n\s*/g, ", ")
  );

Deno.test("query parameters become builder calls on reads", () => {
  const s = fromHar(
    harOf(entry(
      "GET",
      `${B}/db/_table/todo?filter=${
        encodeURIComponent("(done = false) and (title like 'a%')")
      }&fields=id,title&related=owner_by_owner_id&order=title%20DESC&limit=10&offset=20`,
      { headers: auth },
    )),
    { ...opts, all: true },
  );
  assertEquals(calls(s), [
    `console.log(await df.db("db").table("todo").filter("(done = false) and (title like 'a%')")` +
    `.fields("id", "title").related("owner_by_owner_id").order("title DESC").limit(10).offset(20));`,
  ]);
});

Deno.test("reads are dropped unless all, and repeated reads are collapsed", () => {
  const har = harOf(
    entry("GET", `${B}/system/role?include_count=true`, { headers: auth }),
    entry("POST", `${B}/system/role`, {
      headers: auth,
      body: { resource: [{ name: "r" }] },
      status: 201,
      response: { resource: [{ id: 1 }] },
    }),
    entry("GET", `${B}/system/role?include_count=true`, { headers: auth }),
  );
  assertEquals(calls(fromHar(har, opts)), [`await df.system.role.create({ name: "r" });`]);
  const all = calls(fromHar(har, { ...opts, all: true }));
  assertEquals(all.length, 2);
  assertEquals(all[0], `console.log(await df.system.role.params({ include_count: "true" }));`);
});

Deno.test("a count_only read becomes .count(), never a refused .params()", () => {
  const har = harOf(
    entry("GET", `${B}/system/user?filter=(is_active%3Dtrue)&count_only=true`, {
      headers: auth,
      response: 3,
    }),
  );
  assertEquals(calls(fromHar(har, { ...opts, all: true })), [
    `console.log(await df.system.user.filter("(is_active=true)").count());`,
  ]);
});

Deno.test("write options, ids and continue/rollback map to builder arguments", () => {
  const s = fromHar(
    harOf(
      entry("POST", `${B}/system/user?continue=true&fields=*`, {
        body: { resource: [{ email: "a@x.com", name: "a" }, { email: "b@x.com", name: "b" }] },
        status: 201,
        response: { resource: [{ id: 7 }, { id: 8 }] },
      }),
      entry("PATCH", `${B}/system/user?ids=7,8&rollback=true`, { body: { is_active: false } }),
      entry("DELETE", `${B}/db/_table/todo?ids=3,4`),
      entry("DELETE", `${B}/db/_table/todo?filter=done%3Dtrue`),
      entry("PATCH", `${B}/system/role`, { body: { resource: [{ id: 4, name: "x" }] } }),
      entry("PUT", `${B}/db/_table/todo/9`, { body: { title: "t", id: 9 } }),
    ),
    opts,
  );
  assertEquals(calls(s), [
    `const users = await df.system.user.create([{ email: "a@x.com", name: "a" }, { email: "b@x.com", name: "b" }], { fields: "*", continue: true });`,
    `await df.system.user.ids(users[0].id, users[1].id).update({ is_active: false }, { rollback: true });`,
    `await df.db("db").table("todo").ids(3, 4).delete();`,
    `await df.db("db").table("todo").filter("done=true").delete();`,
    `await df.system.role.update([{ id: 4, name: "x" }]);`,
    `await df.db("db").table("todo").ids(9).replace({ title: "t" });`,
  ]);
});

Deno.test("tunnelled verbs (POST + X-HTTP-Method) are read as the verb they carry", () => {
  const s = fromHar(
    harOf(
      entry("POST", `${B}/db/_table/contact?fields=id`, {
        headers: { ...auth, "X-HTTP-Method": "GET" },
      }),
      entry("POST", `${B}/system/role/5`, {
        headers: { "x-http-method": "DELETE" },
      }),
    ),
    opts,
  );
  assertEquals(calls(s), [`await df.system.role.ids(5).delete();`]);
  const all = calls(fromHar(
    harOf(entry("POST", `${B}/db/_table/contact?fields=id`, {
      headers: { "X-HTTP-Method": "GET" },
    })),
    { ...opts, all: true },
  ));
  assertEquals(all, [`console.log(await df.db("db").table("contact").fields("id"));`]);
});

Deno.test("system-only keeps only /api/v2/system calls; other URLs and sessions are ignored", () => {
  const har = harOf(
    entry("GET", "http://df.local/dreamfactory/dist/main.js"),
    entry("POST", `${B}/system/admin/session`, {
      body: { email: "a@b.c", password: "AdminPw123" },
      response: { session_token: TOKEN },
    }),
    entry("OPTIONS", `${B}/system/role`),
    entry("POST", `${B}/db/_table/todo`, { body: { resource: [{ title: "x" }] } }),
    entry("POST", `${B}/system/lookup`, { body: { resource: [{ name: "k", value: "v" }] } }),
  );
  assertEquals(calls(fromHar(har, { ...opts, systemOnly: true })), [
    `await df.system.lookup.create({ name: "k", value: "v" });`,
  ]);
  assertEquals(calls(fromHar(har, opts)).length, 2);
});

Deno.test("schema calls and resources without a builder use schema api and df.request", () => {
  const s = fromHar(
    harOf(
      entry("POST", `${B}/db/_schema`, {
        body: { resource: [{ name: "todo", field: [{ name: "id", type: "id" }] }] },
      }),
      entry("DELETE", `${B}/db/_schema/old`),
      entry("POST", `${B}/system/cache/flush?x=1`, { body: { all: true } }),
    ),
    opts,
  );
  assertEquals(calls(s), [
    `await df.db("db").schema.create({ name: "todo", field: [{ name: "id", type: "id" }] });`,
    `await df.db("db").schema.drop("old");`,
    `await df.request("POST", "system/cache/flush", { query: { x: "1" }, body: { all: true } });`,
  ]);
});

Deno.test("failed calls in the recording are left out and counted", () => {
  const s = fromHar(
    harOf(entry("POST", `${B}/system/role`, { body: { resource: [{ name: "r" }] }, status: 400 })),
    opts,
  );
  assertEquals(calls(s), []);
  assert(s.includes("1 failed call"), s);
});

Deno.test("profile option connects with the profile", () => {
  const s = fromHar(harOf(entry("DELETE", `${B}/system/role/3`)), { ...opts, profile: "staging" });
  assert(s.includes(`const df = await connect({ profile: "staging" });`), s);
});

Deno.test("malformed HAR documents get errors naming the entry and the field", () => {
  const cases: [unknown, RegExp][] = [
    ["{not json", /not JSON/],
    [{}, /expected an object with a "log" object/],
    [{ log: {} }, /log\.entries must be an array/],
    [harOf(entry("GET", `${B}/system/role`), 5 as never), /HAR entry #1: must be an object/],
    [
      { log: { entries: [{ request: { method: "GET" } }] } },
      /HAR entry #0: request\.url is missing/,
    ],
    [
      { log: { entries: [{}, { request: { method: "GET", url: "/api/v2/system" } }] } },
      /HAR entry #0: "request" is missing/,
    ],
    [
      { log: { entries: [{ request: { method: "GET", url: "/api/v2/system/user" } }] } },
      /HAR entry #0: request\.url "\/api\/v2\/system\/user" is not an absolute URL/,
    ],
    [
      { log: { entries: [{ request: { method: "G T", url: `${B}/system` } }] } },
      /HAR entry #0: request\.method/,
    ],
    [
      harOf({
        ...entry("GET", `${B}/x`),
        request: { ...entry("GET", `${B}/x`).request, headers: {} as never },
      }),
      /HAR entry #0: request\.headers must be an array/,
    ],
    [harOf(entry("GET", "https://example.com/index.html")), /no DreamFactory API calls found/],
  ];
  for (const [input, pattern] of cases) {
    throws(() => fromHar(input, opts), (err: unknown) => {
      assert(err instanceof HarError, `expected HarError for ${pattern}`);
      assert(pattern.test(err.message), `${err.message} !~ ${pattern}`);
      return true;
    });
  }
});

Deno.test("every tunnelling form is understood, with parameters carried in the body", () => {
  const s = fromHar(
    harOf(
      entry("POST", `${B}/db/_table/todo?method=DELETE`, { body: { ids: [1, 2] } }),
      entry("POST", `${B}/db/_table/todo/5`, {
        headers: { "X-Method-Override": "MERGE" },
        body: { done: true },
      }),
      entry("POST", `${B}/db/_table/todo?_method=delete&filter=done%3Dtrue`, {
        headers: { "X-HTTP-Method-Override": "DELETE" },
      }),
      entry("POST", `${B}/db/_table/class`, {
        body: { resource: [{ name: "c" }] },
        response: { resource: [{ id: 4 }] },
      }),
      entry("DELETE", `${B}/db/_table/class/4`),
      entry("POST", `${B}/system/user?send_invite=true`, {
        body: { resource: [{ email: "x@y.z" }] },
      }),
    ),
    opts,
  );
  assertEquals(calls(s), [
    `await df.db("db").table("todo").ids(1, 2).delete();`,
    `await df.db("db").table("todo").ids(5).update({ done: true });`,
    `await df.db("db").table("todo").filter("done=true").delete();`,
    `const [classRecord] = await df.db("db").table("class").create({ name: "c" });`,
    `await df.db("db").table("class").ids(classRecord.id as number).delete();`,
    `await df.system.user.create({ email: "x@y.z" }, { params: { send_invite: "true" } });`,
  ]);
});

Deno.test("a HAR saved with a byte order mark converts; bad JSON is located, not quoted", () => {
  const text = JSON.stringify(harOf(entry("DELETE", `${B}/system/role/3`)));
  assertEquals(calls(fromHar("\uFEFF" + text, opts)), [`await df.system.role.ids(3).delete();`]);
  const secret = "eyJhbGciOiJIUzI1NiJ9.not-json-token";
  throws(() => fromHar(`{"log": {"entries": [${secret}]}}`, opts), (err: unknown) => {
    assert(err instanceof HarError);
    assert(/not JSON \(at line 1, column \d+\)/.test(err.message), err.message);
    assert(!err.message.includes("eyJ"), err.message);
    return true;
  });
});
