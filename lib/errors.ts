/**
 * Errors thrown by dfkit: {@linkcode DreamFactoryError} for anything the server (or the network)
 * refused, {@linkcode DreamFactoryBatchError} for multi-record calls that partly failed.
 *
 * DreamFactory answers errors as `{"error": {"code", "context", "message", "status_code"}}` with
 * the message HTML-entity encoded; batch failures use `code: 1000` and list, per submitted index,
 * the result or the error in `context.resource` and the failed indexes in `context.error`.
 *
 * @module
 */
import { decodeHTML } from "entities";
import { bodySecrets, type Scrubber } from "./secrets.ts";

const INSPECT = Symbol.for("Deno.customInspect");

/** What a {@linkcode DreamFactoryError} is built from. */
export interface DreamFactoryErrorInit {
  /** HTTP status (0 when no response arrived: network failure or timeout). */
  status: number;
  /** DreamFactory's `code` (the HTTP status, 1000 for batch errors, a SQLSTATE string, or a
   * dfkit code such as `"TIMEOUT"` / `"NETWORK"`). */
  code: number | string;
  /** The message, HTML entities already decoded. */
  message: string;
  /** DreamFactory's `context` (validation details, batch results, limit data) or null. */
  context?: unknown;
  /** The request's HTTP method. */
  method: string;
  /** The request's path and query, secrets redacted. */
  path: string;
  /** The underlying error, if any. */
  cause?: unknown;
  /** What probably went wrong and what to do, when dfkit can tell more than the server said:
   * appended to the message, after the server's own text. */
  hint?: string;
}

/**
 * An error answered by DreamFactory (or a failure to reach it). The message is the server's, with
 * HTML entities decoded; `method` and `path` say which call failed (secrets redacted).
 *
 * @example
 * ```ts
 * import { connect, DreamFactoryError } from "@dfkit/dfkit";
 * const df = await connect({ url: "http://127.0.0.1:8080", email: "a@b.c", password: "pw" });
 * try {
 *   await df.system.user.get(999);
 * } catch (e) {
 *   if (e instanceof DreamFactoryError && e.status === 404) console.log(e.message);
 * }
 * ```
 */
export class DreamFactoryError extends Error {
  /** HTTP status (0 when no response arrived). */
  readonly status: number;
  /** DreamFactory's error code (HTTP status, 1000 for batches, SQLSTATE, or a dfkit code). */
  readonly code: number | string;
  /** DreamFactory's `context`, or null. */
  readonly context: unknown;
  /** HTTP method of the failed request. */
  readonly method: string;
  /** Path and query of the failed request, with secrets redacted. */
  readonly path: string;
  /** dfkit's hint on the likely cause, also at the end of `message` (which starts with the
   * server's own text), or undefined. */
  readonly hint?: string;

  /** Builds an error; normally dfkit does this for you. */
  constructor(init: DreamFactoryErrorInit) {
    super(
      init.hint ? `${init.message} Hint: ${init.hint}` : init.message,
      init.cause === undefined ? undefined : { cause: init.cause },
    );
    this.name = "DreamFactoryError";
    this.status = init.status;
    this.code = init.code;
    this.context = init.context ?? null;
    this.method = init.method;
    this.path = init.path;
    if (init.hint) this.hint = init.hint;
    this.#fixStack();
  }

  /** A one-line summary: status, method, path and message. */
  get summary(): string {
    const status = this.status ? `${this.status}` : `${this.code}`;
    return `${status} on ${this.method} ${this.path}: ${this.message}`;
  }

  /** Rewrites the stack's first line so an uncaught error shows the failed call too. */
  protected refreshStack(): void {
    this.#fixStack();
  }

  #fixStack(): void {
    if (typeof this.stack !== "string") return;
    const lines = this.stack.split("\n");
    const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
    const frames = firstFrame >= 0 ? lines.slice(firstFrame) : [];
    this.stack = [`${this.name}: ${this.detail()}`, ...frames].join("\n");
  }

  /** The text shown in stacks and inspection; subclasses add detail. */
  protected detail(): string {
    return this.summary;
  }

  /** A JSON-safe copy (never includes secrets). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      status: this.status,
      code: this.code,
      message: this.message,
      context: this.context,
      method: this.method,
      path: this.path,
      ...(this.hint ? { hint: this.hint } : {}),
    };
  }

  /** How `console.log` and `Deno.inspect` show the error. */
  [INSPECT](): string {
    return this.stack ?? `${this.name}: ${this.detail()}`;
  }
}

