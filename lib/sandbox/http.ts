/**
 * DreamFactory's HTTP conventions shared by every part of the sandbox: the error envelope (with
 * PHP `htmlentities` encoding of messages), batch errors, JSON responses, request payloads and
 * query-string booleans. Both the system resources and the database services build on this file,
 * so that an error looks the same wherever it is raised.
 *
 * @module
 */
import { laravelClean, trimmedUnlessExcepted } from "../stored.ts";
import { FilterError } from "../filter/errors.ts";

/** An error the sandbox answers with DreamFactory's envelope `{error:{code,context,message,status_code}}`. */
export class DfError extends Error {
  /** HTTP status of the response. */
  readonly status: number;
  /** The envelope's `code` (the status, 1000 for batch errors, a SQLSTATE string for SQL errors). */
  readonly code: number | string;
  /** The envelope's `context` (null unless validation, batch or limit data). */
  readonly context: unknown;
  /** Short shape `{code,message}` without `context`/`status_code`, as DF gives non-DF exceptions. */
  readonly short: boolean;
  /** Laravel's own bare `{"message":"Server Error"}`, as DF answers PHP errors it does not map. */
  readonly bare: boolean;

  constructor(
    status: number,
    message: string,
    options: { context?: unknown; code?: number | string; short?: boolean; bare?: boolean } = {},
  ) {
    super(message);
    this.name = "DfError";
    this.status = status;
    this.code = options.code ?? status;
    this.context = options.context ?? null;
    this.short = options.short ?? false;
    this.bare = options.bare ?? false;
  }

  /** The body DreamFactory would send for this error. */
  toBody(): Record<string, unknown> {
    if (this.bare) return { message: this.message };
    const message = htmlEntities(this.message);
    if (this.short) return { error: { code: this.code, message } };
    return {
      error: { code: this.code, context: this.context, message, status_code: this.status },
    };
  }

  /** The inner error object as it appears inside a batch error's `context.resource`. */
  toBatchEntry(): Record<string, unknown> {
    const body = this.toBody();
    return (body.error as Record<string, unknown> | undefined) ?? body;
  }
}

/**
 * Rethrows a filter module error as the answer DreamFactory gives: its own 400s; database errors
 * as a 500 in the short shape; PHP errors (a filter of spaces, `()`) as Laravel's bare 500.
 * Anything else is rethrown as is.
 */
export function rethrowFilterError(e: unknown): never {
  if (e instanceof FilterError) {
    if (e.short) throw new DfError(e.status, "Server Error", { bare: true });
    throw new DfError(e.status, e.message, e.sqlError ? { short: true } : {});
  }
  throw e;
}

/** Verb words DreamFactory uses in "Batch Error: Not all requested records could be <verb>." */
export type BatchVerb = "created" | "updated" | "deleted" | "retrieved";

/**
 * DreamFactory's batch error (code 1000, HTTP 400): `context.error` lists the failed indexes and
 * `context.resource` holds, per processed index, the normal result or the error entry.
 */
export function batchError(
  verb: BatchVerb,
  failed: number[],
  resource: unknown[],
  rolledBack = false,
): DfError {
  let message = `Batch Error: Not all requested records could be ${verb}.`;
  if (rolledBack) message += " All changes rolled back.";
  return new DfError(400, message, { code: 1000, context: { error: failed, resource } });
}

/**
 * The 400 of a failed model validation (Validatable::validate): "Invalid data supplied." and
 * every message, in the rules' order, with `context` holding the messages by field.
 */
export function invalidData(context: Record<string, string[]>): DfError {
  return new DfError(400, `Invalid data supplied. ${Object.values(context).flat().join(" ")}`, {
    context,
  });
}

/** Turns anything thrown into a DfError (unknown errors become a 500 "Server Error"-style error). */
export function toDfError(e: unknown): DfError {
  if (e instanceof DfError) return e;
  const message = e instanceof Error ? e.message : String(e);
  return new DfError(500, message);
}

/** A JSON response the way DreamFactory sends it. */
export function json(body: unknown, status = 200, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  h.set("Content-Type", "application/json");
  h.set("Cache-Control", "no-cache, private");
  return new Response(JSON.stringify(body), { status, headers: h });
}

