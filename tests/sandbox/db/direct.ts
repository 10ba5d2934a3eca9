/**
 * Calls a database service handler directly with a hand-built RequestContext (the core router's
 * job in the real sandbox), so the db service can be exercised without the HTTP layer. The HTTP
 * tests in this folder cover the same service end to end through `startSandbox`.
 *
 * @module
 */
import { errorResponse, toBool } from "../../../lib/sandbox/http.ts";
import type {
  AccessGrant,
  RequestContext,
  ServiceHandler,
  SessionInfo,
} from "../../../lib/sandbox/types.ts";

/** A grant function: component -> grant (null = nothing). Default: sys-admin. */
export type AccessFn = (component: string) => AccessGrant | null;

/** Every verb, no filters: what a sys-admin gets. */
export const ADMIN: AccessFn = () => ({ verbMask: 31, filters: [], filterOp: "AND" });

/** The answer of a direct call. */
export interface DirectResult {
  status: number;
  body: unknown;
  text: string;
}

/** Calls `handler` as the router would for `METHOD /api/v2/{service}/{path}`. */
export async function call(
  handler: ServiceHandler,
  method: string,
  path: string,
  opts: { body?: unknown; access?: AccessFn; session?: Partial<SessionInfo>; service?: string } =
    {},
): Promise<DirectResult> {
  const url = new URL(`http://127.0.0.1/api/v2/${opts.service ?? "db"}/${path}`);
  const payload = opts.body;
  const option = (name: string, ...aliases: string[]) => {
    for (const n of [name, ...aliases]) {
      const v = url.searchParams.get(n);
      if (v !== null) return v;
    }
    if (payload && typeof payload === "object" && !Array.isArray(payload)) {
      for (const n of [name, ...aliases]) {
        const v = (payload as Record<string, unknown>)[n];
        if (v !== undefined && v !== null && typeof v !== "object") return String(v);
      }
    }
    return undefined;
  };
  const session: SessionInfo = {
    userId: 1,
    user: null,
    isSysAdmin: true,
    appId: null,
    roleId: null,
    roleName: null,
    ...opts.session,
  };
  const ctx: RequestContext = {
    method,
    url,
    headers: new Headers(),
    payload,
    service: { id: 2, name: opts.service ?? "db", type: "sqlite", is_active: true, config: {} },
    // Raw (still percent-encoded) segments, as the core router passes them.
    resource: url.pathname.split("/").slice(4).join("/").replace(/\/+$/, ""),
    option,
    flag: (name, ...aliases) => toBool(option(name, ...aliases)),
    session,
    access: opts.access ?? ADMIN,
    lookups: { "user.id": String(session.userId ?? "") },
  };
  let res: Response;
  try {
    res = await handler.handle(ctx);
  } catch (e) {
    res = errorResponse(e);
  }
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch { /* not JSON */ }
  return { status: res.status, body, text };
}
