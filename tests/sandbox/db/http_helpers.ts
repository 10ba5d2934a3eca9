/**
 * Real-HTTP helpers for the database-service tests: a sandbox with an admin session, and a
 * `call` that sends JSON with the given credentials and returns status and parsed body.
 *
 * @module
 */
import { startSandbox } from "../../../lib/sandbox/mod.ts";
import { adminLogin } from "../_helpers.ts";

/** The answer of one HTTP call. */
export interface HttpResult {
  status: number;
  body: unknown;
}

/** Credentials sent with a call. */
export interface Creds {
  token?: string;
  apiKey?: string;
}

/** A running sandbox with an admin token. */
export interface TestSandbox {
  url: string;
  admin: Creds;
  call(method: string, path: string, body?: unknown, creds?: Creds): Promise<HttpResult>;
  close(): Promise<void>;
}

/** Starts a sandbox on a free port and logs the admin in. */
export async function sandbox(
  opts: { maxRecords?: number; data?: string } = {},
): Promise<TestSandbox> {
  const sb = await startSandbox({ port: 0, ...opts });
  const base = sb.url.replace(/\/$/, "");
  const call = async (method: string, path: string, body?: unknown, creds: Creds = {}) => {
    const headers = new Headers({ "Content-Type": "application/json" });
    if (creds.token) headers.set("X-DreamFactory-Session-Token", creds.token);
    if (creds.apiKey) headers.set("X-DreamFactory-API-Key", creds.apiKey);
    const res = await fetch(`${base}/api/v2/${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch { /* not JSON */ }
    return { status: res.status, body: parsed };
  };
  const admin = { token: await adminLogin(sb) };
  return {
    url: base,
    admin,
    call: (m, p, b, c = admin) => call(m, p, b, c),
    close: () => sb.close(),
  };
}

/**
 * Runs `fn` on a fresh sandbox holding a `contact` table (id, name, age; `age` nullable, `name`
 * too unless `nameRequired`) with `rows` inserted in the order given.
 */
export async function withContactTable(
  rows: Record<string, unknown>[],
  fn: (sb: TestSandbox) => Promise<void>,
  options: { nameRequired?: boolean } = {},
): Promise<void> {
  const sb = await sandbox();
  try {
    const r = await sb.call("POST", "db/_schema", {
      resource: [{
        name: "contact",
        field: [
          { name: "id", type: "id" },
          options.nameRequired
            ? { name: "name", type: "string" }
            : { name: "name", type: "string", allow_null: true },
          { name: "age", type: "integer", allow_null: true },
        ],
      }],
    });
    if (r.status !== 200) throw new Error(`schema: ${JSON.stringify(r.body)}`);
    const w = await sb.call("POST", "db/_table/contact", { resource: rows });
    if (w.status !== 200) throw new Error(`rows: ${JSON.stringify(w.body)}`);
    await fn(sb);
  } finally {
    await sb.close();
  }
}
