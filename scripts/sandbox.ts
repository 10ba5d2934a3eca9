/**
 * `deno task sandbox`: runs the DreamFactory-compatible sandbox until Ctrl-C.
 *
 *   deno task sandbox [--port 8080] [--host 127.0.0.1] [--data FILE]
 *                     [--admin-email E] [--admin-password P] [--jwt-ttl S] [--max-records N]
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_ADMIN, startSandbox } from "../lib/sandbox/mod.ts";

const USAGE = `Usage: deno task sandbox [options]

  --port N             port to listen on (default 8080; 0 picks a free one)
  --host H             interface to listen on (default 127.0.0.1)
  --data FILE          SQLite file keeping everything across restarts (default: in memory)
  --admin-email E      first admin's email, on a fresh data file (default ${DEFAULT_ADMIN.email})
  --admin-password P   first admin's password (default ${DEFAULT_ADMIN.password})
  --jwt-ttl S          session token lifetime in seconds (default 86400)
  --max-records N      per-request record cap
  -h, --help           this help`;

function fail(message: string): never {
  console.error(`sandbox: ${message}\n\n${USAGE}`);
  Deno.exit(2);
}

let parsed;
try {
  parsed = parseArgs({
    args: Deno.args,
    options: {
      port: { type: "string", default: "8080" },
      host: { type: "string", default: "127.0.0.1" },
      data: { type: "string" },
      "admin-email": { type: "string" },
      "admin-password": { type: "string" },
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
const admin = {
  email: v["admin-email"] ?? DEFAULT_ADMIN.email,
  password: v["admin-password"] ?? DEFAULT_ADMIN.password,
};
const sb = await startSandbox({
  port: int("port", v.port),
  host: v.host,
  data: v.data,
  admin,
  jwtTtl: int("jwt-ttl", v["jwt-ttl"]),
  maxRecords: int("max-records", v["max-records"]),
});
console.log(`DreamFactory sandbox listening on ${sb.url}/api/v2`);
console.log(`  admin:  ${admin.email} / ${admin.password}`);
console.log(`  data:   ${v.data ?? "in memory (lost on exit; use --data FILE to keep it)"}`);
console.log(`  try:    curl -s -X POST ${sb.url}/api/v2/system/admin/session \\`);
console.log(
  `            -H 'Content-Type: application/json' -d '{"email":"${admin.email}","password":"..."}'`,
);
console.log("Press Ctrl-C to stop.");

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.log("\nStopping the sandbox...");
  await sb.close();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
if (Deno.build.os !== "windows") Deno.addSignalListener("SIGTERM", stop);