/** The error response for anything thrown while handling a request. */
export function errorResponse(e: unknown): Response {
  const err = toDfError(e);
  return json(err.toBody(), err.status);
}

const NAMED_ENTITIES: Record<number, string> = {
  160: "nbsp",
  161: "iexcl",
  162: "cent",
  163: "pound",
  164: "curren",
  165: "yen",
  166: "brvbar",
  167: "sect",
  168: "uml",
  169: "copy",
  170: "ordf",
  171: "laquo",
  172: "not",
  173: "shy",
  174: "reg",
  175: "macr",
  176: "deg",
  177: "plusmn",
  178: "sup2",
  179: "sup3",
  180: "acute",
  181: "micro",
  182: "para",
  183: "middot",
  184: "cedil",
  185: "sup1",
  186: "ordm",
  187: "raquo",
  188: "frac14",
  189: "frac12",
  190: "frac34",
  191: "iquest",
  192: "Agrave",
  193: "Aacute",
  194: "Acirc",
  195: "Atilde",
  196: "Auml",
  197: "Aring",
  198: "AElig",
  199: "Ccedil",
  200: "Egrave",
  201: "Eacute",
  202: "Ecirc",
  203: "Euml",
  204: "Igrave",
  205: "Iacute",
  206: "Icirc",
  207: "Iuml",
  208: "ETH",
  209: "Ntilde",
  210: "Ograve",
  211: "Oacute",
  212: "Ocirc",
  213: "Otilde",
  214: "Ouml",
  215: "times",
  216: "Oslash",
  217: "Ugrave",
  218: "Uacute",
  219: "Ucirc",
  220: "Uuml",
  221: "Yacute",
  222: "THORN",
  223: "szlig",
  224: "agrave",
  225: "aacute",
  226: "acirc",
  227: "atilde",
  228: "auml",
  229: "aring",
  230: "aelig",
  231: "ccedil",
  232: "egrave",
  233: "eacute",
  234: "ecirc",
  235: "euml",
  236: "igrave",
  237: "iacute",
  238: "icirc",
  239: "iuml",
  240: "eth",
  241: "ntilde",
  242: "ograve",
  243: "oacute",
  244: "ocirc",
  245: "otilde",
  246: "ouml",
  247: "divide",
  248: "oslash",
  249: "ugrave",
  250: "uacute",
  251: "ucirc",
  252: "uuml",
  253: "yacute",
  254: "thorn",
  255: "yuml",
  338: "OElig",
  339: "oelig",
  352: "Scaron",
  353: "scaron",
  376: "Yuml",
  402: "fnof",
  710: "circ",
  732: "tilde",
  8211: "ndash",
  8212: "mdash",
  8216: "lsquo",
  8217: "rsquo",
  8218: "sbquo",
  8220: "ldquo",
  8221: "rdquo",
  8222: "bdquo",
  8224: "dagger",
  8225: "Dagger",
  8226: "bull",
  8230: "hellip",
  8240: "permil",
  8364: "euro",
  8482: "trade",
};

/**
 * PHP's `htmlentities($s, ENT_COMPAT)` as DreamFactory applies it to error messages: `&`, `"`,
 * `<`, `>` and characters with a named HTML 4 entity are encoded; single quotes are not.
 */
export function htmlEntities(s: string): string {
  let out = "";
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === "&") out += "&amp;";
    else if (ch === '"') out += "&quot;";
    else if (ch === "<") out += "&lt;";
    else if (ch === ">") out += "&gt;";
    else if (cp >= 160 && NAMED_ENTITIES[cp]) out += `&${NAMED_ENTITIES[cp]};`;
    else out += ch;
  }
  return out;
}

/**
 * PHP's `empty()`, what DreamFactory treats as "not given": undefined, null, false, 0, "", "0",
 * and an empty list or object (a decoded JSON object is a PHP array).
 */
export function phpEmpty(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "" || v === "0") return true;
  return typeof v === "object" && Object.keys(v).length === 0;
}