/** One record of a batch that DreamFactory processed successfully. */
export interface BatchSuccess<T = Record<string, unknown>> {
  /** Position of the record in the submitted array. */
  index: number;
  /** What the server returned for it (at least its id). */
  record: T;
  /** True when the server undid this record's write (its batch was sent with `rollback`); a
   * record of an earlier, committed chunk of the same call has none. */
  rolledBack?: boolean;
}

/** One record of a batch that DreamFactory refused. */
export interface BatchFailure {
  /** Position of the record in the submitted array. */
  index: number;
  /** The server's error for that record. */
  error: DreamFactoryError;
}

/**
 * A builder method or write was given something it cannot use (an id with a comma, `.limit(0)`,
 * a relationship or `.order()` field the table does not have, a record that is not an object):
 * thrown before any request. A `TypeError`, so `catch (e) { if (e instanceof TypeError) }` keeps
 * working; the CLI answers it as a usage mistake (exit 2).
 *
 * @example
 * ```ts
 * import { connect, QueryArgumentError } from "@dfkit/dfkit";
 * const df = await connect();
 * try { await df.system.role.limit(0); } catch (e) { console.log(e instanceof QueryArgumentError); }
 * ```
 */
export class QueryArgumentError extends TypeError {
  /** Builds the error. */
  constructor(message: string) {
    super(message);
    this.name = "QueryArgumentError";
  }
}

/**
 * A multi-record call (create, update, replace, delete, or a read by ids) that did not fully
 * succeed. Lists, per submitted index, which records succeeded (with what the server returned,
 * e.g. their ids), which failed (with DreamFactory's message), which were never attempted (the
 * server stops at the first failure unless `continue` is set), and whether the server rolled
 * everything back (`rollback`). Its `message` is DreamFactory's (kept in `batchMessage`) with the
 * counts and the first failures' reasons, so that an uncaught one says why it failed:
 *
 * ```text
 * Batch Error: Not all requested records could be created. (1 failed, 1 succeeded)
 *   #1 failed: Duplicate entry 'a' for key 'name'
 * ```
 *
 * @example
 * ```ts
 * import { connect, DreamFactoryBatchError } from "@dfkit/dfkit";
 * const df = await connect({ url: "http://127.0.0.1:8080", email: "a@b.c", password: "pw" });
 * try {
 *   await df.system.user.create([{ name: "A", email: "a@x.com" }, { name: "B", email: "bad" }], {
 *     continue: true,
 *   });
 * } catch (e) {
 *   if (e instanceof DreamFactoryBatchError) {
 *     for (const f of e.failed) console.log(f.index, f.error.message);
 *     console.log(e.succeeded.map((s) => s.record), e.rolledBack);
 *   }
 * }
 * ```
 */
export class DreamFactoryBatchError<T = Record<string, unknown>> extends DreamFactoryError {
  /** Records the server processed successfully; those it then undid carry `rolledBack`. */
  readonly succeeded: BatchSuccess<T>[];
  /** Records the server refused, with its message for each. */
  readonly failed: BatchFailure[];
  /** Indexes that were submitted but never attempted (the server stopped at a failure). */
  readonly skipped: number[];
  /** True when the server undid every change of the failed request (`rollback: true`). Records
   * of earlier chunks (see {@linkcode rebased}) stay written: check each `succeeded[i].rolledBack`. */
  readonly rolledBack: boolean;
  /** DreamFactory's own message for the batch (`Batch Error: Not all requested records could be
   * created.`), without the per-record summary that `message` adds. */
  readonly batchMessage: string;

  /** Builds a batch error; normally dfkit does this from the server's answer. */
  constructor(
    init: DreamFactoryErrorInit & {
      succeeded: BatchSuccess<T>[];
      failed: BatchFailure[];
      skipped?: number[];
      rolledBack: boolean;
    },
  ) {
    // Deno prints only the name and message of an uncaught error: the message says why.
    super({ ...init, message: withOutcome(init.message, init) });
    this.name = "DreamFactoryBatchError";
    this.batchMessage = init.message;
    this.succeeded = init.succeeded;
    this.failed = init.failed;
    this.skipped = init.skipped ?? [];
    this.rolledBack = init.rolledBack;
    this.refreshStack();
  }

