/** Shared helpers of the sandbox tests: a started sandbox with an admin session, and `call`; the
 * admin login every test folder uses for a raw session token. */
import { type Sandbox, type SandboxOptions, startSandbox } from "../../lib/sandbox/mod.ts";

/** One HTTP answer, parsed. */
export interface Answer {
  status: number;
  // deno-lint-ignore no-explicit-any
  body: any;
  headers: Headers;
}

/** Sends a request to the sandbox; `body` is JSON-encoded unless it is a string. */
export async function call(
  sb: Pick<Sandbox, "url">,
  method: string,
  path: string,
  opts: { body?: unknown; token?: string; apiKey?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const headers = new Headers(opts.headers);
  if (opts.token) headers.set("X-DreamFactory-Session-Token", opts.token);
  if (opts.apiKey) headers.set("X-DreamFactory-API-Key", opts.apiKey);
  if (opts.body !== undefined) headers.set("Content-Type", "application/json");
  const res = await fetch(`${sb.url}/api/v2/${path.replace(/^\//, "")}`, {
    method,
    headers,
    body: opts.body === undefined
      ? undefined
      : typeof opts.body === "string"
      ? opts.body
      : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch { /* not JSON */ }
  return { status: res.status, body, headers: res.headers };
}

/** Logs in an admin (default: the sandbox's first admin) and returns the session token, as a
 * user would get one without dfkit; a refused login throws. */
export async function adminLogin(
  sb: Pick<Sandbox, "url" | "admin">,
  creds: { email: string; password: string } = sb.admin,
): Promise<string> {
  const r = await call(sb, "POST", "system/admin/session", { body: creds });
  if (r.status !== 200) throw new Error(`admin login failed: ${JSON.stringify(r.body)}`);
  return r.body.session_token;
}

/** Runs `fn` with a fresh in-memory sandbox and an admin token; always closes the sandbox. */
export async function withSandbox(
  fn: (sb: Sandbox, token: string) => Promise<void>,
  options: SandboxOptions = {},
): Promise<void> {
  const sb = await startSandbox({ port: 0, ...options });
  try {
    await fn(sb, await adminLogin(sb));
  } finally {
    await sb.close();
  }
}

/** The error message of a DreamFactory error answer. */
export function messageOf(a: Answer): string {
  return a.body?.error?.message;
}
