/** Test helper: drives a sandbox with raw fetch, the way the admin console does, recording HAR. */
import type { Har, HarEntry } from "../../lib/har/mod.ts";

/** A fetch wrapper that records each exchange as a browser would export it (secrets included). */
export class ConsoleRecorder {
  readonly entries: HarEntry[] = [];
  token = "";
  constructor(readonly baseUrl: string, readonly apiKey?: string) {}

  async call(
    method: string,
    path: string,
    body?: unknown,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; json: Record<string, unknown> }> {
    const url = `${this.baseUrl}/api/v2/${path}`;
    const headers: Record<string, string> = { Accept: "application/json", ...extraHeaders };
    if (this.token) headers["X-DreamFactory-Session-Token"] = this.token;
    if (this.apiKey) headers["X-DreamFactory-API-Key"] = this.apiKey;
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined) headers["Content-Type"] = "application/json";
    const started = new Date();
    const res = await fetch(url, { method, headers, body: text });
    const resText = await res.text();
    const u = new URL(url);
    this.entries.push({
      startedDateTime: started.toISOString(),
      time: Date.now() - started.getTime(),
      request: {
        method,
        url,
        httpVersion: "HTTP/1.1",
        headers: Object.entries(headers).map(([name, value]) => ({ name, value })),
        queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
        cookies: [],
        ...(text === undefined ? {} : { postData: { mimeType: "application/json", text } }),
        headersSize: -1,
        bodySize: text?.length ?? 0,
      },
      response: {
        status: res.status,
        statusText: res.statusText,
        httpVersion: "HTTP/1.1",
        headers: [...res.headers].map(([name, value]) => ({ name, value })),
        cookies: [],
        content: { size: resText.length, mimeType: "application/json", text: resText },
        redirectURL: "",
        headersSize: -1,
        bodySize: resText.length,
      },
      cache: {},
      timings: { send: 0, wait: 1, receive: 0 },
    });
    return { status: res.status, json: resText ? JSON.parse(resText) : {} };
  }

  async login(email: string, password: string): Promise<void> {
    const r = await this.call("POST", "system/admin/session", { email, password });
    if (r.status !== 200) throw new Error(`login failed: ${JSON.stringify(r.json)}`);
    this.token = String(r.json.session_token);
  }

  har(): Har {
    return {
      log: { version: "1.2", creator: { name: "test", version: "1" }, entries: this.entries },
    };
  }
}

/** A compact HAR entry for fixtures. */
export function entry(
  method: string,
  url: string,
  o: {
    headers?: Record<string, string>;
    body?: unknown;
    status?: number;
    response?: unknown;
  } = {},
): HarEntry {
  const u = new URL(url);
  const text = o.body === undefined
    ? undefined
    : typeof o.body === "string"
    ? o.body
    : JSON.stringify(o.body);
  const resText = o.response === undefined ? "" : JSON.stringify(o.response);
  return {
    startedDateTime: "2026-11-28T10:00:00.000Z",
    time: 5,
    request: {
      method,
      url,
      httpVersion: "HTTP/1.1",
      headers: Object.entries(o.headers ?? {}).map(([name, value]) => ({ name, value })),
      queryString: [...u.searchParams].map(([name, value]) => ({ name, value })),
      cookies: [],
      ...(text === undefined ? {} : { postData: { mimeType: "application/json", text } }),
      headersSize: -1,
      bodySize: text?.length ?? 0,
    },
    response: {
      status: o.status ?? 200,
      statusText: "",
      httpVersion: "HTTP/1.1",
      headers: [],
      cookies: [],
      content: { size: resText.length, mimeType: "application/json", text: resText },
      redirectURL: "",
      headersSize: -1,
      bodySize: resText.length,
    },
    cache: {},
    timings: { send: 0, wait: 1, receive: 0 },
  };
}

/** Wraps entries in a HAR log. */
export function harOf(...entries: HarEntry[]): Har {
  return { log: { version: "1.2", creator: { name: "fixture", version: "1" }, entries } };
}
