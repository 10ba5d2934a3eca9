/**
 * dfkit session -> HAR: records every HTTP exchange a client makes (through its `onExchange`
 * hook) as a HAR 1.2 log with credentials redacted, loadable by browser devtools and HAR viewers.
 *
 * @module
 */

import type { DreamFactory } from "../client.ts";
import type { HttpExchange } from "../transport.ts";
import {
  isCredentialName,
  isSecretHeader,
  redactBodyText,
  REDACTED,
  redactUrl,
  Scrubber,
  SECRET_QUERY_PARAMS,
} from "../secrets.ts";
import type { Har, HarEntry, HarNameValue } from "./types.ts";
import { writeTextFileNamed } from "../files.ts";

/** A running recorder returned by {@linkcode recordHar}. */
export interface HarRecorder {
  /** The exchanges so far as a HAR document (a fresh copy each call). */
  toHar(): Har;
  /** Writes the HAR (pretty JSON) to a file; a failure is one sentence naming the file. */
  save(path: string): Promise<void>;
  /** Stops recording; entries recorded so far are kept. */
  stop(): void;
}

const VERSION = "0.1.0";

function headerList(headers: Record<string, string>): HarNameValue[] {
  return Object.entries(headers).map(([name, value]) => ({
    name,
    value: isSecretHeader(name) ? REDACTED : value,
  }));
}

function mimeOf(headers: Record<string, string>, fallback: string): string {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() === "content-type") return v;
  }
  return fallback;
}

/**
 * One exchange as a HAR entry, redacting credentials again even though the client already
 * did (headers, `session_token`/`api_key` query parameters, password and token body fields).
 *
 * @example
 * ```ts
 * import { connect, exchangeToHarEntry, type HarEntry, startSandbox } from "@dfkit/dfkit";
 * const sb = await startSandbox({ port: 0 });
 * const df = await connect({ url: sb.url, ...sb.admin });
 * const entries: HarEntry[] = [];
 * df.onExchange((ex) => entries.push(exchangeToHarEntry(ex)));
 * await df.system.role.fields("id");
 * await df.logout();
 * await sb.close();
 * ```
 */
export function exchangeToHarEntry(
  ex: HttpExchange,
  knownSecrets: readonly string[] = [],
): HarEntry {
  return harEntry(ex, new Scrubber(knownSecrets));
}

function harEntry(ex: HttpExchange, known: Scrubber): HarEntry {
  // A secret may come back inside a URL (a filter on a password), percent-encoded or not.
  let url = known.scrub(redactUrl(ex.url));
  let queryString: HarNameValue[] = [];
  try {
    const parsed = new URL(url);
    queryString = [...parsed.searchParams].map(([name, value]) => ({
      name,
      value: SECRET_QUERY_PARAMS.has(name.toLowerCase()) || isCredentialName(name) && value
        ? REDACTED
        : value,
    }));
    for (const { name, value } of queryString) {
      if (value === REDACTED && parsed.searchParams.get(name) !== REDACTED) {
        parsed.searchParams.set(name, REDACTED);
        url = parsed.href;
      }
    }
  } catch { /* not a URL: leave the query empty */ }
  const requestBody = ex.requestBody === undefined
    ? undefined
    : redactBodyText(ex.requestBody, known, mimeOf(ex.requestHeaders, ""));
  const responseBody = redactBodyText(ex.responseBody ?? "", known);
  const encoder = new TextEncoder();
  const entry: HarEntry = {
    startedDateTime: ex.startedAt,
    time: Math.max(0, ex.timings.total),
    request: {
      method: ex.method,
      url,
      httpVersion: "HTTP/1.1",
      headers: headerList(ex.requestHeaders),
      queryString,
      cookies: [],
      headersSize: -1,
      bodySize: requestBody === undefined ? 0 : encoder.encode(requestBody).length,
      ...(requestBody === undefined ? {} : {
        postData: { mimeType: mimeOf(ex.requestHeaders, "application/json"), text: requestBody },
      }),
    },
    response: {
      status: ex.status,
      statusText: ex.statusText ?? "",
      httpVersion: "HTTP/1.1",
      headers: headerList(ex.responseHeaders),
      cookies: [],
      content: {
        size: encoder.encode(responseBody).length,
        mimeType: mimeOf(ex.responseHeaders, "application/json"),
        text: responseBody,
      },
      redirectURL: "",
      headersSize: -1,
      bodySize: ex.status ? encoder.encode(responseBody).length : -1,
    },
    cache: {},
    timings: {
      send: 0,
      wait: Math.max(0, ex.timings.wait),
      receive: Math.max(0, ex.timings.receive),
    },
  };
  if (ex.error) entry._error = ex.error;
  return entry;
}

/**
 * Starts recording the HTTP exchanges of a dfkit client as a HAR log (secrets redacted).
 *
 * @example
 * ```ts
 * import { connect, recordHar, startSandbox } from "@dfkit/dfkit";
 * const sb = await startSandbox({ port: 0 });
 * const df = await connect({ url: sb.url, ...sb.admin });
 * const recorder = recordHar(df);
 * await df.system.role.create({ name: "readers" });
 * recorder.stop();
 * const har = recorder.toHar(); // or: await recorder.save("session.har") for a bug report
 * console.log(har.log.entries.length); // 1, its session token header "[REDACTED]"
 * await df.logout();
 * await sb.close();
 * ```
 */
export function recordHar(df: Pick<DreamFactory, "onExchange">): HarRecorder {
  const entries: HarEntry[] = [];
  // The client's exchanges come redacted, secrets seen in earlier request bodies (a private
  // lookup's value, a service's key) blanked wherever they come back (lib/transport.ts).
  const none = new Scrubber();
  const unsubscribe = df.onExchange((ex) => entries.push(harEntry(ex, none)));
  let stopped = false;
  const toHar = (): Har => ({
    log: {
      version: "1.2",
      creator: { name: "dfkit", version: VERSION },
      entries: structuredClone(entries),
    },
  });
  return {
    toHar,
    async save(path: string) {
      await writeTextFileNamed(path, JSON.stringify(toHar(), null, 2) + "\n", "HAR file");
    },
    stop() {
      if (!stopped) unsubscribe();
      stopped = true;
    },
  };
}
