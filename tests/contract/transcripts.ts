/**
 * Replays the real DreamFactory 7.0.0 transcripts (tests/fixtures/df-observed) against a sandbox,
 * in the order they were recorded (each file's `Date` header, then its name), so that every file
 * sees the state the earlier ones created, as it did on the real server.
 *
 * Secrets differ between the two servers, so the replay learns them as it goes: wherever a real
 * response carried a `session_token`/`session_id`/`api_key`, the sandbox's answer at the same
 * place tells which value to send instead in later requests. Bodies are compared as JSON after
 * masking secrets, dates and host names.
 *
 * @module
 */
import { OBSERVED_DIR } from "../fixtures/observed.ts";

/** One recorded exchange. */
export interface Transcript {
  file: string;
  method: string;
  /** Path and query, as recorded. */
  target: string;
  headers: [string, string][];
  body: string;
  status: number;
  responseHeaders: [string, string][];
  responseBody: string;
  date: number;
}

/** The folder of the transcripts (vendored in tests/fixtures, or `DFKIT_OBSERVED_DIR`). */
export const TRANSCRIPT_DIR: URL = OBSERVED_DIR;

function parseHeaderBlock(lines: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const line of lines) {
    const i = line.indexOf(":");
    if (i > 0) out.push([line.slice(0, i).trim(), line.slice(i + 1).trim()]);
  }
  return out;
}

/** Parses one transcript file. */
export function parseTranscript(file: string, text: string): Transcript {
  const [reqPart, resPart] = text.split(/^### RESPONSE\n/m);
  const req = reqPart.replace(/^### REQUEST\n/, "");
  const reqBlank = req.indexOf("\n\n");
  const reqHead = (reqBlank >= 0 ? req.slice(0, reqBlank) : req).split("\n");
  const body = reqBlank >= 0 ? req.slice(reqBlank + 2).replace(/\n+$/, "") : "";
  const [method, target] = reqHead[0].split(" ");
  // The response has a status line, transport headers, a blank line, entity headers, a blank
  // line, then the body.
  const resLines = resPart.split("\n");
  const status = Number(resLines[0].split(" ")[1]);
  const blanks: number[] = [];
  resLines.forEach((l, i) => l === "" && blanks.push(i));
  const headEnd = blanks[1] ?? blanks[0] ?? resLines.length;
  const responseHeaders = parseHeaderBlock(resLines.slice(1, headEnd));
  const responseBody = resLines.slice(headEnd + 1).join("\n").trim();
  const dateHeader = responseHeaders.filter(([k]) => k.toLowerCase() === "date").pop();
  return {
    file,
    method,
    target,
    headers: parseHeaderBlock(reqHead.slice(1)),
    body,
    status,
    responseHeaders,
    responseBody,
    date: dateHeader ? Date.parse(dateHeader[1]) : 0,
  };
}

/** Every transcript, in recording order. */
export async function loadTranscripts(dir: URL = TRANSCRIPT_DIR): Promise<Transcript[]> {
  const list: Transcript[] = [];
  for await (const e of Deno.readDir(dir)) {
    if (!e.isFile || !e.name.endsWith(".txt")) continue;
    list.push(parseTranscript(e.name, await Deno.readTextFile(new URL(e.name, dir))));
  }
  list.sort((a, b) => a.date - b.date || (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return list;
}

const SECRET_KEYS = new Set(["session_token", "session_id", "api_key"]);
const DATE_RE = /^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?$/;

/** Learns secret substitutions by walking a real and a sandbox answer side by side. */
function learnSecrets(real: unknown, ours: unknown, map: Map<string, string>) {
  if (Array.isArray(real) && Array.isArray(ours)) {
    real.forEach((r, i) => learnSecrets(r, ours[i], map));
  } else if (real && ours && typeof real === "object" && typeof ours === "object") {
    for (const [k, v] of Object.entries(real)) {
      const o = (ours as Record<string, unknown>)[k];
      if (SECRET_KEYS.has(k) && typeof v === "string" && typeof o === "string") map.set(v, o);
      else learnSecrets(v, o, map);
    }
  }
}

/** Masks what legitimately differs between two servers: secrets, dates, host names, origins. */
export function normalise(value: unknown, origins: string[] = []): unknown {
  if (Array.isArray(value)) return value.map((v) => normalise(v, origins));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (SECRET_KEYS.has(k) && typeof v === "string") out[k] = "<secret>";
      else if (k === "host" && typeof v === "string") out[k] = "<host>";
      else out[k] = normalise(v, origins);
    }
    return out;
  }
  if (typeof value === "string") {
    if (DATE_RE.test(value)) return "<date>";
    let s = value;
    for (const o of origins) s = s.split(o).join("<origin>");
    // Dates embedded in messages (e.g. the values of an SQL insert) differ between servers too.
    s = s.replace(/\b\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}(\.\d+)?Z?\b/g, "<date>");
    return s.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, "<jwt>");
  }
  return value;
}

