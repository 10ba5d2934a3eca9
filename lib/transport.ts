/**
 * HTTP transport: builds requests (URL, headers, JSON body), sends them with timeouts, abort
 * signals and safe retries, parses responses, turns error envelopes into exceptions, redacts
 * secrets, and reports every exchange to listeners.
 *
 * @module
 */
import { DreamFactoryError, errorFromResponse } from "./errors.ts";
import {
  forEachSecret,
  parseForm,
  REDACTED,
  redactJson,
  redactUrl as redactSecretParams,
  Scrubber,
  SECRET_HEADERS,
} from "./secrets.ts";

/** A query-string value; arrays are joined with commas, `undefined` is left out. */
export type QueryValue =
  | string
  | number
  | boolean
  | undefined
  | null
  | readonly (string | number)[];

/** Options of one low-level call ({@linkcode Transport.send}, `df.request`). */
export interface RequestOptions {
  /** Query parameters (`{ filter: "...", fields: ["id", "name"] }`). */
  query?: Record<string, QueryValue>;
  /** JSON body (sent as-is: wrap records in `{ resource: [...] }` yourself at this level). */
  body?: unknown;
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** Aborts the call (and any retry wait). */
  signal?: AbortSignal;
  /** Milliseconds per attempt before the call fails with code `"TIMEOUT"` (default: client's). */
  timeout?: number;
  /** Retries allowed for this call (default: client's; only safe cases are ever retried). */
  retries?: number;
  /** Records submitted, so a batch error can list the ones never attempted. */
  submitted?: number;
  /** Whether `rollback` was requested (for batch errors). */
  rollback?: boolean;
  /** Skip authentication headers (login calls). */
  anonymous?: boolean;
  /** A hint on the likely cause of an error answer to this call, added to the error's message.
   * `dreamFactory`: whether the answer was DreamFactory's JSON error (not, say, an HTML page). */
  hint?: (status: number, message: string, dreamFactory: boolean) => string | undefined;
}

/** An exact HTTP call, as `toRequest()` shows it. Secret header values are placeholders. */
export interface RequestDescription {
  /** HTTP method. */
  method: string;
  /** Full URL. */
  url: string;
  /** Headers; the session token and API key appear as `$DF_SESSION_TOKEN` / `$DF_API_KEY`. */
  headers: Record<string, string>;
  /** JSON body, if any. */
  body?: unknown;
}

/** One HTTP exchange as delivered to `onExchange` listeners (a redacted copy). */
export interface HttpExchange {
  /** HTTP method. */
  method: string;
  /** Full URL (secret query parameters redacted). */
  url: string;
  /** Request headers (secrets redacted). */
  requestHeaders: Record<string, string>;
  /** Request body text (secrets redacted), or undefined. */
  requestBody?: string;
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** HTTP status text. */
  statusText: string;
  /** Response headers. */
  responseHeaders: Record<string, string>;
  /** Response body text (secrets redacted). */
  responseBody: string;
  /** When the request started (ISO 8601). */
  startedAt: string;
  /** Milliseconds: `wait` until headers arrived, `receive` reading the body, `total`. */
  timings: { wait: number; receive: number; total: number };
  /** Attempt number, 1 for the first try. */
  attempt: number;
  /** Set when no response arrived (network error, timeout, abort). */
  error?: string;
}

/** A listener of HTTP exchanges. */
export type ExchangeListener = (exchange: HttpExchange) => void;

/** Credentials the transport attaches to requests; provided by the auth layer. */
export interface CredentialSource {
  /** Headers for the next request; may refresh the session first (`signal`: stop waiting). */
  authHeaders(signal?: AbortSignal): Promise<Readonly<Record<string, string>>>;
  /** The headers right now, or undefined when a refresh must happen first (fast path). */
  currentHeaders?(): Readonly<Record<string, string>> | undefined;
  /** Called when the server says the token expired; resolves true if a retry makes sense. */
  onExpired(failedToken: string | undefined, signal?: AbortSignal): Promise<boolean>;
  /** Every secret value currently known (tokens, keys, passwords) for redaction. */
  secrets(): string[];
  /** A hint for an error answer these credentials probably caused (e.g. an unknown API key). */
  hint?(status: number, message: string): string | undefined;
}

