import { assert, assertEquals, assertStringIncludes } from "./assert.ts";
import { asRecords, displayReady, hideSecrets, table } from "./dfkit.ts";
import { setup } from "./helpers.ts";

type Bundle = Record<string, string>;
const jupyter = (v: unknown) =>
  (v as Record<symbol, () => Bundle>)[Symbol.for("Jupyter.display")]();

Deno.test("record arrays from dfkit print as tables and stay plain arrays", async () => {
  await using fx = await setup();
  const { df } = fx;
  const long = "x".repeat(120);
  await df.system.role.create([{ name: "alpha", description: long }, { name: "<b>beta</b>" }]);
  const roles = await df.system.role.fields("id", "name", "description");
  assert(Array.isArray(roles));
  assertEquals(JSON.parse(JSON.stringify(roles))[0].description, long, "data untouched");
  assertEquals(Object.keys(roles), ["0", "1"]);
  const text = Deno.inspect(roles);
  assertStringIncludes(text, "┌");
  assertStringIncludes(text, "description");
  assertStringIncludes(text, "alpha");
  assertStringIncludes(text, "…");
  assert(!text.includes(long), "long values truncated in the view");
  assertStringIncludes(text, "2 records");
  const html = jupyter(roles)["text/html"];
  assertStringIncludes(html, "<table>");
  assertStringIncludes(html, "&lt;b&gt;beta&lt;/b&gt;");
  assert(!html.includes("<b>beta"), "values are escaped");
  const page = await df.system.role.limit(1).page();
  assertStringIncludes(Deno.inspect(page.records), "1 record");
});

Deno.test("table() displays any records, hiding write-only secrets in the view", async () => {
  await displayReady();
  const rows = [{ id: 1, email: "a@x.com", password: "hunter2-secret" }, { id: 2, extra: true }];
  const view = table(rows);
  const text = String(view);
  assertStringIncludes(text, "extra");
  assert(!text.includes("hunter2-secret"));
  assertStringIncludes(jupyter(view)["text/html"], "<th>email</th>");
  assertEquals(String(table([])), "(no records)");
  assertStringIncludes(String(table(rows, { columns: ["email"] })), "a@x.com");
  const many = asRecords(Array.from({ length: 60 }, (_, i) => ({ i })));
  assertStringIncludes(Deno.inspect(many), "10 more rows");
});

Deno.test("tables fit a width, naming the columns left out; keys show their last 4 only", async () => {
  await displayReady();
  const key = "abcdef0123456789".repeat(4);
  const rows = [{
    id: 1,
    name: "portal",
    api_key: key,
    description: "d".repeat(30),
    role_by_role_id: { id: 2, api_key: key, password: "hunter2-secret" },
  }];
  const text = table(rows, { width: 50 }).toString();
  for (const line of text.split("\n").filter((l) => /[│┌└├]/.test(l))) {
    assert(line.length <= 50, `${line.length}: ${line}`);
  }
  assertStringIncludes(text, "more columns (description, role_by_role_id)");
  // The library's footer speaks the library's language (no command-line options)...
  assertStringIncludes(text, "narrow with .fields(...) or see everything as JSON");
  assert(!text.includes("--"), text);
  // ...and a command line passes its own.
  const cli = table(rows, { width: 50, overflowHint: "see everything with --json" }).toString();
  assertStringIncludes(cli, "(description, role_by_role_id): see everything with --json");
  assertStringIncludes(text, "****6789");
  const full = table(rows).toString(); // not a terminal here: no width limit
  assertStringIncludes(full, "role_by_role_id");
  assert(!full.includes(key) && !full.includes(key.slice(0, 8)), full);
  assert(!full.includes("hunter2-secret"), "nested secrets are hidden too");
  assert(!table(rows).toHtml().includes(key));
});

Deno.test("asRecords marks a copy of a frozen, sealed or non-extensible array", async () => {
  await displayReady();
  for (const lock of [Object.freeze, Object.seal, Object.preventExtensions]) {
    const locked = lock([{ id: 1, name: "Ada" }]);
    const rows = asRecords(locked);
    assert(rows !== locked, `${lock.name}: a copy`);
    assertEquals(rows, [{ id: 1, name: "Ada" }]);
    assertStringIncludes(Deno.inspect(rows), "1 record");
    assertStringIncludes(jupyter(rows)["text/html"], "<table>");
    // Marking twice (e.g. records handed back to asRecords) keeps working once locked.
    const again = asRecords(lock(asRecords([{ id: 2 }])));
    assertStringIncludes(Deno.inspect(again), "1 record");
  }
  const plain = [{ id: 3 }];
  assert(asRecords(plain) === plain, "a plain array is marked in place");
});

Deno.test("views hide credentials by name, not flags that merely mention one", async () => {
  await displayReady();
  const text = String(table([{
    must_change_password: true,
    has_secret: false,
    api_token: "tok-Secret-123",
    client_secret: "cs-Secret-456",
    smtp_password: 48151623,
    refresh_token: ["rt-Secret-789"],
  }]));
  for (const shown of ["true", "false"]) assertStringIncludes(text, shown);
  assert(!text.includes("Secret-") && !text.includes("48151623"), text);
});

Deno.test("hideSecrets hides credential headers in any case, and masks API key headers", () => {
  const headers = {
    nested: { Authorization: "Bearer zzz-Secret-1" },
    "x-dreamfactory-session-token": "eyJ-Secret-2",
    COOKIE: "sid=Secret-3",
    "X-DreamFactory-API-Key": "0123456789abcdef-Secret-4key",
    apiKey: "fedcba9876543210-Secret-5key",
    note: "Authorization: see docs",
  };
  const shown = Deno.inspect(hideSecrets(headers));
  assert(!shown.includes("Secret-"), shown);
  assertStringIncludes(shown, 'Authorization: "••••••"');
  assertStringIncludes(shown, '"X-DreamFactory-API-Key": "****4key"');
  assertStringIncludes(shown, 'apiKey: "****5key"');
  assertStringIncludes(shown, 'note: "Authorization: see docs"');
  assertEquals(headers.nested.Authorization, "Bearer zzz-Secret-1", "the data is unchanged");
});

Deno.test("a {name, value} pair that holds a credential shows its value hidden, everywhere", async () => {
  await displayReady();
  // A remote service's config: headers and parameters are name/value pairs.
  const service = {
    name: "weather",
    config: {
      base_url: "https://api.example.com",
      headers: [
        { name: "Authorization", value: "Bearer pair-Secret-1" },
        { name: "Accept", value: "application/json" },
      ],
      parameters: [{ name: "appid", value: "pair-Secret-2" }, { name: "units", value: "metric" }],
    },
  };
  const lookups = [
    { name: "api_key", value: "pair-Secret-3", private: false },
    { name: "region", value: "eu-west", private: false },
    { name: "pin", value: "pair-Secret-4", private: true },
  ];
  const printed = [
    Deno.inspect(hideSecrets(structuredClone(service)), { depth: 8 }),
    Deno.inspect(asRecords([service])),
    Deno.inspect(asRecords(structuredClone(lookups))),
    table(lookups).toHtml(),
    Deno.inspect(hideSecrets(structuredClone(lookups))),
  ];
  for (const text of printed) {
    assert(!text.includes("Secret-"), text);
  }
  // What is not a credential stays readable.
  assertStringIncludes(printed[0], "application/json");
  assertStringIncludes(printed[0], "metric");
  assertStringIncludes(printed[2], "eu-west");
  assertStringIncludes(printed[3], "eu-west");
});