  /** A one-line summary: status, method, path and DreamFactory's message for the batch. */
  override get summary(): string {
    const status = this.status ? `${this.status}` : `${this.code}`;
    return `${status} on ${this.method} ${this.path}: ${this.batchMessage ?? this.message}`;
  }

  /**
   * This error of one chunk of a larger call, re-indexed to the whole call: the chunk held the
   * records `offset` to `offset + size - 1` of `total`; `before` are the records earlier chunks
   * already processed. Later records count as never attempted.
   *
   * @example
   * ```ts
   * import { connect, DreamFactoryBatchError } from "@dfkit/dfkit";
   * const df = await connect();
   * const rows = [{ name: "a" }, { name: "b" }, { name: "c" }];
   * const done = [];
   * for (let i = 0; i < rows.length; i += 2) {
   *   const part = rows.slice(i, i + 2);
   *   try {
   *     done.push(...await df.system.role.create(part));
   *   } catch (e) {
   *     if (!(e instanceof DreamFactoryBatchError)) throw e;
   *     const before = done.map((record, index) => ({ index, record }));
   *     throw e.rebased(i, part.length, rows.length, before);
   *   }
   * }
   * ```
   */
  rebased(
    offset: number,
    size: number,
    total: number,
    before: BatchSuccess<T>[] = [],
  ): DreamFactoryBatchError<T> {
    const skipped = this.skipped.map((i) => i + offset);
    for (let i = offset + size; i < total; i++) skipped.push(i);
    return new DreamFactoryBatchError<T>({
      status: this.status,
      code: this.code,
      message: this.batchMessage,
      context: this.context,
      method: this.method,
      path: this.path,
      cause: this.cause,
      succeeded: [...before, ...this.succeeded.map((s) => ({ ...s, index: s.index + offset }))],
      failed: this.failed.map((f) => ({ ...f, index: f.index + offset })),
      skipped,
      rolledBack: this.rolledBack,
      hint: this.hint,
    });
  }

  /** Per-index summary, e.g. `#1 failed: Invalid data supplied...; #0 succeeded (id 4)`. */
  protected override detail(): string {
    if (!this.failed) return this.summary; // called by the base constructor before fields exist
    const parts: string[] = [];
    for (const f of this.failed) parts.push(`  #${f.index} failed: ${f.error.message}`);
    for (const s of this.succeeded) {
      const rec = s.record as Record<string, unknown> | null;
      const id = rec && typeof rec === "object" && "id" in rec ? ` (id ${rec.id})` : "";
      parts.push(`  #${s.index} ${s.rolledBack ? "rolled back" : "succeeded"}${id}`);
    }
    if (this.skipped.length) parts.push(`  not attempted: #${this.skipped.join(", #")}`);
    return `${this.summary}\n${parts.join("\n")}`;
  }

  /** A JSON-safe copy with the per-index results. */
  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      succeeded: this.succeeded,
      failed: this.failed.map((f) => ({ index: f.index, error: f.error.toJSON() })),
      skipped: this.skipped,
      rolledBack: this.rolledBack,
    };
  }
}

/** How many failures a batch error's message names (the rest are counted). */
const FAILURES_IN_MESSAGE = 3;

/**
 * A batch's message with its outcome: the counts, then the first failures, one line each
 * (`inspect` and the CLI list every record).
 */
function withOutcome(
  message: string,
  outcome: {
    succeeded: { rolledBack?: boolean }[];
    failed: BatchFailure[];
    skipped?: number[];
  },
): string {
  const { succeeded, failed, skipped = [] } = outcome;
  const counts = [`${failed.length} failed`];
  const undone = succeeded.filter((s) => s.rolledBack).length;
  if (succeeded.length > undone) counts.push(`${succeeded.length - undone} succeeded`);
  if (undone) counts.push(`${undone} rolled back`);
  if (skipped.length) counts.push(`${skipped.length} not attempted`);
  const lines = [`${message} (${counts.join(", ")})`];
  for (const f of failed.slice(0, FAILURES_IN_MESSAGE)) {
    const reason = f.error.message.replace(/\s+/g, " ").trim();
    lines.push(`  #${f.index} failed: ${shorten(reason, 200)}`);
  }
  const more = failed.length - FAILURES_IN_MESSAGE;
  if (more > 0) lines.push(`  … and ${more} more failed`);
  return lines.join("\n");
}

