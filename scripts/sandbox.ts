/**
 * `deno task sandbox`: runs the DreamFactory-compatible sandbox until Ctrl-C.
 *
 *   deno task sandbox [--port 8080] [--host 127.0.0.1] [--data FILE]
 *                     [--admin-email E] [--jwt-ttl S] [--max-records N]
 *
 * The first admin's password comes from `DF_SANDBOX_PASSWORD` (never the command line, where
 * `ps` shows it); without it, DreamFactory's public default is used.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_ADMIN, startSandbox } from "../lib/sandbox/mod.ts";
import { enterTaskFolder } from "./cwd.ts";
import { untilStopped } from "./signals.ts";

const USAGE = `Usage: deno task sandbox [options]

  --port N             port to listen on (default 8080; 0 picks a free one)
  --host H             interface to listen on (default 127.0.0.1)
  --data FILE          SQLite file keeping everything across restarts (default: in memory)
  --admin-email E      first admin's email, on a fresh data file (default ${DEFAULT_ADMIN.email});
                       the password comes from $DF_SANDBOX_PASSWORD (default ${DEFAULT_ADMIN.password})
  --jwt-ttl S          session token lifetime in seconds (default 86400)
  --max-records N      per-request record cap
  -h, --help           this help`;

function fail(message: string): never {
  console.error(`sandbox: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

enterTaskFolder(); // --data is the user's path

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      data: { type: "string" },
      "admin-email": { type: "string" },
      "jwt-ttl": { type: "string" },
      "max-records": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
} catch (e) {
  fail((e as Error).message);
}
const v = parsed.values;
if (v.help) {
  console.log(USAGE);
  Deno.exit(0);
}
const int = (name: string, raw: string | undefined) => {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) fail(`--${name} must be a whole number, got '${raw}'`);
  return Number(raw);
};
let chosen: string | undefined;
try {
  chosen = Deno.env.get("DF_SANDBOX_PASSWORD") || undefined;
} catch { /* no --allow-env: the default */ }
const admin = {
  email: v["admin-email"] ?? DEFAULT_ADMIN.email,
  password: chosen ?? DEFAULT_ADMIN.password,
};
const port = int("port", v.port);
if (port !== undefined && port > 65535) fail(`--port must be at most 65535, got ${port}`);
// An existing data file keeps the admin it was created with.
const existing = v.data !== undefined && await Deno.stat(v.data).then(() => true, () => false);
let sb;
try {
  sb = await startSandbox({
    port,
    host: v.host,
    data: v.data,
    admin,
    jwtTtl: int("jwt-ttl", v["jwt-ttl"]),
    maxRecords: int("max-records", v["max-records"]),
  });
} catch (e) {
  if (e instanceof Deno.errors.AddrInUse) {
    console.error(`sandbox: port ${port} on ${v.host} is in use; pick another with --port N`);
    Deno.exit(1);
  }
  // A --data file that is not a sandbox database, a folder that is not writable, ...
  const what = v.data === undefined ? "start" : `open --data ${v.data}`;
  console.error(`sandbox: cannot ${what}: ${(e as Error).message}`);
  Deno.exit(1);
}
// A chosen password is never printed; the default one is public (DreamFactory's docs use it).
const password = existing
  ? `(the one set when ${v.data} was created)`
  : chosen
  ? "(from DF_SANDBOX_PASSWORD)"
  : `${DEFAULT_ADMIN.password} (the default)`;
console.log(`DreamFactory sandbox listening on ${sb.url}/api/v2`);
console.log(`  admin:  ${existing ? sb.admin.email : admin.email}  password: ${password}`);
console.log(`  data:   ${v.data ?? "in memory (lost on exit; use --data FILE to keep it)"}`);
console.log(`  try:    curl -s -X POST ${sb.url}/api/v2/system/admin/session \\`);
console.log(
  `            -H 'Content-Type: application/json' -d '{"email":"${admin.email}","password":"..."}'`,
);
console.log("Press Ctrl-C to stop.");

await untilStopped();
console.log("\nStopping the sandbox...");
await sb.close();
Deno.exit(0);