/** The outcome of replaying one transcript. */
export interface ReplayResult {
  file: string;
  ok: boolean;
  expectedStatus: number;
  actualStatus: number;
  /** Normalised bodies (JSON) when they differ. */
  expected?: unknown;
  actual?: unknown;
}

function substitute(s: string, map: Map<string, string>): string {
  for (const [from, to] of map) if (from && s.includes(from)) s = s.split(from).join(to);
  return s;
}

function tryJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

function jwtClaims(token: string): Record<string, unknown> | null {
  try {
    const part = token.split(".")[1];
    const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(b64 + "=".repeat((4 - b64.length % 4) % 4)));
  } catch {
    return null;
  }
}

/**
 * Some transcripts carry an admin token from a login that was not recorded. Such a token can
 * still be replaced: log the recorded server's first admin (user 1, whose credentials are
 * known) into the sandbox and use that session instead.
 */
async function learnUnrecordedAdminTokens(
  t: Transcript,
  baseUrl: string,
  secrets: Map<string, string>,
  admin: { email: string; password: string },
) {
  const text = [t.target, t.body, ...t.headers.map(([, v]) => v)].join("\n");
  for (const token of text.match(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g) ?? []) {
    if (secrets.has(token) || jwtClaims(token)?.user_id !== 1) continue;
    const res = await fetch(baseUrl.replace(/\/$/, "") + "/api/v2/system/admin/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(admin),
    });
    const body = await res.json();
    if (typeof body.session_token === "string") secrets.set(token, body.session_token);
  }
}

/**
 * Replays every transcript in order against `baseUrl` and reports each file's match. `admin`
 * is the recorded server's first admin (used only for tokens of unrecorded logins).
 */
export async function replayAll(
  baseUrl: string,
  transcripts: Transcript[],
  admin = { email: "admin@example.com", password: "Passw0rd123" },
): Promise<ReplayResult[]> {
  const secrets = new Map<string, string>();
  const origins = ["http://127.0.0.1:8080", baseUrl.replace(/\/$/, "")];
  const results: ReplayResult[] = [];
  for (const t of transcripts) {
    await learnUnrecordedAdminTokens(t, baseUrl, secrets, admin);
    const headers = new Headers();
    for (const [k, v] of t.headers) {
      if (["host", "content-length", "connection"].includes(k.toLowerCase())) continue;
      headers.append(k, substitute(v, secrets));
    }
    const method = t.method;
    const res = await fetch(baseUrl.replace(/\/$/, "") + substitute(t.target, secrets), {
      method,
      headers,
      body: method === "GET" || method === "HEAD" || !t.body
        ? undefined
        : substitute(t.body, secrets),
    });
    const text = await res.text();
    const realJson = tryJson(t.responseBody);
    const ourJson = tryJson(text);
    if (realJson !== undefined && ourJson !== undefined) learnSecrets(realJson, ourJson, secrets);
    const expected = realJson === undefined ? undefined : normalise(realJson, origins);
    const actual = ourJson === undefined ? undefined : normalise(ourJson, origins);
    const bodyOk = realJson === undefined
      ? (t.responseBody === "" || ourJson === undefined)
      : JSON.stringify(sortKeys(expected)) === JSON.stringify(sortKeys(actual));
    const ok = res.status === t.status && bodyOk;
    results.push({
      file: t.file,
      ok,
      expectedStatus: t.status,
      actualStatus: res.status,
      ...(ok ? {} : { expected, actual: actual ?? text.slice(0, 500) }),
    });
  }
  return results;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}