/**
 * Decodes the HTML entities DreamFactory puts in error messages (`&quot;` → `"`, `&amp;` → `&`,
 * `&eacute;` → `é`).
 *
 * @example
 * ```ts
 * import { decodeEntities } from "@dfkit/dfkit";
 * decodeEntities("Table &quot;x&quot; does not exist"); // 'Table "x" does not exist'
 * ```
 */
export function decodeEntities(text: string): string {
  return text.includes("&") ? decodeHTML(text) : text;
}

/** Where a failed call came from, for {@linkcode errorFromResponse}. */
export interface FailedCall {
  /** HTTP method. */
  method: string;
  /** Path and query with secrets redacted. */
  path: string;
  /** How many records were submitted (to list the ones a batch never attempted). */
  submitted?: number;
  /** Whether the caller asked for `rollback` (a failed rollback batch kept nothing). */
  rollback?: boolean;
  /** Applied to every message before it is stored (removes secrets echoed by the server). */
  redact?: (text: string) => string;
  /** Applied to `context` values (removes secret fields such as passwords and keys). */
  redactValue?: (value: unknown) => unknown;
  /**
   * The request's body (an object or JSON text): the values of its secret fields (passwords, API
   * keys, at any depth, every record of a batch) are blanked from the message and context, where
   * the server may repeat them (a failed insert's SQL error quotes the row).
   */
  body?: unknown;
  /** A hint on the likely cause of an error with this status and message, if any.
   * `dreamFactory`: whether the answer was DreamFactory's JSON error (not, say, an HTML page). */
  hint?: (status: number, message: string, dreamFactory: boolean) => string | undefined;
}

interface RawError {
  code?: unknown;
  context?: unknown;
  message?: unknown;
  status_code?: unknown;
}

function asRawError(value: unknown): RawError | null {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const v = value as Record<string, unknown>;
    if ("message" in v && ("code" in v || "status_code" in v)) return v as RawError;
  }
  return null;
}

/**
 * Turns a DreamFactory error response into a {@linkcode DreamFactoryError} (or a
 * {@linkcode DreamFactoryBatchError} for `code: 1000`). Non-JSON bodies (a proxy's HTML page)
 * become an error naming the status and the start of the body.
 *
 * @example
 * ```ts
 * import { errorFromResponse } from "@dfkit/dfkit";
 * const err = errorFromResponse(404, {
 *   error: { code: 404, context: null, message: "Record with identifier '9' not found." },
 * }, { method: "GET", path: "/api/v2/system/user/9" });
 * err.status; // 404
 * ```
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  call: FailedCall,
): DreamFactoryError {
  call = withEchoedSecrets(call);
  const redact = call.redact ?? ((s: string) => s);
  const envelope = body && typeof body === "object" ? (body as { error?: unknown }).error : null;
  const raw = asRawError(envelope);
  if (!raw) {
    const text = typeof body === "string" ? body : body == null ? "" : JSON.stringify(body);
    const snippet = looksLikeHtml(text)
      ? htmlSummary(text)
      : shorten(text.replace(/\s+/g, " ").trim(), 200);
    const message = redact(`HTTP ${status}${snippet ? `: ${snippet}` : " with an empty body"}`);
    return new DreamFactoryError({
      status,
      code: status,
      message,
      method: call.method,
      path: call.path,
      hint: call.hint?.(status, message, false),
    });
  }
  const message = redact(decodeEntities(String(raw.message ?? "")));
  const code = typeof raw.code === "number" || typeof raw.code === "string" ? raw.code : status;
  const ctx = call.redactValue ? call.redactValue(raw.context ?? null) : raw.context ?? null;
  if (code === 1000 && ctx && typeof ctx === "object" && Array.isArray((ctx as RawCtx).resource)) {
    return batchError(status, message, ctx as RawCtx, call);
  }
  return new DreamFactoryError({
    status,
    code,
    message,
    context: ctx,
    method: call.method,
    path: call.path,
    hint: call.hint?.(status, message, true) ?? unknownColumnHint(status, message),
  });
}

/**
 * DreamFactory passes a table's `group` and several-term `order` to the database as they are, and
 * quotes the names of other `order` terms and of a system resource's `fields` (SQLite reads an
 * unknown quoted name as a string, so only a qualified one such as `user.x` fails), so a misspelt
 * name comes back as a 500 quoting the SQL error (SQLite: "no such column: x", MySQL: "Unknown
 * column 'x'", PostgreSQL: `column "x" does not exist`), for tables inside "Failed to retrieve
 * records from 't'.". Say what it means.
 */
