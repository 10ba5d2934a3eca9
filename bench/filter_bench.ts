/**
 * Filter module benchmarks: the server's per-request work (DreamFactory-strict parse + compile of
 * a typical filter) and the client's (forgiving parse + canonical print, the `f` template).
 * Run: deno bench -A bench/filter_bench.ts
 */
import {
  type ColumnInfo,
  compileDreamFactoryFilter,
  compileFilter,
  f,
  normalizeFilter,
  parseDreamFactoryFilter,
  whereClause,
} from "../lib/filter/mod.ts";

const COLUMNS: ColumnInfo[] = [
  { name: "id", type: "id" },
  { name: "name", type: "string" },
  { name: "email", type: "string" },
  { name: "is_active", type: "boolean" },
  { name: "created_date", type: "timestamp" },
  { name: "default_app_id", type: "reference" },
];
const TYPICAL =
  "(email like '%@example.com') and (is_active = 1) and ((id > 10) or (name in ('a','b','c')))";
const CLIENT =
  "email like '%@example.com' and is_active = true and (id > 10 or name in ('a', 'b', 'c'))";
const parsed = parseDreamFactoryFilter(TYPICAL)!;

Deno.bench("server: parse + compile a typical filter (DreamFactory-strict)", {
  group: "server",
  baseline: true,
}, () => {
  compileDreamFactoryFilter(TYPICAL, COLUMNS, { mode: "system" });
});
Deno.bench("server: parse only", { group: "server" }, () => {
  parseDreamFactoryFilter(TYPICAL);
});
Deno.bench("server: compile only (pre-parsed tree)", { group: "server" }, () => {
  compileFilter(parsed, COLUMNS, { mode: "system" });
});
Deno.bench("server: one comparison", { group: "server" }, () => {
  compileDreamFactoryFilter("email = 'jo@example.com'", COLUMNS, { mode: "system" });
});
Deno.bench(
  "client: normalizeFilter (parse, print, verify)",
  { group: "client", baseline: true },
  () => {
    normalizeFilter(CLIENT);
  },
);
Deno.bench("client: f template with 3 values", { group: "client" }, () => {
  f`email like ${"%@example.com"} and is_active = ${true} and id > ${10}`;
});
let n = 0;
Deno.bench(
  "client: where() with a plain value (printed without a re-read)",
  { group: "client" },
  () => {
    whereClause("email", "like", `%@example${n++ % 100}.com`).toString();
  },
);
Deno.bench("client: where() with a quote in the value (printed and re-read)", {
  group: "client",
}, () => {
  whereClause("name", "=", `O'Brien ${n++ % 100}`).toString();
});