/** Transport settings. */
export interface TransportOptions {
  /** Base URL of the DreamFactory instance (no `/api/v2`). */
  url: string;
  /** Default per-attempt timeout in ms (default 30000; 0, Infinity or more than 2^31 - 1 (about
   * 24.8 days): none). A call is aborted after between `timeout` and `timeout` + 5% (at most
   * + 1 s): calls share timers. */
  timeout?: number;
  /** Default retries for safe cases (default 2). */
  retries?: number;
  /** Longest wait honoured from a `Retry-After` header, in ms (default 10000). */
  maxRetryDelay?: number;
  /** The `fetch` to use (default: global). */
  fetch?: typeof fetch;
}

/**
 * The session token header. dfkit always uses DreamFactory's own headers (a DreamFactory behind
 * PHP's built-in server ignores the lower-cased `authorization` header `fetch` sends).
 *
 * @example
 * ```ts
 * import { SESSION_HEADER } from "@dfkit/dfkit";
 * const headers = { [SESSION_HEADER]: Deno.env.get("DF_SESSION_TOKEN")! };
 * ```
 */
export const SESSION_HEADER = "X-DreamFactory-Session-Token";
/**
 * The API key header.
 *
 * @example
 * ```ts
 * import { API_KEY_HEADER } from "@dfkit/dfkit";
 * const headers = { [API_KEY_HEADER]: Deno.env.get("DF_API_KEY")! };
 * ```
 */
export const API_KEY_HEADER = "X-DreamFactory-API-Key";

/** Replaces every known secret value inside a text. */
export function redactText(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s && s.length >= 4) out = out.split(s).join(REDACTED);
  return out;
}

/** A JSON value for logs and error context, redacted by `lib/secrets.ts`'s rules: secret-named fields'
 * scalar values, credential pairs and service config secrets. Messages keyed by a secret field
 * (`{"password": ["must be 16 characters"]}`) stay readable. */
function redactForLog(value: unknown): unknown {
  return redactJson(value, undefined, { scalarsOnly: true });
}

/** Redacts a body text: secret JSON keys and known secret values. */
export function redactBody(text: string, secrets: readonly string[]): string {
  let out = text;
  const trimmed = text.trimStart();
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    try {
      out = JSON.stringify(redactForLog(JSON.parse(text)));
    } catch { /* not JSON: value redaction below still applies */ }
  }
  return redactText(out, secrets);
}

/** Redacts secret query parameters (`lib/secrets.ts`'s rule) and known secret values in a URL. */
export function redactUrl(url: string, secrets: readonly string[]): string {
  return redactText(redactSecretParams(url), secrets);
}

function redactHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? REDACTED : v;
  }
  return out;
}

/** Encodes a query component readably: like encodeURIComponent but keeps `,` and `*`. */
export function encodeQueryValue(value: string): string {
  // Most values (field lists, numbers, flags) need no escaping at all: skip the work.
  if (isPlainQueryValue(value)) return value;
  const encoded = encodeURIComponent(value);
  // encodeURIComponent leaves `*` alone; a `,` (rare outside field lists) is put back.
  return encoded.includes("%2C") ? encoded.replaceAll("%2C", ",") : encoded;
}

/** Whether a value holds only letters, digits and `_ . ~ * , -` (`/^[\w.~*,-]*$/`), which go in
 * a URL unescaped. A loop, not the regex: it runs for every key and value of every request, and
 * measured in place (between network waits) the regex engine costs ~1 µs more per request. */
