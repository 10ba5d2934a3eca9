/**
 * Sandbox throughput and start-up. `deno bench -A bench/sandbox_bench.ts` reports time per
 * iteration; requests per second = 1e9 / (ns per iteration) for the single-request benches.
 *
 * - "login": `POST /api/v2/system/admin/session` (scrypt password check + JWT)
 * - "filtered, related GET system/user": filter + fields + related + include_count over 200 users
 * - "start-up": `startSandbox({ port: 0 })` to listening, then close
 */
import { startSandbox } from "../lib/sandbox/mod.ts";

const sb = await startSandbox({ port: 0 });
const login = async () => {
  const r = await fetch(`${sb.url}/api/v2/system/admin/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(sb.admin),
  });
  const body = await r.json();
  if (r.status !== 200) throw new Error(JSON.stringify(body));
  return body.session_token as string;
};
const token = await login();
const headers = { "X-DreamFactory-Session-Token": token, "Content-Type": "application/json" };
const role = await (await fetch(`${sb.url}/api/v2/system/role`, {
  method: "POST",
  headers,
  body: JSON.stringify([{ name: "bench", is_active: true }]),
})).json();
const users = Array.from({ length: 200 }, (_, i) => ({
  name: `User ${i}`,
  email: `user${i}@${i % 2 ? "example.com" : "other.org"}`,
  user_to_app_to_role_by_user_id: [{ app_id: 1, role_id: role.resource[0].id }],
}));
const created = await fetch(`${sb.url}/api/v2/system/user`, {
  method: "POST",
  headers,
  body: JSON.stringify({ resource: users }),
});
if (created.status !== 201) throw new Error(await created.text());
await created.body?.cancel();

const query = "filter=" + encodeURIComponent("email like '%@example.com'") +
  "&fields=id,email,name&related=user_to_app_to_role_by_user_id&order=name&limit=50&include_count=true";

Deno.bench("login (POST system/admin/session)", { group: "requests" }, async () => {
  await login();
});

Deno.bench("filtered, related GET system/user", { group: "requests" }, async () => {
  const r = await fetch(`${sb.url}/api/v2/system/user?${query}`, { headers });
  if (r.status !== 200) throw new Error(await r.text());
  await r.body?.cancel();
});

Deno.bench("start-up (startSandbox to listening, then close)", { group: "startup" }, async () => {
  const other = await startSandbox({ port: 0 });
  await other.close();
});

globalThis.addEventListener("unload", () => {
  void sb.close();
});