function unknownColumnHint(status: number, message: string): string | undefined {
  if (status !== 500) return undefined;
  const m = message.match(
    /no such column: ([\w.]+)|Unknown column '([^']+)'|column "([^"]+)" does not exist/,
  );
  const name = m && (m[1] ?? m[2] ?? m[3]);
  return name
    ? `"${name}" is not a field of this resource: check the names in fields, order, group and ` +
      "filter."
    : undefined;
}

/** The call with its redaction extended to the secrets of its request body (see
 * {@linkcode FailedCall.body}). */
function withEchoedSecrets(call: FailedCall): FailedCall {
  if (call.body === undefined || call.body === null) return call;
  const echoed = bodySecrets(call.body);
  const { redact, redactValue } = call;
  return {
    ...call,
    redact: (text) => echoed.scrub(redact ? redact(text) : text),
    redactValue: (value) => scrubStrings(redactValue ? redactValue(value) : value, echoed),
  };
}

/** A copy of JSON data with every string scrubbed (context holds the server's per-record
 * messages, which echo the values too). */
function scrubStrings(value: unknown, secrets: Scrubber): unknown {
  if (typeof value === "string") return secrets.scrub(value);
  if (Array.isArray(value)) return value.map((v) => scrubStrings(v, secrets));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = scrubStrings(v, secrets);
    return out;
  }
  return value;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function looksLikeHtml(text: string): boolean {
  return /^\s*(<!doctype html|<html|<head|<body|<title|<\?xml)/i.test(text) ||
    /<\/(html|body|title)>/i.test(text);
}

/** An HTML page (a web server's or a proxy's, not DreamFactory's JSON) as one short line: its
 * title and the start of its text, never the markup. */
function htmlSummary(html: string): string {
  const strip = (s: string) =>
    decodeEntities(s.replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
  const title = strip(html.match(/<title[^>]*>([\s\S]*?)<\/title>/i)?.[1] ?? "");
  let text = strip(
    html.replace(/<head[\s\S]*?<\/head>|<script[\s\S]*?<\/script>|<style[\s\S]*?<\/style>/gi, " ")
      .replace(/<title[\s\S]*?<\/title>/gi, " "),
  );
  if (title && text.startsWith(title)) text = text.slice(title.length).trim();
  const page = title ? `an HTML page, "${shorten(title, 80)}"` : "an HTML page";
  return text ? `${page}: ${shorten(text, 120)}` : page;
}

interface RawCtx {
  error?: unknown;
  resource: unknown[];
}

function batchError(
  status: number,
  message: string,
  ctx: RawCtx,
  call: FailedCall,
): DreamFactoryBatchError {
  const failedIdx = new Set(Array.isArray(ctx.error) ? ctx.error.map(Number) : []);
  const succeeded: BatchSuccess[] = [];
  const failed: BatchFailure[] = [];
  ctx.resource.forEach((entry, index) => {
    const raw = asRawError(entry);
    if (failedIdx.has(index) || (raw && !failedIdx.size)) {
      const inner = raw ?? { message: "Record failed (no detail from the server).", code: status };
      const innerStatus = Number(inner.status_code ?? inner.code);
      failed.push({
        index,
        error: new DreamFactoryError({
          // `code` may be a SQLSTATE ("23000"), not an HTTP status: keep the batch's then.
          status: Number.isInteger(innerStatus) && innerStatus >= 100 && innerStatus <= 599
            ? innerStatus
            : status,
          code: (inner.code as number | string) ?? status,
          message: (call.redact ?? ((s: string) => s))(decodeEntities(String(inner.message))),
          context: inner.context ?? null,
          method: call.method,
          path: call.path,
        }),
      });
    } else {
      succeeded.push({ index, record: (entry ?? {}) as Record<string, unknown> });
    }
  });
  const skipped: number[] = [];
  for (let i = ctx.resource.length; i < (call.submitted ?? 0); i++) skipped.push(i);
  const rolledBack = /rolled back/i.test(message);
  if (rolledBack) { for (const s of succeeded) s.rolledBack = true; }
  return new DreamFactoryBatchError({
    status,
    code: 1000,
    message,
    context: ctx,
    method: call.method,
    path: call.path,
    succeeded,
    failed,
    skipped,
    rolledBack,
  });
}