function isPlainQueryValue(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const plain = (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) ||
      c === 95 || c === 46 || c === 126 || c === 42 || c === 44 || c === 45;
    if (!plain) return false;
  }
  return true;
}

/** Builds `?a=1&b=2` from query values (undefined/null skipped, arrays comma-joined). */
export function queryString(query: Record<string, QueryValue> | undefined): string {
  const pieces: string[] = [];
  appendQuery(pieces, query);
  return pieces.join("");
}

/** Pushes `?`, `a`, `=`, `1`, `&`, ... for one final join: no intermediate strings. */
function appendQuery(pieces: string[], query: Record<string, QueryValue> | undefined): void {
  let separator = "?";
  for (const k in query) {
    const v = query[k];
    if (v === undefined || v === null) continue;
    const text = typeof v === "number" && Number.isSafeInteger(v)
      ? String(v) // digits and "-": nothing to escape
      : encodeQueryValue(Array.isArray(v) ? v.join(",") : String(v));
    pieces.push(separator, encodeQueryValue(k), "=", text);
    separator = "&";
  }
}

/** Normalises a path relative to `/api/v2` (accepts `system/role`, `/system/role`, `/api/v2/...`). */
export function apiPath(path: string): string {
  // The common case (`system/role`, `db/_table/x`) needs no rewriting.
  if (path.charCodeAt(0) !== 47 /* "/" */ && path && !path.startsWith("api/v2")) {
    return `/api/v2/${path}`;
  }
  const p = path.replace(/^\/+/, "").replace(/^api\/v2(\/|$)/, "");
  // The root (the service list) is `/api/v2`, as DreamFactory's own links write it.
  return p ? `/api/v2/${p}` : "/api/v2";
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function retryAfterMs(header: string | null): number | undefined {
  if (!header) return undefined;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** Why a fetch failed: its message and the underlying cause (`fetch failed` alone says nothing;
 * the cause names it: connection refused, DNS, TLS). */
function networkReason(err: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const cause = (err as { cause?: unknown })?.cause;
  const full = cause instanceof Error ? cause.message : cause ? String(cause) : "";
  // "error sending request for url (...): client error (Connect): tcp connect error: ..."
  // ends with the reason; the rest repeats the URL.
  const detail = full.split("): ").pop() ?? full;
  return detail && !message.includes(detail) ? `${message} (${detail})` : message;
}

/** 401 "Token has expired", or 403 "The token has been blacklisted" (a call that raced our own
 * refresh, or a logout elsewhere): cases where a fresh token (or a new login) may help. */
function isStaleTokenError(status: number, body: unknown): boolean {
  const msg = (body as { error?: { message?: unknown } } | null)?.error?.message;
  if (typeof msg !== "string" || /refresh failed/i.test(msg)) return false;
  return (status === 401 && /expired/i.test(msg)) || (status === 403 && /blacklisted/i.test(msg));
}

/**
 * Per-call timeouts without a timer or controller per call (arming and clearing those costs more
 * than the call's own client-side work): calls that start within one short slot (a twentieth of
 * the timeout, at most a second) share one AbortController. A timer closes the slot (so calls
 * never read the clock) and only then arms the abort, `ms` later: every call of the slot thus
 * gets at least `ms`, and at most `ms` + 5%; aborting a call that already finished does nothing.
 * The timers are unref'd, so they never keep a script alive.
 */
export class Deadlines {
  readonly #open = new Map<number, AbortSignal>();

  signal(ms: number): AbortSignal {
    const open = this.#open.get(ms);
    if (open) return open;
    const ctl = new AbortController();
    this.#open.set(ms, ctl.signal);
    const close = setTimeout(() => {
      this.#open.delete(ms);
      const abort = setTimeout(
        () => ctl.abort(new DOMException(`No response within ${ms} ms`, "TimeoutError")),
        ms,
      );
      Deno.unrefTimer(abort);
    }, Math.min(1000, Math.max(1, Math.floor(ms / 20))));
    Deno.unrefTimer(close);
    return ctl.signal;
  }
}

/** The longest delay `setTimeout` honours (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** One attempt as listeners will see it: the request half of the exchange, and its start. */
interface Attempt {
  t0: number;
  request: Pick<
    HttpExchange,
    "method" | "url" | "requestHeaders" | "requestBody" | "startedAt" | "attempt"
  >;
}

/** A response body: its JSON, the raw text when it is not JSON, null when empty. */
function parseBody(text: string): unknown {
  if (!text.length) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** No auth headers (anonymous calls). */
const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({});

/** A parsed response. */
export interface TransportResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** Parsed JSON body (or the raw text when not JSON; null when empty). */
  body: unknown;
}

/**
 * Sends DreamFactory requests. One per client; it knows the base URL, defaults, the credential
 * source and the exchange listeners.
 */
export class Transport {
  readonly url: string;
  readonly #timeout: number;
  readonly #retries: number;
  readonly #maxRetryDelay: number;
  readonly #fetch: typeof fetch;
  readonly #listeners = new Set<ExchangeListener>();
  readonly #deadlines = new Deadlines();
  readonly #shareHeaders: boolean;
  /** Where the path starts in a full URL: error paths keep any base path (`/df/api/v2/...`). */
  readonly #originLength: number;
  #credentials: CredentialSource | undefined;

  constructor(options: TransportOptions) {
    this.url = options.url.replace(/\/+$/, "").replace(/\/api\/v2$/, "");
    this.#originLength = this.url.match(/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*/i)?.[0].length ??
      this.url.length;
    this.#timeout = options.timeout ?? 30_000;
    this.#retries = options.retries ?? 2;
    this.#maxRetryDelay = options.maxRetryDelay ?? 10_000;
    this.#fetch = options.fetch ?? fetch;
    // A custom fetch may add to the headers it is given: it gets its own object every time.
    this.#shareHeaders = options.fetch === undefined;
  }

  /** Attaches the credential source (the auth layer). */
  setCredentials(source: CredentialSource): void {
    this.#credentials = source;
  }

  /** Subscribes to exchanges; returns the unsubscribe function. */
  onExchange(listener: ExchangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Every known secret (for redaction of text that may echo one). */
  secrets(): string[] {
    return this.#credentials?.secrets() ?? [];
  }

  /** Redacts secrets from any text. */
  redact(text: string): string {
    return redactText(text, this.secrets());
  }

  /** Full URL for a path and query. */
  buildUrl(path: string, query?: Record<string, QueryValue>): string {
    // One join makes one flat string: Deno's fetch reads a concatenated (rope) string more
    // slowly (measured: ~4 us per call).
    const pieces = [this.url, apiPath(path)];
    appendQuery(pieces, query);
    return pieces.join("");
  }

  /** The exact call, with credentials as `$DF_SESSION_TOKEN` / `$DF_API_KEY` placeholders. */
  describe(
    method: string,
    path: string,
    options: RequestOptions = {},
    auth: { token: boolean; apiKey: boolean },
  ): RequestDescription {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (options.body !== undefined) headers["Content-Type"] = "application/json";
    if (!options.anonymous) {
      if (auth.token) headers[SESSION_HEADER] = "$DF_SESSION_TOKEN";
      if (auth.apiKey) headers[API_KEY_HEADER] = "$DF_API_KEY";
    }
    Object.assign(headers, options.headers ?? {});
    const out: RequestDescription = {
      method: method.toUpperCase(),
      url: this.buildUrl(path, options.query),
      headers,
    };
    // Passwords and keys inside the body are shown redacted too: a description is for reading.
    if (options.body !== undefined) out.body = redactForLog(options.body);
    return out;
  }

  /**
   * Sends one call; returns the parsed response or throws {@linkcode DreamFactoryError}.
   *
   * The success path is all here, in one async frame (every extra `await` between the socket and
   * the caller costs measurably more than the work it wraps); failures are handled apart (in
   * {@linkcode Transport.#noAnswer} and {@linkcode Transport.#errorAnswer}), which keeps this
   * function small enough for V8 to optimise fully: it runs on every request.
   */
  async send(
    method: string,
    path: string,
    options: RequestOptions = {},
  ): Promise<TransportResponse> {
    if (method !== "GET") method = method.toUpperCase(); // reads (most calls) come as "GET"
    const url = this.buildUrl(path, options.query);
    const doFetch = this.#fetch; // called without a receiver (not as a method)
    let refreshed = false;
    for (let attempt = 1;; attempt++) {
      options.signal?.throwIfAborted();
      const creds = options.anonymous ? undefined : this.#credentials;
      const authHeaders = creds
        ? (creds.currentHeaders?.() ?? await creds.authHeaders(options.signal))
        : NO_HEADERS;
      const init = this.#init(method, options, authHeaders);
      const seen = this.#observe(method, url, init, attempt);
      let res: Response, text: string, t1 = 0;
      try {
        res = await doFetch(url, init);
        if (seen) t1 = performance.now();
        text = await res.text();
      } catch (err) {
        // No answer, or a body that broke off: either way no full answer to report.
        if (seen) this.#reportFailure(seen, err);
        await this.#noAnswer(err, method, url, options, attempt); // throws, or waits to retry
        continue;
      }
      if (seen) this.#reportAnswer(seen, res, text, t1);
      const result: TransportResponse = {
        status: res.status,
        headers: res.headers,
        body: parseBody(text),
      };
      if (result.status < 400) return result;
      const next = await this.#errorAnswer(result, method, url, options, attempt, {
        authHeaders,
        creds,
        refreshed,
      });
      if (next === "refreshed") {
        refreshed = true;
        attempt--; // a refresh is not a retry
      }
    }
  }

  /** The path of `url` for error messages: any base path kept, secrets redacted. */
  #safePath(url: string): string {
    return redactUrl(url.slice(this.#originLength), this.secrets());
  }

  /** After an attempt that got no answer (network failure, timeout, abort): waits before the
   * next attempt when retrying is safe, else throws the error to report. */
  async #noAnswer(
    err: unknown,
    method: string,
    url: string,
    options: RequestOptions,
    attempt: number,
  ): Promise<void> {
    if (options.signal?.aborted) throw options.signal.reason;
    const timedOut = err instanceof DOMException && err.name === "TimeoutError";
    const error = new DreamFactoryError({
      status: 0,
      code: timedOut ? "TIMEOUT" : "NETWORK",
      message: timedOut
        ? `No response within ${options.timeout ?? this.#timeout} ms`
        : `Could not reach ${this.url}: ${this.redact(networkReason(err))}`,
      method,
      path: this.#safePath(url),
      cause: err,
    });
    const idempotent = method === "GET" || method === "HEAD";
    if (!idempotent || attempt > (options.retries ?? this.#retries)) throw error;
    await sleep(this.#backoff(attempt), options.signal);
  }

  /** After an error answer (status >= 400): `"refreshed"` when a stale session was renewed (the
   * call is repeated, not counted as a retry), `"retry"` after waiting when the answer says to
   * retry and retrying is safe; otherwise throws the answer as a {@linkcode DreamFactoryError}. */
  async #errorAnswer(
    result: TransportResponse,
    method: string,
    url: string,
    options: RequestOptions,
    attempt: number,
    auth: {
      authHeaders: Readonly<Record<string, string>>;
      creds: CredentialSource | undefined;
      refreshed: boolean;
    },
  ): Promise<"refreshed" | "retry"> {
    const { status, headers, body } = result;
    if (
      !auth.refreshed && !options.anonymous && isStaleTokenError(status, body) &&
      this.#credentials
    ) {
      const token = auth.authHeaders[SESSION_HEADER];
      if (await this.#credentials.onExpired(token, options.signal)) return "refreshed";
    }
    const idempotent = method === "GET" || method === "HEAD";
    const after = retryAfterMs(headers.get("retry-after"));
    const retryable = (status === 429 || status === 503) && after !== undefined
      ? after <= this.#maxRetryDelay
      : idempotent && (status === 502 || status === 503 || status === 504);
    if (retryable && attempt <= (options.retries ?? this.#retries)) {
      await sleep(after ?? this.#backoff(attempt), options.signal);
      return "retry";
    }
    const creds = auth.creds;
    throw errorFromResponse(status, body, {
      method,
      path: this.#safePath(url),
      submitted: options.submitted,
      rollback: options.rollback,
      redact: (t) => this.redact(t),
      redactValue: redactForLog,
      body: options.body,
      hint: options.hint ?? (creds?.hint && ((s, m) => creds.hint!(s, m))),
    });
  }

  #backoff(attempt: number): number {
    return Math.min(this.#maxRetryDelay, 200 * 2 ** (attempt - 1)) * (0.75 + Math.random() / 2);
  }

  /** The fetch init of one attempt: headers (auth, JSON), body, and the timeout/abort signal.
   * Only keys with values: `body: undefined`, `signal: undefined` (and even `method: "GET"`,
   * the default) send Deno's fetch down a measurably slower path. */
  #init(
    method: string,
    options: RequestOptions,
    authHeaders: Readonly<Record<string, string>>,
  ): RequestInit & { headers: Record<string, string> } {
    const plain = options.body === undefined && !options.headers && this.#shareHeaders;
    const headers = plain ? this.#plainHeaders(authHeaders) : { Accept: "application/json" };
    if (!plain) { for (const k in authHeaders) headers[k] = authHeaders[k]; }
    const init: RequestInit & { headers: Record<string, string> } = method === "GET"
      ? { headers }
      : { method, headers };
    if (options.body !== undefined) {
      init.body = typeof options.body === "string" ? options.body : JSON.stringify(options.body);
      headers["Content-Type"] = "application/json";
    }
    if (options.headers) Object.assign(headers, options.headers);
    const ms = options.timeout ?? this.#timeout;
    let signal = options.signal;
    // A timeout of 0 or Infinity is none: only the caller's signal applies. So is one longer
    // than a timer can wait (~24.8 days): timers fire at once past that.
    if (ms > 0 && ms <= MAX_TIMER_MS) {
      const timeout = this.#deadlines.signal(ms);
      signal = signal ? AbortSignal.any([signal, timeout]) : timeout;
    }
    if (signal) init.signal = signal;
    return init;
  }

  // The headers of a call without a body or extra headers (most reads): one frozen object per
  // set of auth headers, which are themselves built once per token.
  #plainCache?: { auth: Readonly<Record<string, string>>; headers: Record<string, string> };

  #plainHeaders(authHeaders: Readonly<Record<string, string>>): Record<string, string> {
    if (this.#plainCache?.auth === authHeaders) return this.#plainCache.headers;
    const headers: Record<string, string> = { Accept: "application/json" };
    for (const k in authHeaders) headers[k] = authHeaders[k];
    this.#plainCache = { auth: authHeaders, headers: Object.freeze(headers) };
    return headers;
  }

  /** The attempt as listeners will see it, or undefined when nobody listens (most calls): the
   * timings and the request's copy are then not taken. */
  #observe(
    method: string,
    url: string,
    init: RequestInit & { headers: Record<string, string> },
    attempt: number,
  ): Attempt | undefined {
    if (this.#listeners.size === 0) return undefined;
    return {
      t0: performance.now(),
      request: {
        method,
        url,
        requestHeaders: init.headers,
        requestBody: typeof init.body === "string" ? init.body : undefined,
        startedAt: new Date().toISOString(),
        attempt,
      },
    };
  }

  /** Tells the listeners about an attempt that got an answer (`t1`: when its headers came). */
  #reportAnswer(
    attempt: Attempt,
    res: Response,
    text: string,
    t1: number,
  ): void {
    const now = performance.now();
    this.#emit({
      ...attempt.request,
      status: res.status,
      statusText: res.statusText,
      responseHeaders: Object.fromEntries(res.headers),
      responseBody: text,
      timings: { wait: t1 - attempt.t0, receive: now - t1, total: now - attempt.t0 },
    });
  }

  /** Tells the listeners about an attempt that got no answer (network error, timeout, abort). */
  #reportFailure(attempt: Attempt, err: unknown): void {
    const wait = performance.now() - attempt.t0;
    this.#emit({
      ...attempt.request,
      status: 0,
      statusText: "",
      responseHeaders: {},
      responseBody: "",
      timings: { wait, receive: 0, total: wait },
      error: (err as Error)?.message ?? String(err),
    });
  }

  /** Secret values seen in request bodies sent while someone listened (a private lookup's value,
   * a service's key, a password): listeners' copies blank them wherever they come back (a
   * filter on them, an error quoting the row, a later body). */
  readonly #learned = new Scrubber();

  #emit(raw: HttpExchange): void {
    const secrets = this.secrets();
    if (raw.requestBody) {
      let body: unknown;
      try {
        body = JSON.parse(raw.requestBody);
      } catch {
        body = parseForm(raw.requestBody, raw.requestHeaders["Content-Type"] ?? "");
      }
      if (body !== undefined) forEachSecret(body, (v) => this.#learned.add(v));
    }
    const learned = this.#learned;
    const ex: HttpExchange = {
      ...raw,
      url: learned.scrub(redactUrl(raw.url, secrets)),
      requestHeaders: redactHeaders(raw.requestHeaders),
      requestBody: raw.requestBody === undefined
        ? undefined
        : learned.scrub(redactBody(raw.requestBody, secrets)),
      responseHeaders: redactHeaders(raw.responseHeaders),
      responseBody: learned.scrub(redactBody(raw.responseBody, secrets)),
      error: raw.error === undefined ? undefined : learned.scrub(redactText(raw.error, secrets)),
    };
    if (ex.requestBody === undefined) delete ex.requestBody;
    if (ex.error === undefined) delete ex.error;
    for (const listener of this.#listeners) {
      try {
        listener(structuredClone(ex));
      } catch (err) {
        console.error("dfkit: an onExchange listener threw:", err);
      }
    }
  }

  /** Shows the base URL only. */
  [Symbol.for("Deno.customInspect")](): string {
    return `Transport { url: ${JSON.stringify(this.url)} }`;
  }
}