/** DreamFactory's reading of a boolean option: `true/1/yes/on/y/t`, case-insensitive. */
export function toBool(v: unknown): boolean {
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v !== "string") return false;
  return ["true", "1", "yes", "on", "y", "t"].includes(v.trim().toLowerCase());
}

/**
 * Parses a request body as DreamFactory does for JSON: malformed JSON is silently an empty
 * payload (undefined), as is an empty body. Form-encoded bodies become an object of fields.
 * A JSON body sent as JSON (`Content-Type` containing `/json` or `+json`) and a form body are
 * cleaned by Laravel's global middleware ({@link laravelClean}); DreamFactory reads the payload
 * through `Request::json()`/`input()`, which see the cleaned values. A JSON body sent without a
 * JSON content type is decoded later from the raw content and reaches DreamFactory uncleaned.
 */
export async function readPayload(req: Request): Promise<unknown> {
  const text = await req.text();
  if (!text.trim()) return undefined;
  const type = req.headers.get("content-type") ?? "";
  if (type.includes("x-www-form-urlencoded")) {
    return laravelClean(Object.fromEntries(new URLSearchParams(text)));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return type.includes("/json") || type.includes("+json") ? laravelClean(parsed) : parsed;
}

/**
 * A request URL whose query parameters are cleaned as Laravel's TrimStrings middleware leaves
 * `Request::query()`: values trimmed (except `password` and the like). ConvertEmptyStringsToNull
 * then makes an empty value null; a query string cannot hold null, so it stays "", which every
 * reader of the sandbox takes as PHP takes that null (no value).
 */
export function cleanQuery(url: URL): URL {
  const params = new URLSearchParams();
  let changed = false;
  for (const [k, v] of url.searchParams) {
    const c = trimmedUnlessExcepted(k, v);
    changed ||= c !== v;
    params.append(k, c);
  }
  if (!changed) return url;
  const out = new URL(url);
  out.search = params.toString();
  return out;
}

/** The 400 DreamFactory answers when a collection write carries no records. */
export const NO_RECORDS_MESSAGE =
  `No record(s) detected in request. Please make sure record(s) are wrapped in a 'resource' tag. Example: {"resource":[{"record":1},{"record":2}]}`;

/**
 * The records of a collection write: `body.resource` when it is an array, else the body itself
 * when it is an array; a single bare object is not accepted (400).
 */
export function recordsOf(payload: unknown): Record<string, unknown>[] {
  if (Array.isArray(payload)) return payload as Record<string, unknown>[];
  if (payload && typeof payload === "object") {
    const r = (payload as Record<string, unknown>).resource;
    if (Array.isArray(r)) return r as Record<string, unknown>[];
  }
  throw new DfError(400, NO_RECORDS_MESSAGE);
}

/**
 * ResourcesWrapper::unwrapResources: an empty or non-array payload as it is, else its `resource`,
 * else the payload when it is a list, else nothing (`[]`): a bare object holds no records.
 */
export function unwrapResources(payload: unknown): unknown {
  if (phpEmpty(payload) || typeof payload !== "object") return payload;
  if (Array.isArray(payload)) return payload;
  const wrapper = payload as Record<string, unknown>;
  return "resource" in wrapper ? wrapper.resource : [];
}

/** Wraps a list in DreamFactory's `resource` envelope, with `meta` beside it when given. */
export function wrap(list: unknown[], meta?: Record<string, unknown>): Record<string, unknown> {
  return meta ? { resource: list, meta } : { resource: list };
}

/** Date format of system timestamps: `YYYY-MM-DDTHH:MM:SS.ffffffZ` (Laravel's serialisation). */
export function isoMicro(d: Date = new Date()): string {
  // DreamFactory stores whole seconds, so the microseconds are always zero.
  return d.toISOString().slice(0, 19) + ".000000Z";
}

/** Date format of `last_login_date` and session dates: `YYYY-MM-DD HH:MM:SS` (UTC). */
export function sqlDateTime(d: Date = new Date()): string {
  return d.toISOString().slice(0, 19).replace("T", " ");
}