/**
 * Renders a request as a curl command, quoted for a POSIX shell. Credential placeholders stay
 * as shell variables (`"$DF_SESSION_TOKEN"`) so the command works after `export`ing them.
 *
 * @example
 * ```ts
 * import { renderCurl } from "@dfkit/dfkit";
 * renderCurl({ method: "GET", url: "http://127.0.0.1:8080/api/v2/system/role",
 *   headers: { "X-DreamFactory-Session-Token": "$DF_SESSION_TOKEN" } });
 * ```
 */
export function renderCurl(req: RequestDescription): string {
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // Header values holding only a `$VAR` placeholder are double-quoted so the shell expands them.
  const header = (k: string, v: string) =>
    /^\$DF_[A-Z_]+$/.test(v) ? `-H "${k}: ${v}"` : `-H ${q(`${k}: ${v}`)}`;
  const parts = ["curl -sS"];
  if (req.method !== "GET") parts[0] += ` -X ${req.method}`;
  parts.push(q(req.url));
  for (const [k, v] of Object.entries(req.headers)) parts.push(header(k, v));
  if (req.body !== undefined) {
    parts.push(
      `--data-binary ${q(typeof req.body === "string" ? req.body : JSON.stringify(req.body))}`,
    );
  }
  return parts.join(" \\\n  ");
}
